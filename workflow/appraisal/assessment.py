"""Assessment facts (考核): derived from the clocks, recorded by the office, disputed by units and decided.

A fact has a key people can type: "C<clock id>" for a late report or a handling report missed (derived from the
clock each time, so a waiver or an approved extension removes it), "F<id>" for what the office recorded.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import LOCAL_TZ, local, show
from core.dates import in_range, refuse_range
from core.durations import format_duration
from core.scoring import RuleSet, in_force
from models import Attachment, GuidedState, GuidedTask, Item, ItemUnit, Patrol, PatrolState, Person, Role, Unit
from models.assessment import RECORDED_KINDS, ROLES, Dispute, DisputeState, Fact
from models.clock import Clock
from models.clocktable import deductions
from models.codes import card_key
from models.duty import GuidedAssignment as GA
from models.procedure import Act
from models.state import CardPurpose, ClockState
from workflow.engine import procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.incident.submission import StoredFile
from workflow.people import org
from workflow.views import render

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
SCORED_KINDS = ("department", "county")  # the office and the general office are not assessed
FACT_KEY = re.compile(r"^([CF])(\d{1,12})$", re.IGNORECASE)


@dataclass
class FactRow:
    """One fact as the bulletin, the unit and the office read it."""

    key: str
    item_id: int
    item: str
    unit_id: int
    fact: str
    role: str
    grade: str | None
    at: datetime
    detail: str
    state: str = "upheld"
    points: float = 0.0


def month_range(month: str, now: datetime) -> tuple[datetime, datetime]:
    """Return the UTC bounds of a Beijing-time month "YYYY-MM"; refuse a malformed or future month."""
    m = MONTH.match(month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise Refusal(f"“{month}”不是月份，请写成 2026-11 这样的年-月。")
    year, mon = int(m.group(1)), int(m.group(2))
    if not in_range(date(year, mon, 1)):
        raise Refusal(refuse_range(month))
    start = datetime(year, mon, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL_TZ)
    if start > local(now):
        raise Refusal(f"{year} 年 {mon} 月还没有到，没有考核数据。")
    return start.astimezone(UTC), end.astimezone(UTC)


def month_name(month: str) -> str:
    """Normalise "2026-1" to "2026-01"."""
    y, m = month.strip().split("-")
    return f"{int(y):04d}-{int(m):02d}"


def previous_month(now: datetime) -> str:
    """The month before now's (Beijing time), as "YYYY-MM"."""
    first = local(now).date().replace(day=1)
    prev = first - timedelta(days=1)
    return show(datetime(prev.year, prev.month, 1, 12, tzinfo=LOCAL_TZ), form="month")


def derived(
    session: Session, start: datetime, end: datetime, units: list[int] | None = None, item_id: int | None = None
) -> list[FactRow]:
    """Late 首报/书面报告 (迟报) and handling reports (处置未报) whose due fell in [start, end), owed by a unit.

    A clock met in time, waived, or charged to the office (the dispatch was late) is no fact; an approved extension
    moved the due, so only a miss of the extended due counts.
    """
    charged_as = deductions()  # kind → the fact a miss counts as (models/clocktable.py)
    stmt = (
        select(
            Clock.id,
            Clock.item_id,
            Clock.owner_unit_id,
            Clock.kind,
            Clock.label,
            Clock.grade,
            Clock.state,
            Clock.due_at,
            Clock.met_at,
            Item.code,
        )  # fmt: skip
        .join(Item, Item.id == Clock.item_id)
        .where(
            Clock.state.in_((ClockState.met_late, ClockState.missed)),
            Clock.due_at >= start,
            Clock.due_at < end,
            Clock.kind.in_(list(charged_as)),
            Clock.owner_unit_id.is_not(None),
            Clock.charged.is_(None),
        )
    )
    if units is not None:
        stmt = stmt.where(Clock.owner_unit_id.in_(units))
    if item_id is not None:
        stmt = stmt.where(Clock.item_id == item_id)
    out = []
    for cid, item_id, unit_id, kind, label, grade, state, due, met, code in session.execute(stmt):
        assert unit_id is not None
        late = (met or end) - due if state == ClockState.met_late else None
        detail = f"{label}应于 {_show(due)} 完成" + (
            f"，迟了 {format_duration(late)}" if late is not None else "，截至统计时仍未完成"
        )
        out.append(FactRow(f"C{cid}", item_id, code, unit_id, charged_as[kind], "main", grade, due, detail))
    return out


def recorded(
    session: Session, start: datetime, end: datetime, units: list[int] | None = None, item_id: int | None = None
) -> list[FactRow]:
    """The facts the office recorded in [start, end)."""
    stmt = (
        select(Fact, Item.code, Item.grade).join(Item, Item.id == Fact.item_id).where(Fact.at >= start, Fact.at < end)
    )
    if units is not None:
        stmt = stmt.where(Fact.unit_id.in_(units))
    if item_id is not None:
        stmt = stmt.where(Fact.item_id == item_id)
    return [
        FactRow(
            f"F{f.id}",
            f.item_id,
            code,
            f.unit_id,
            f.kind,
            f.role,
            grade,
            f.at,
            f.reason + (f"（{f.evidence}）" if f.evidence else ""),
        )
        for f, code, grade in session.execute(stmt)
    ]


def facts(
    session: Session, start: datetime, end: datetime, sets: tuple[RuleSet, ...], units: list[int] | None = None
) -> list[FactRow]:
    """Every fact of the period with its dispute state and its points under the rules in force on its date."""
    rows = derived(session, start, end, units) + recorded(session, start, end, units)
    states = _dispute_states(session, [r.key for r in rows], units)
    for r in rows:
        r.state = states.get(r.key, "upheld")
        rules = in_force(sets, local(r.at).date())
        r.points = 0.0 if r.state == "withdrawn" else rules.points(r.fact, r.grade, r.role)
    rows.sort(key=lambda r: (r.at, r.key))
    return rows


DISPUTE_WORDS = {DisputeState.pending: "disputed", DisputeState.upheld: "upheld", DisputeState.withdrawn: "withdrawn"}


def _dispute_states(session: Session, keys: list[str], units: list[int] | None = None) -> dict[str, str]:
    """The state of each disputed fact among keys (facts never disputed are absent: they stand as upheld)."""
    if len(keys) <= 500:
        q = select(Dispute.fact_key, Dispute.state).where(Dispute.fact_key.in_(keys))
    else:  # a month's many facts: disputes are few, so read the units' disputes at once and pick
        q = select(Dispute.fact_key, Dispute.state)
        q = q.where(Dispute.unit_id.in_(units)) if units is not None else q
    wanted = set(keys)
    return {k: DISPUTE_WORDS[st] for k, st in session.execute(q) if k in wanted}


def pending_disputes(session: Session, item: Item) -> list[str]:
    """The keys of the item's facts whose dispute the office has not decided yet."""
    q = select(Dispute.fact_key).where(Dispute.item_id == item.id, Dispute.state == DisputeState.pending)
    return list(session.scalars(q.order_by(Dispute.id)))


def find_fact(session: Session, key: str, now: datetime) -> FactRow:
    """Return the fact a person typed (C12 / F3), or refuse."""
    m = FACT_KEY.match(key.strip())
    if not m:
        raise Refusal(f"“{key}”不是扣分事项编号。编号形如 C12 或 F3，可发送“考核”查看。")
    kind, num = m.group(1).upper(), int(m.group(2))
    if kind == "C":
        c = session.get(Clock, num)
        ok = c is not None and c.kind in deductions() and c.owner_unit_id and not c.charged
        ok = ok and c is not None and c.state in (ClockState.met_late, ClockState.missed)
        if not ok or c is None:
            raise Refusal(f"没有扣分事项 {kind}{num}（可能已免除或已延期）。")
        found = derived(session, c.due_at, c.due_at + timedelta(microseconds=1), [c.owner_unit_id or 0])
    else:
        f = session.get(Fact, num)
        if f is None:
            raise Refusal(f"没有扣分事项 {kind}{num}。")
        found = recorded(session, f.at, f.at + timedelta(microseconds=1), [f.unit_id])
    row = next(r for r in found if r.key == f"{kind}{num}")
    row.state = _dispute_states(session, [row.key]).get(row.key, "upheld")
    return row


def record_fact(
    session: Session,
    actor: Person,
    code: str,
    unit: Unit,
    kind: str,
    role: str,
    reason: str,
    evidence: str,
    at: datetime,
    file: StoredFile | None = None,
) -> Fact:
    """Record 漏报 / 瞒报 / 处置不当 against a unit that had a part in the item (office only); audited."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.record_fact, actor)
    if kind not in RECORDED_KINDS:
        raise Refusal(f"可以记录的事项是{'、'.join(RECORDED_KINDS)}；迟报和处置未报由时限自动认定。")
    if role not in ROLES:
        raise Refusal("责任写“主要”或“间接”。")
    if not reason.strip():
        raise Refusal("请写明理由，例如：记录 YQ-… 执法一队 漏报 主要 群众先于本单位发现并在网上扩散。")
    part = session.scalar(select(ItemUnit).where(ItemUnit.item_id == item.id, ItemUnit.unit_id == unit.id))
    if part is None:
        raise Refusal(f"{unit.name}没有参与 {item.code} 的处置，不能对它记录{kind}。")
    fact = Fact(
        item_id=item.id,
        unit_id=unit.id,
        kind=kind,
        role=role,
        reason=reason.strip()[:2000],
        evidence=evidence.strip()[:2000],
        recorded_by=actor.userid,
        at=at,
    )
    if file is not None:  # the evidence file (a screenshot, a PDF) kept like any attachment of the item
        att = Attachment(
            item_id=item.id, kind="evidence", sha256=file.sha256, stored_name=file.stored_name,
            content_type=file.content_type, size=file.size, original_name=file.original_name[:256],
            title=file.original_name[:256], uploader_id=actor.id, created_at=at,
        )  # fmt: skip
        session.add(att)
        session.flush()
        fact.attachment_id = att.id
    session.add(fact)
    session.flush()
    procedure.apply(
        session,
        item,
        Act.record_fact,
        actor,
        at,
        fact=f"F{fact.id}",
        kind=kind,
        role=role,
        unit=unit.key,
        reason=fact.reason,
    )
    _tell_recorded(session, item, unit, fact, actor, at)
    return fact


def _tell_recorded(session: Session, item: Item, unit: Unit, fact: Fact, actor: Person, at: datetime) -> None:
    """Tell the unit's leads what was recorded against them and how to dispute it."""
    leads = org.userids(org.unit_leads(session, unit))
    emit(
        session,
        leads,
        render.text(
            f"【考核扣分】办公室{actor.name}对{unit.name}记录了 F{fact.id}：{item.code} {fact.kind}"
            f"（{ROLES[fact.role]}），理由：{fact.reason[:200]}\n如有异议，请发送“申诉 F{fact.id} 理由”。"
        ),
        f"fact:{fact.id}:recorded",
        at,
        item,
    )


def dispute(session: Session, actor: Person, key: str, reason: str, at: datetime) -> tuple[Dispute, FactRow]:
    """File a unit's dispute (申诉) of one of its facts; one per fact, by a lead of that unit."""
    row = find_fact(session, key, at)
    item = session.get(Item, row.item_id)
    assert item is not None
    procedure.allowed(session, item, Act.fact_disputed, actor)  # an archived item's record never changes again
    if not actor.has(Role.unit_lead) or actor.unit_id != row.unit_id:
        raise Refusal(f"{row.key} 不是您所在单位的扣分事项，只有该单位负责人可以申诉。")
    if not reason.strip():
        raise Refusal(f"请写明申诉理由，例如：申诉 {row.key} 已于到期前电话报告办公室。")
    if session.scalar(select(Dispute.id).where(Dispute.fact_key == row.key)):
        raise Refusal(f"{row.key} 已经申诉过了，每项只能申诉一次，请等待办公室审定。")
    d = Dispute(
        fact_key=row.key, item_id=row.item_id, unit_id=row.unit_id, by=actor.userid, reason=reason.strip()[:2000], at=at
    )
    session.add(d)
    session.flush()
    procedure.apply(session, item, Act.fact_disputed, actor, at, fact=row.key, reason=d.reason)
    _ask_office(session, item, d, row, actor, at)
    return d, row


def _ask_office(session: Session, item: Item, d: Dispute, row: FactRow, actor: Person, at: datetime) -> None:
    """Send the office the dispute on a card: 维持 (uphold) / 撤销 (withdraw)."""
    office = org.userids(org.with_role(session, Role.office))
    unit = session.get(Unit, row.unit_id)
    task_id = f"dsp-{d.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.dispute, task_id, item.id, office, at, unit_id=row.unit_id, about=d.id)
    body = render.button_card(
        "瞭望 · 考核申诉",
        f"【申诉】{row.key} {row.fact}",
        item.code,
        f"{unit.name if unit else ''} {actor.name}：{d.reason[:120]}",
        [("事项", f"{row.fact}（{ROLES[row.role]}）"), ("说明", row.detail[:40]), ("条目", item.code)],
        task_id,
        [("维持", card_key("dsp", d.id, "keep"), 2), ("撤销", card_key("dsp", d.id, "drop"), 1)],
    )
    emit(session, office, body, f"card:{task_id}", at, item, task_id=task_id)


def tell_unit(session: Session, d: Dispute, actor: Person, at: datetime) -> None:
    """Tell the unit lead who disputed how the office decided."""
    item = session.get(Item, d.item_id)
    word = "维持" if d.state == DisputeState.upheld else "撤销"
    note = f"说明：{d.note}" if d.note else ""
    effect = "扣分照计。" if d.state == DisputeState.upheld else "不再扣分。"
    emit(
        session,
        [d.by],
        render.text(
            f"【申诉结果】您对 {d.fact_key}（{item.code if item else ''}）的申诉，"
            f"办公室{actor.name}决定{word}，{effect}{note}"
        ),
        f"dispute:{d.id}:decided",
        at,
        item,
    )


def decide(
    session: Session,
    actor: Person,
    dispute_id: int,
    uphold: bool,
    at: datetime,
    note: str = "",
    clicked: tuple[str, str] | None = None,
) -> tuple[Dispute, bool]:
    """The office upholds (维持) or withdraws (撤销) a disputed fact, once; return (dispute, changed now)."""
    d = session.get(Dispute, dispute_id)
    if d is None:
        raise Refusal("这份申诉不存在了。")
    item = session.get_one(Item, d.item_id)
    procedure.allowed(session, item, Act.decide_dispute, actor)
    if d.state != DisputeState.pending:
        return d, False
    d.state = DisputeState.upheld if uphold else DisputeState.withdrawn
    d.decided_by, d.decided_at, d.note = actor.userid, at, note[:2000] or None
    word = "维持" if uphold else "撤销"
    procedure.apply(
        session, item, Act.decide_dispute, actor, at, about=d.id, closing=f"{actor.name} 已{word}", clicked=clicked,
        fact=d.fact_key, decision=d.state.value,
    )  # fmt: skip
    tell_unit(session, d, actor, at)
    return d, True


def _show(at: datetime) -> str:
    return show(at, True)


def today(now: datetime) -> date:
    """The Beijing-time date of now."""
    return local(now).date()


def of_item(session: Session, item: Item, sets: tuple[RuleSet, ...]) -> list[FactRow]:
    """Every fact about one item (derived and recorded, any month), with states and points, for its page."""
    wide = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    rows = [r for r in derived(session, *wide, item_id=item.id) + recorded(session, *wide, item_id=item.id)]
    states = _dispute_states(session, [r.key for r in rows])
    for r in rows:
        r.state = states.get(r.key, "upheld")
        r.points = 0.0 if r.state == "withdrawn" else in_force(sets, local(r.at).date()).points(r.fact, r.grade, r.role)
    return sorted(rows, key=lambda r: (r.at, r.key))


def duty(
    session: Session, start: datetime, end: datetime, sets: tuple[RuleSet, ...], units: list[int]
) -> tuple[dict[int, dict[str, int]], list[FactRow]]:
    """The team's duty in [start, end) per unit: check-ins and guided replies owed and missed; plus a fact for each
    miss when a [scoring] rule gives 未巡查 / 未跟帖 points (none by default)."""
    from models import GuidedAssignment

    counts: dict[int, dict[str, int]] = {
        u: {"patrols": 0, "patrols_missed": 0, "guided": 0, "guided_missed": 0} for u in units
    }
    lo, hi = local(start).date().isoformat(), local(end).date().isoformat()
    rows: list[FactRow] = []
    patrols = session.execute(
        select(Patrol.id, Patrol.unit_id, Patrol.state, Patrol.day, Patrol.due_at).where(
            Patrol.day >= lo, Patrol.day < hi, Patrol.unit_id.in_(units)
        )
    )
    for pid, unit_id, state, day, due in patrols:
        if unit_id is None:
            continue
        c = counts[unit_id]
        c["patrols"] += 1
        if state == PatrolState.missed:
            c["patrols_missed"] += 1
            if in_force(sets, local(due).date()).points("未巡查", None, "main"):
                rows.append(FactRow(f"P{pid}", 0, "", unit_id, "未巡查", "main", None, due, f"{day} 巡查未报告"))
    guided = session.execute(
        select(
            GuidedAssignment.id,
            GuidedAssignment.unit_id,
            GuidedAssignment.state,
            GuidedAssignment.due_at,
            Item.id,
            Item.code,
        )
        .join(GuidedTask, GuidedTask.id == GA.task_id)
        .join(Item, Item.id == GuidedTask.item_id)
        .where(GA.due_at >= start, GA.due_at < end, GA.unit_id.in_(units))
    )
    for gid, unit_id, gstate, due, item_id, code in guided:
        if unit_id is None:
            continue
        c = counts[unit_id]
        c["guided"] += 1
        if gstate == GuidedState.missed:
            c["guided_missed"] += 1
            if in_force(sets, local(due).date()).points("未跟帖", None, "main"):
                rows.append(
                    FactRow(
                        f"G{gid}", item_id, code, unit_id, "未跟帖", "main", None, due, f"跟帖截止 {_show(due)} 未完成"
                    )
                )
    for r in rows:
        r.points = in_force(sets, local(r.at).date()).points(r.fact, r.grade, r.role)
    return counts, rows
