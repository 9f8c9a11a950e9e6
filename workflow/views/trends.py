"""Trends for the statistics page: per-unit scores and clock misses month over month, items by source and by
platform over time, and step times in the unit that reads best (minutes or hours). Pure reads, plain data.

A month with no item reported and no deduction is empty: its score is None (not the full score), so a chart can
say "该时段还没有数据" instead of drawing every unit at 100.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, SQLColumnExpression, String, case, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from core.clock import LOCAL_TZ, local
from core.config import Config
from models import Item, ItemLink, ItemUnit, Unit
from models.clock import Clock
from models.item import SOURCES
from models.state import ClockState
from workflow.appraisal.assessment import SCORED_KINDS, duty, facts
from workflow.appraisal.bulletin import rule_sets

EMPTY = "该时段还没有数据"
MONTHS = 12
NO_LINK = "无链接"
OTHER = "其他网站"
PLATFORMS = (  # host ending → platform as people name it
    (("weibo.com", "weibo.cn"), "微博"),
    (("douyin.com", "iesdouyin.com"), "抖音"),
    (("kuaishou.com", "gifshow.com"), "快手"),
    (("mp.weixin.qq.com", "weixin.qq.com"), "微信"),
    (("xiaohongshu.com", "xhslink.com"), "小红书"),
    (("bilibili.com", "b23.tv"), "哔哩哔哩"),
    (("zhihu.com",), "知乎"),
    (("toutiao.com",), "今日头条"),
    (("tieba.baidu.com",), "百度贴吧"),
    (("12345.gov.cn", "gov.cn"), "政务平台"),
)


@dataclass(frozen=True)
class Month:
    """One Beijing-time month: "2026-11", its label "11月", its year ("2026年") where a chart names it (each
    January, and the first month shown unless a January follows at once), and its bounds (in UTC)."""

    key: str
    label: str
    year: str
    start: datetime
    end: datetime


def months(now: datetime, n: int = MONTHS) -> list[Month]:
    """The n months ending with now's month (Beijing time), oldest first."""
    t = local(now)
    out = []
    year, mon = t.year, t.month
    for _ in range(n):
        start = datetime(year, mon, 1, tzinfo=LOCAL_TZ)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL_TZ)
        out.append((year, mon, start, end))
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    out.reverse()
    return [
        Month(
            f"{y:04d}-{m:02d}",
            f"{m}月",
            f"{y}年" if (m == 1 or (i == 0 and m != 12)) else "",
            s.astimezone(UTC),
            e.astimezone(UTC),
        )
        for i, (y, m, s, e) in enumerate(out)
    ]


@lru_cache(maxsize=4096)
def _host_platform(host: str) -> str:
    for ends, name in PLATFORMS:
        if any(host == e or host.endswith("." + e) for e in ends):
            return name
    return OTHER


def platform(url: str) -> str:
    """The platform a link is on (微博, 抖音 …), else 其他网站."""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return OTHER
    return _host_platform(host.lower())


class Buckets:
    """Which month of a span a time falls in, by the months' UTC bounds (no per-row time zone work)."""

    def __init__(self, span: list[Month]) -> None:
        self.starts, self.end = [m.start for m in span], span[-1].end

    def of(self, at: datetime) -> int | None:
        """The index of the month at falls in, or None outside."""
        i = bisect_right(self.starts, at) - 1
        return i if i >= 0 and at < self.end else None


def _in_span(span: list[Month], units: list[int] | None) -> list[ColumnElement[bool]]:
    """The conditions on Item that it was reported in span (and is one of units' items, when given)."""
    conds = [Item.reported_at >= span[0].start, Item.reported_at < span[-1].end]
    if units is not None:
        conds.append(Item.id.in_(select(ItemUnit.item_id).where(ItemUnit.unit_id.in_(units))))
    return conds


def month_of(span: list[Month]) -> ColumnElement[int]:
    """The index of the span's month Item.reported_at falls in, as SQL (for items already known to be in span)."""
    return case(*((Item.reported_at < m.end, i) for i, m in enumerate(span[:-1])), else_=len(span) - 1)


def netloc_of(dialect: str, url: SQLColumnExpression[str]) -> ColumnElement[str]:
    """A link's network location as SQL, as urlsplit reads it (see platform): after a leading "//" or the scheme's
    "://" ("" when "//" comes later; the whole link without any), up to the path, query or fragment."""
    pos = func.strpos(url, "//") if dialect == "postgresql" else func.instr(url, "//")
    after = case(
        (url.is_(None), null()),
        (pos == 0, url),
        (or_(pos == 1, func.substr(url, pos - 1, 1) == ":"), func.substr(url, pos + 2)),
        else_="",
    )
    ends = func.replace(func.replace(after, "?", "/", type_=String), "#", "/", type_=String).concat("/")
    stop = func.strpos(ends, "/") if dialect == "postgresql" else func.instr(ends, "/")
    return func.substr(after, 1, stop - 1)


def _series(counts: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Named monthly counts, largest total first."""
    rows = [{"name": k, "values": v, "total": sum(v)} for k, v in counts.items()]
    return sorted(rows, key=lambda r: (-r["total"], r["name"]))


def by_source(session: Session, span: list[Month], units: list[int] | None = None) -> dict[str, list[int]]:
    """Items reported each month (of units, when given) by source as people name it: one grouping query."""
    month = month_of(span)
    stmt = select(month, Item.source, func.count()).where(*_in_span(span, units)).group_by(month, Item.source)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    for i, src, n in session.execute(stmt):
        out[SOURCES.get(src, src)][int(i)] += int(n)
    return out


def by_platform(session: Session, span: list[Month], units: list[int] | None = None) -> dict[str, list[int]]:
    """Items reported each month (of units, when given) by the platform of their first link (无链接 without one):
    grouped in SQL by month and the link's network location (a few rows per month), each named by platform."""
    dialect = session.get_bind().dialect.name
    link = aliased(ItemLink)
    month = month_of(span).label("month")
    netloc = netloc_of(dialect, link.url).label("netloc")
    rows = select(month, netloc).select_from(Item)
    if dialect == "postgresql":  # one pass over the links (hashed), not a probe per item
        firsts = select(func.min(ItemLink.id).label("id")).group_by(ItemLink.item_id).subquery()
        rows = rows.outerjoin(firsts.join(link, link.id == firsts.c.id), link.item_id == Item.id)
    else:  # SQLite probes each item's links through their index
        first = select(func.min(ItemLink.id)).where(ItemLink.item_id == Item.id).correlate(Item).scalar_subquery()
        rows = rows.outerjoin(link, link.id == first)
    rows = rows.where(*_in_span(span, units))
    grouped = rows.subquery()
    stmt = select(grouped.c.month, grouped.c.netloc, func.count()).group_by(grouped.c.month, grouped.c.netloc)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    for i, where, n in session.execute(stmt):
        out[NO_LINK if where is None else platform("//" + where)][int(i)] += int(n)
    return out


def by_source_and_platform(session: Session, span: list[Month], units: list[int] | None = None) -> dict[str, Any]:
    """Items reported each month (of units, when given), by source and by platform (the first link's; 无链接
    without one): one grouping query each."""
    source = by_source(session, span, units)
    place = by_platform(session, span, units)
    total = [sum(v[i] for v in source.values()) for i in range(len(span))]
    return {"total": total, "by_source": _series(source), "by_platform": _series(place)}


def _misses(session: Session, span: list[Month], ids: list[int]) -> dict[int, list[int]]:
    """Clocks each unit let pass their due (missed, or met late), by the month of the due; the 交办's own delays
    (charged to the office) are not the unit's."""
    q = select(Clock.owner_unit_id, Clock.due_at).where(
        Clock.owner_unit_id.in_(ids),
        Clock.due_at >= span[0].start,
        Clock.due_at < span[-1].end,
        Clock.state.in_((ClockState.missed, ClockState.met_late)),
        Clock.charged.is_(None),
    )
    out: dict[int, list[int]] = {u: [0] * len(span) for u in ids}
    buckets = Buckets(span)
    for unit_id, due in session.execute(q):
        if (i := buckets.of(due)) is not None and unit_id is not None:
            out[unit_id][i] += 1
    return out


def units_by_month(
    session: Session, config: Config, span: list[Month], items_total: list[int], unit_key: str | None = None
) -> list[dict[str, Any]]:
    """Each scored unit's score and misses per month (score None in a month without data)."""
    units = list(session.scalars(select(Unit).where(Unit.kind.in_(SCORED_KINDS)).order_by(Unit.id)))
    units = [u for u in units if unit_key is None or u.key == unit_key]
    ids = [u.id for u in units]
    scores: dict[int, list[float | None]] = {u: [None] * len(span) for u in ids}
    for i, m in enumerate(span):
        sets = rule_sets(session, config, m.key)
        rows = facts(session, m.start, m.end, sets, ids) + duty(session, m.start, m.end, sets, ids)[1]
        if not rows and not items_total[i]:
            continue
        lost: dict[int, float] = defaultdict(float)
        for r in rows:
            lost[r.unit_id] += r.points
        for u in ids:
            scores[u][i] = round(sets[-1].base + lost[u], 2)
    missed = _misses(session, span, ids)
    return [{"key": u.key, "name": u.name, "scores": scores[u.id], "misses": missed[u.id]} for u in units]


def scale(seconds: list[float | None]) -> tuple[str, float]:
    """The unit step times read best in: (分钟, 60) when the longest is under two hours, (小时, 3600) under three
    days, else (天, 86400)."""
    top = max((s for s in seconds if s is not None), default=0.0)
    if top < 2 * 3600:
        return "分钟", 60.0
    if top < 3 * 86400:
        return "小时", 3600.0
    return "天", 86400.0


def number(value: float) -> str:
    """A figure as people read it on a chart: 12, 3.5, 0.8, <0.1 (never 0.005)."""
    if 0 < value < 0.05:
        return "<0.1"
    return f"{value:.1f}".removesuffix(".0")


def step_times(raw: dict[str, Any]) -> dict[str, Any]:
    """The bulletin's step times (seconds, workflow.appraisal.bulletin.times) in the unit that fits: minutes when
    every step takes under two hours, else hours (days beyond three); empty when no item took any step."""
    unit, per = scale([t["p90"] for t in raw.values()] + [t["median"] for t in raw.values()])
    rows = []
    for t in raw.values():
        med = None if t["median"] is None else t["median"] / per
        p90 = None if t["p90"] is None else t["p90"] / per
        rows.append({"label": t["label"], "n": t["n"], "median": med, "p90": p90})
    return {"unit": unit, "rows": rows, "empty": not any(r["n"] for r in rows)}


def build(session: Session, config: Config, now: datetime, unit_key: str | None = None) -> dict[str, Any]:
    """The 12 months to now's: items by source and platform, each unit's score and misses (of one unit if given)."""
    span = months(now)
    unit = session.scalar(select(Unit).where(Unit.key == unit_key)) if unit_key else None
    items = by_source_and_platform(session, span, [unit.id] if unit is not None else None)
    units = units_by_month(session, config, span, items["total"], unit_key)
    empty = not any(items["total"]) and all(s is None for u in units for s in u["scores"])
    return {
        "months": [m.label for m in span],
        "years": [m.year for m in span],
        "keys": [m.key for m in span],
        **items,
        "units": units,
        "empty": empty,
    }
