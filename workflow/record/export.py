"""`liaowang export items`: every item reported in a period with its clocks (due, met, lateness, extension, waiver)
and its assessment facts, as CSV or xlsx."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.cells import csv_bytes, xlsx_bytes
from core.clock import LOCAL_TZ, local, show
from core.dates import in_range, refuse_range
from models import Item, ItemUnit, Unit
from models.assessment import ROLES
from models.clock import Clock, Extension
from models.item import GRADE_NAMES, SOURCES
from models.state import CLOCK_STATE_NAMES, ClockState
from workflow.appraisal.assessment import facts
from workflow.appraisal.bulletin import rule_sets

COLUMNS = [
    "编号", "标题", "来源", "等级", "状态", "上报时间", "主办单位", "时限", "应完成", "完成时间", "时限状态",
    "超时（分钟）", "延期次数", "已免除", "扣分事项",
]  # fmt: skip


def period(start: str, end: str) -> tuple[datetime, datetime]:
    """Return UTC bounds for Beijing-time dates start..end inclusive; refuse a malformed or reversed period."""
    from workflow.engine.errors import Refusal

    try:
        a, b = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise Refusal(f"日期写成 2026-11-01 这样的年-月-日（现在是 {start} 和 {end}）。") from None
    if not (in_range(a) and in_range(b)):
        raise Refusal(refuse_range(start if not in_range(a) else end))
    if b < a:
        raise Refusal(f"结束日期 {end} 早于开始日期 {start}。")
    lo = datetime.combine(a, time(0), LOCAL_TZ)
    hi = datetime.combine(b + timedelta(days=1), time(0), LOCAL_TZ)
    return lo, hi


def _minutes(c: Clock, now: datetime) -> float | None:
    if c.state == ClockState.met_late and c.met_at:
        return round((c.met_at - c.due_at).total_seconds() / 60, 1)
    if c.state == ClockState.missed:
        return round((now - c.due_at).total_seconds() / 60, 1)
    return None


def rows(session: Session, config: Any, lo: datetime, hi: datetime, now: datetime) -> list[dict[str, Any]]:
    """One row per clock of every item reported in [lo, hi) (an item without clocks has one row)."""
    items = list(session.scalars(select(Item).where(Item.reported_at >= lo, Item.reported_at < hi).order_by(Item.id)))
    ids = [i.id for i in items]
    clocks: dict[int, list[Clock]] = defaultdict(list)
    leads: dict[int, str] = {}
    extended: dict[int, int] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for c in session.scalars(select(Clock).where(Clock.item_id.in_(chunk)).order_by(Clock.id)):
            clocks[c.item_id].append(c)
        q = select(ItemUnit.item_id, Unit.name).join(Unit).where(ItemUnit.item_id.in_(chunk), ItemUnit.part == "lead")
        leads.update({iid: name for iid, name in session.execute(q)})
        q2 = (
            select(Extension.clock_id, func.count())
            .join(Clock, Clock.id == Extension.clock_id)
            .where(Clock.item_id.in_(chunk), Extension.state == "approved")
            .group_by(Extension.clock_id)
        )
        extended.update({cid: int(n) for cid, n in session.execute(q2)})
    by_item: dict[int, list[str]] = defaultdict(list)
    month_sets = rule_sets(session, config, show(now, form="month"))
    for f in facts(session, lo - timedelta(days=62), hi + timedelta(days=62), month_sets):
        if f.item_id in set(ids):
            by_item[f.item_id].append(f"{f.key} {f.fact}（{ROLES[f.role]}）{f.points:g}")
    out = []
    for item in items:
        base = {
            "编号": item.code,
            "标题": item.title,
            "来源": SOURCES.get(item.source, item.source),
            "等级": GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定",  # type: ignore[call-overload]
            "状态": item.state_name,
            "上报时间": _cell_time(item.reported_at),
            "主办单位": leads.get(item.id, ""),
            "扣分事项": "；".join(by_item.get(item.id, [])),
        }
        for c in clocks.get(item.id) or [None]:  # type: ignore[list-item]
            row = dict(base)
            if c is not None:
                row.update(
                    {
                        "时限": c.label,
                        "应完成": _cell_time(c.due_at),
                        "完成时间": _cell_time(c.met_at),
                        "时限状态": CLOCK_STATE_NAMES[c.state],
                        "超时（分钟）": _minutes(c, now),
                        "延期次数": extended.get(c.id, 0),
                        "已免除": "是" if c.state == ClockState.waived else "",
                    }
                )
            out.append({k: row.get(k, "") for k in COLUMNS})
    return out


def to_csv(table: list[dict[str, Any]]) -> bytes:
    """CSV with a BOM so Excel opens the Chinese correctly; cells are formula-safe (core.cells)."""
    return csv_bytes(COLUMNS, ([r[k] for k in COLUMNS] for r in table))


def to_xlsx(table: list[dict[str, Any]], title: str = "") -> bytes:
    """One print-ready sheet 条目与时限 under title (core.cells.xlsx_bytes); cells are formula-safe."""
    return xlsx_bytes({"条目与时限": (COLUMNS, ([r[k] for k in COLUMNS] for r in table))}, title)


def title(start: str, end: str, office: str, now: datetime) -> str:
    """The title row: 条目与时限（2026-11-01至2026-11-30）　舆情工作领导小组办公室　制表：2026年12月1日 09:00."""
    return f"条目与时限（{start}至{end}）　{office}　制表：{show(now, form='long')}"


def _cell_time(at: datetime | None) -> datetime | None:
    """A time as a spreadsheet date-time cell: Beijing time without a zone (Excel has none)."""
    return local(at).replace(tzinfo=None) if at is not None else None
