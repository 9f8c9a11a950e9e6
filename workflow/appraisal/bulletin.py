"""The monthly bulletin (月考核通报): units ranked by score, each deduction, item counts and step times.

`figures` returns the one JSON-able object every form is drawn from (chat, CLI, xlsx, chart, statistics page).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from core.clock import local, show
from core.config import Config
from core.scoring import RuleSet, parse_scoring, rule_set_from
from core.storage import store
from models import AuditEvent, Dispute, Item, ItemUnit, Role, Unit
from models.assessment import Bulletin
from models.clock import Clock, Extension
from models.clocktable import named_in_bulletin
from models.events import Event
from models.item import FLOW_NAMES, GRADE_NAMES, SOURCES
from models.procedure import Act
from models.state import ClockState
from workflow.appraisal import bulletin_files, notice
from workflow.appraisal.assessment import (
    SCORED_KINDS,
    FactRow,
    duty,
    facts,
    month_name,
    month_range,
    previous_month,
)
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.people import org

STEPS: dict[str, tuple[str, str, str]] = {  # name: (from, to, what people read); "reported" is the item's report time
    "report_to_dispatch": ("reported", Act.dispatch, "上报→交办"),
    "dispatch_to_ack": (Act.dispatch, Act.acknowledge, "交办→签收"),
    "dispatch_to_first_report": (Act.dispatch, Act.first_report, "交办→首报"),
    "dispatch_to_written_report": (Act.dispatch, Act.written_report, "交办→书面报告"),
    "written_report_to_approval": (Act.written_report, Act.approve, "书面报告→批准"),
    "report_to_reply": ("reported", Act.reply_source, "上报→回复来源"),
}


def rule_sets(session: Session, config: Config, month: str) -> tuple[RuleSet, ...]:
    """The rules a month is scored with: those stored when its bulletin was sent, else the configured ones."""
    stored = session.get(Bulletin, month)
    if stored is not None and stored.rules.get("sets"):
        return tuple(rule_set_from(s) for s in stored.rules["sets"])
    return parse_scoring(config.raw.get("scoring"))


def figures(session: Session, config: Config, month: str, now: datetime, unit_key: str | None = None) -> dict[str, Any]:
    """Return the month's bulletin as one object (the shape `liaowang bulletin --format json` prints)."""
    start, end = month_range(month, now)  # refuses a malformed or future month first
    month = month_name(month)
    fig = period_figures(session, rule_sets(session, config, month), start, end, unit_key)
    partial = {"as_of": show(now, True)} if end > now else {}  # the month is not over: figures so far
    return {"month": month, **partial, **fig}


def period_figures(
    session: Session, sets: tuple[RuleSet, ...], start: datetime, end: datetime, unit_key: str | None = None
) -> dict[str, Any]:
    """The bulletin's figures for any period [start, end), for every scored unit or one."""
    units = list(session.scalars(select(Unit).where(Unit.kind.in_(SCORED_KINDS)).order_by(Unit.id)))
    if unit_key is not None:
        units = [u for u in units if u.key == unit_key]
        if not units:
            raise Refusal(f"没有单位“{unit_key}”（或它不参加考核）。")
    ids = [u.id for u in units]
    rows = facts(session, start, end, sets, ids)
    team, duty_rows = duty(session, start, end, sets, ids)
    rows += duty_rows
    base = sets[-1].base
    by_unit: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit_id].append(r)
    ranked = []
    for u in units:
        mine = by_unit.get(u.id, [])
        score = base + sum(r.points for r in mine)
        ranked.append(
            {
                "key": u.key,
                "name": u.name,
                "score": round(score, 2),
                "duty": team[u.id],
                "deductions": [
                    {
                        "key": r.key,
                        "item": r.item,
                        "fact": r.fact,
                        "role": r.role,
                        "points": r.points,
                        "state": r.state,
                        "at": r.at.astimezone(UTC).isoformat(),
                        "detail": r.detail,
                    }
                    for r in mine
                ],
            }
        )
    ranked.sort(key=lambda u: (-u["score"], u["key"]))
    for i, row in enumerate(ranked):
        row["rank"] = 1 + sum(1 for v in ranked[:i] if v["score"] > row["score"])
    return {
        "base": base,
        "units": ranked,
        "items": counts(session, start, end, ids if unit_key else None),
        "times": times(session, start, end, ids if unit_key else None),
        "named": named_for_reply(session, start, end),
    }


def scored_units(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every unit that is assessed, for choosing one."""
    return [(u.key, u.name) for u in session.scalars(select(Unit).where(Unit.kind.in_(SCORED_KINDS)).order_by(Unit.id))]


def _items_in(start: datetime, end: datetime, units: list[int] | None) -> Any:
    q = select(Item.id).where(Item.reported_at >= start, Item.reported_at < end)
    if units is not None:
        q = q.where(Item.id.in_(select(ItemUnit.item_id).where(ItemUnit.unit_id.in_(units))))
    return q


def counts(session: Session, start: datetime, end: datetime, units: list[int] | None = None) -> dict[str, Any]:
    """Items reported in the period by grade, source and flow (one pass over the period's items)."""
    ids = _items_in(start, end, units).subquery()
    out: dict[str, Any] = {"total": 0, "by_grade": {}, "by_source": {}, "by_flow": {}}
    labels: tuple[tuple[str, dict[str, str]], ...] = (
        ("by_grade", {str(k): v for k, v in GRADE_NAMES.items()}),
        ("by_source", SOURCES),
        ("by_flow", FLOW_NAMES),
    )
    q = (
        select(Item.grade, Item.source, Item.flow, func.count())
        .where(Item.id.in_(select(ids.c.id)))
        .group_by(Item.grade, Item.source, Item.flow)
    )
    raw: list[dict[Any, int]] = [defaultdict(int) for _ in labels]
    for *values, n in session.execute(q):
        for value, tally in zip(values, raw, strict=True):
            tally[value] += int(n)
    for tally, (name, names) in zip(raw, labels, strict=True):  # in the order of the stored values, as GROUP BY gave
        for value in sorted(tally, key=lambda v: (v is not None, v or "")):
            label = names.get(value, value) if value else "未定"
            out[name][label] = out[name].get(label, 0) + tally[value]
    out["total"] = sum(out["by_grade"].values())
    return out


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _epoch(session: Session, col: Any) -> Any:
    """Seconds since 1970 of a timestamp column, computed by the database (no per-row datetime objects)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", col), Float)  # numeric otherwise: a Decimal per value
    return (func.julianday(col) - 2440587.5) * 86400.0  # SQLite stores UTC text


def times(session: Session, start: datetime, end: datetime, units: list[int] | None = None) -> dict[str, Any]:
    """Median and p90 seconds of each step for items reported in the period (steps not yet taken are left out).

    One row per item: its report time and the first time of each step, as epoch seconds from the database.
    """
    actions = sorted({a for f, t, _ in STEPS.values() for a in (f, t) if a != "reported"})
    ids = _items_in(start, end, units).subquery()
    # the first time of each step, converted to seconds once per item (SQLite compares its fixed-width UTC text)
    firsts = [_epoch(session, func.min(case((AuditEvent.action == a, AuditEvent.at)))).label(a) for a in actions]
    per_item = (
        select(AuditEvent.item_id.label("item_id"), *firsts)
        .where(AuditEvent.item_id.in_(select(ids.c.id)), AuditEvent.action.in_(actions))
        .group_by(AuditEvent.item_id)
        .subquery()
    )
    q = select(_epoch(session, Item.reported_at).label("reported"), *[per_item.c[a] for a in actions]).join(
        per_item, per_item.c.item_id == Item.id
    )
    if session.get_bind().dialect.name == "postgresql":
        return _percentiles_in_database(session, q.subquery())
    names = ["reported", *actions]
    rows = [tuple(r) for r in session.execute(q)]
    columns = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {n: () for n in names}
    out: dict[str, Any] = {}
    for name, (a, b, label) in STEPS.items():
        spans = sorted(
            y - x for x, y in zip(columns[a], columns[b], strict=True) if x is not None and y is not None and y >= x
        )
        out[name] = {
            "label": label,
            "n": len(spans),
            "median": round(_quantile(spans, 0.5)) if spans else None,
            "p90": round(_quantile(spans, 0.9)) if spans else None,
        }
    return out


def _percentiles_in_database(session: Session, per_item: Any) -> dict[str, Any]:
    """PostgreSQL: the same nearest-rank median and p90 (percentile_disc), computed where the rows are."""
    cols = []
    for name, (a, b, _label) in STEPS.items():
        span, ok = per_item.c[b] - per_item.c[a], per_item.c[b] >= per_item.c[a]
        cols += [
            func.count().filter(ok).label(f"{name}_n"),
            func.percentile_disc(0.5).within_group(span).filter(ok).label(f"{name}_median"),
            func.percentile_disc(0.9).within_group(span).filter(ok).label(f"{name}_p90"),
        ]
    row = session.execute(select(*cols)).one()._mapping
    return {
        name: {
            "label": label,
            "n": int(row[f"{name}_n"]),
            "median": round(row[f"{name}_median"]) if row[f"{name}_median"] is not None else None,
            "p90": round(row[f"{name}_p90"]) if row[f"{name}_p90"] is not None else None,
        }
        for name, (_a, _b, label) in STEPS.items()
    }


def named_for_reply(session: Session, start: datetime, end: datetime) -> list[dict[str, str]]:
    """Seed 004: the units whose clock named in the bulletin (the clock table: 留言答复) passed in the period without
    an extension asked or a waiver."""
    asked = select(Extension.clock_id)
    q = (
        select(Clock, Item.code)
        .join(Item, Item.id == Clock.item_id)
        .where(
            Clock.kind.in_(named_in_bulletin()),
            Clock.due_at >= start,
            Clock.due_at < end,
            Clock.state.in_((ClockState.met_late, ClockState.missed)),
            Clock.id.not_in(asked),
        )
    )
    out = []
    for c, code in session.execute(q):
        lead = session.scalar(
            select(Unit)
            .join(ItemUnit, ItemUnit.unit_id == Unit.id)
            .where(ItemUnit.item_id == c.item_id, ItemUnit.part == "lead")
        )
        out.append(
            {"item": code, "unit": lead.key if lead else "office", "name": lead.name if lead else "领导小组办公室"}
        )
    return out


def freeze(session: Session, config: Config, month: str, now: datetime) -> Bulletin:
    """Return the month's bulletin row, storing the rules it is scored with the first time (kept ever after)."""
    row = session.get(Bulletin, month)
    if row is None:
        sets = parse_scoring(config.raw.get("scoring"))
        row = Bulletin(month=month, rules={"sets": [s.as_dict() for s in sets]}, created_at=now, sends=0)
        session.add(row)
        session.flush()
    return row


def first_use(session: Session) -> datetime | None:
    """When Liaowang was first used: the first item reported or the first audit event, whichever is earlier."""
    times = [session.scalar(select(func.min(Item.reported_at))), session.scalar(select(func.min(AuditEvent.at)))]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def check_sendable(session: Session, month: str, now: datetime) -> None:
    """Refuse (in Chinese) to send a month that is not over yet or that ended before Liaowang was first used."""
    start, end = month_range(month, now)  # a malformed or future month is refused here
    y, m = month_name(month).split("-")
    if end > now:
        raise Refusal(
            f"{y} 年 {int(m)} 月还没有结束，考核通报要到月底之后才能发送（每月只发一次）。"
            f"现在可以不加 --send 查看截至目前的情况。"
        )
    first = first_use(session)
    if first is None or first >= end:
        since = f"（首次使用在 {local(first).year} 年 {local(first).month} 月）" if first else "（还没有任何使用记录）"
        raise Refusal(f"{y} 年 {int(m)} 月瞭望还没有启用{since}，没有可发送的考核通报。")


def send(session: Session, config: Config, month: str, now: datetime, actor: str = "system") -> bool:
    """Send a complete month's bulletin (at or after first use) to the leaders and the office (markdown, chart
    image, xlsx file, the 通报 as Word) once ever; return False if it was sent before (nothing is sent twice);
    refuse another month."""
    month = month_name(month)
    check_sendable(session, month, now)
    row = freeze(session, config, month, now)
    if row.sent_at is not None:
        return False
    fig = figures(session, config, month, now)
    to = org.userids([*org.with_role(session, Role.leader), *org.with_role(session, Role.office)])
    y, m = month.split("-")
    name = f"{y}年{int(m)}月舆情处置考核通报"
    link = f"[打开统计页面]({config.public_url}/h5/stats?month={month})"
    emit(
        session,
        to,
        {"msgtype": "markdown", "markdown": {"content": bulletin_files.markdown(fig, link)}},
        f"bulletin:{month}:md",
        now,
    )
    for key, kind, data, filename, ctype in (
        ("image", "image", bulletin_files.png(fig), f"{name}.png", "image/png"),
        ("file", "file", bulletin_files.xlsx(fig, workbook_title(config, fig, now)), f"{name}.xlsx", XLSX),
        ("docx", "file", notice.docx(fig, config, now), f"{notice.title(fig)}.docx", DOCX),
    ):
        _digest, rel = store(config.storage_dir, data)
        upload = {"path": rel, "filename": filename, "content_type": ctype, "media_id": None, "uploaded_at": None}
        emit(session, to, {"msgtype": kind, kind: {}, "upload": upload}, f"bulletin:{month}:{key}", now)
    row.sent_at, row.sends = now, row.sends + 1
    record(session, None, actor, Event.bulletin_sent, now, month=month, to=to)
    return True


def workbook_title(config: Config, fig: dict[str, Any], now: datetime) -> str:
    """The title row of the bulletin's workbook: the month, the office ([brief] sender), when it was made."""
    office = str(config.raw.get("brief", {}).get("sender", "舆情工作领导小组办公室"))
    return bulletin_files.sheet_title(fig, office, show(now, form="long"))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def due_month(config: Config, now: datetime) -> str | None:
    """The month whose bulletin is due by now (the previous month, from the configured day and time), else None."""
    raw = config.raw.get("bulletin", {})
    day, at = int(raw.get("day", 1)), str(raw.get("time", "09:00"))
    hh, mm = (int(x) for x in at.split(":"))
    t = local(now)
    if (t.day, t.hour, t.minute) < (day, hh, mm):
        return None
    return previous_month(now)


def disputable(session: Session, config: Config, unit_id: int, now: datetime, item_code: str = "") -> list[FactRow]:
    """The unit's facts of this month and last (迟报 …, and those the office recorded; only item_code's when given)
    never disputed: what a bare `申诉 <理由>` may mean, newest month first."""
    found: list[FactRow] = []
    for month in (show(now, form="month"), previous_month(now)):
        try:
            start, end = month_range(month, now)
        except Refusal:  # a month before the working calendar knows it
            continue
        rows = facts(session, start, end, rule_sets(session, config, month), [unit_id])
        found += [r for r in rows if not item_code or r.item == item_code]
    disputed = set(session.scalars(select(Dispute.fact_key).where(Dispute.fact_key.in_([r.key for r in found]))))
    return [r for r in found if r.key not in disputed]
