"""申请延期: a unit asks before the due time; the supervisor approves or refuses on a card (SPEC §4)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.clock import show
from core.durations import format_duration
from models import Item, Person
from models.clock import OPEN_STATES, Clock, Extension
from models.clocktable import Owner
from models.clocktable import row as clock_row
from models.events import Event
from models.procedure import ACTIONS, Act
from models.state import CardPurpose, ClockState, ExtensionState
from workflow.engine import cards, clocks, procedure
from workflow.engine.audit import record
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.engine.relations import clock_deciders, relations
from workflow.views import render

USAGE = (
    "格式：申请延期 <编号> [时限名] <时长> <原因>，时长如 30分钟、2小时、1天（30m、2h 也可以）。"
    "例如：申请延期 YQ-20261126-003 书面报告 30分钟 需补充现场核查材料"
)


def _owed_by(session: Session, item: Item, actor: Person) -> list[Clock]:
    """The item's clocks still owed that actor may ask to extend (the declared relation clock_owner): their unit's
    first, else the office's own."""
    owed = clocks.open_clocks(session, item)
    mine = [c for c in owed if "clock_owner" in relations(session, item, actor, c)]
    units = [c for c in mine if c.owner != Owner.office]
    return units or mine


def pick_clock(
    session: Session, item: Item, actor: Person, name: str | None, reason: str = "", clock_id: int | None = None
) -> Clock:
    """Return the clock a request is about: by id (the card's button), by name (首报, 书面报告 …), by the one the
    reason mentions, else the one due soonest (the reply names it)."""
    owed = _owed_by(session, item, actor)
    if not owed:
        raise Refusal(ACTIONS[Act.request_extension].deny(item.code, ""))
    if clock_id is not None:
        chosen = [c for c in owed if c.id == clock_id]
    elif name:
        chosen = [c for c in owed if name in (c.label, c.kind)]
    else:
        mentioned = [c for c in owed if c.label in reason]
        chosen = mentioned if len(mentioned) == 1 else owed
    if not chosen:
        names = "、".join(c.label for c in owed)
        raise Refusal(f"{item.code} 没有您可以申请延期的“{name}”时限（可以申请的：{names}）。")
    return chosen[0]


def room(clock: Clock) -> timedelta:
    """How much later the clock's due may still move (the cap minus the due; never negative)."""
    return max(timedelta(0), _cap(clock) - clock.due_at)


def request(
    session: Session, actor: Person, item: Item, clock: Clock, span: timedelta, reason: str, at: datetime
) -> Extension:
    """Ask for more time on clock before its due; the limits are said before anything is sent."""
    if clock.state != ClockState.open or at >= clock.due_at:
        raise Refusal(
            f"{item.code} 的{clock.label}已于 {show(clock.due_at)} 到期；延期须在到期前申请，现在不能再申请。"
        )
    allowed = clock.policy.get("extensions")
    if allowed is not None and clock.extensions >= int(allowed):
        raise Refusal(f"{item.code} 的{clock.label}只能延期 {allowed} 次，已经延期过了。")
    left = room(clock)
    if left <= timedelta(0):
        raise Refusal(f"{item.code} 的{clock.label}已到最长期限 {show(_cap(clock), True)}，不能再延期。")
    if span > left:
        raise Refusal(
            f"{item.code} 的{clock.label}最多还能延长 {format_duration(left)}（至 {show(_cap(clock), True)}），"
            f"请按此重新申请，例如：申请延期 {item.code} {clock.label} {_short(left)} {reason[:20]}"
        )
    if session.scalar(
        select(Extension.id).where(Extension.clock_id == clock.id, Extension.state == ExtensionState.pending)
    ):
        raise Refusal(f"{item.code} 的{clock.label}已有一份延期申请在等待审批。")
    ext = Extension(
        clock_id=clock.id,
        requested_by=actor.userid,
        seconds=int(span.total_seconds()),
        reason=reason,
        state=ExtensionState.pending,
        created_at=at,
        task_id=f"ext-{clock.id}-{secrets.token_hex(4)}",
    )
    session.add(ext)
    session.flush()
    deciders = clock_deciders(session, clock)
    new_card(
        session,
        CardPurpose.extension,
        ext.task_id or "",
        item.id,
        deciders,
        at,
        unit_id=clock.owner_unit_id,
        about=ext.id,
    )
    emit(
        session,
        deciders,
        render.extension_card(
            item, clock.label, actor.name, span, reason, clock.due_at, clock.due_at + span, ext.id, ext.task_id or ""
        ),
        f"ext:{ext.id}:card",
        at,
        item,
        task_id=ext.task_id,
    )
    procedure.apply(
        session, item, Act.request_extension, actor, at, clock=clock, event=Event.extension_request, kind=clock.kind,
        seconds=ext.seconds, reason=reason,
    )  # fmt: skip
    return ext


def _short(td: timedelta) -> str:
    """Return a duration as the user would type it ("90m", "2h")."""
    minutes = int(td.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes >= 60 and minutes % 60 == 0 else f"{max(1, minutes)}m"


def _explicit_due(clock: Clock) -> datetime | None:
    """The deadline an upper-level office set with 限 at 交办, when this clock's due came from it (engine.clocks)."""
    session = object_session(clock)
    r = clock_row(clock.kind)
    item = session.get(Item, clock.item_id) if session is not None and r is not None and r.external_due else None
    due = item.external_due_at if item is not None else None
    return due if due is not None and due > clock.started_at else None


def _cap(clock: Clock) -> datetime:
    """The latest due an extension may reach: the policy's cap, else twice the clock's original span; a due set by
    限 is the clock's span, so the cap is twice that (never before the explicit deadline)."""
    explicit = _explicit_due(clock)
    if explicit is not None:
        return max(clock.cap_at or explicit, clock.started_at + 2 * (explicit - clock.started_at))
    if clock.cap_at is not None:
        return clock.cap_at
    spans = clock.policy["spans"]
    original = timedelta(seconds=float((spans.get(clock.grade) or spans["all"])["due"]))
    return clock.started_at + 2 * original


def decide(
    session: Session,
    actor: Person,
    ext_id: int,
    approve: bool,
    at: datetime,
    clicked: tuple[str, str] | None = None,
) -> tuple[Extension, str]:
    """Apply a supervisor's decision once (its card closes; clicked: the card pressed); return the extension and a
    sentence for the decider."""
    ext = session.get(Extension, ext_id)
    if ext is None:
        raise Refusal("这份延期申请不存在了。")
    clock = session.get(Clock, ext.clock_id)
    assert clock is not None
    item = session.get(Item, clock.item_id)
    assert item is not None
    procedure.permit(session, item, Act.decide_extension, actor, clock)
    if ext.state != ExtensionState.pending:
        who = session.scalar(select(Person.name).where(Person.userid == ext.decided_by)) or ext.decided_by
        word = "同意" if ext.state == ExtensionState.approved else "不同意"
        if clicked is not None:  # the pressed card shows the decision already taken
            label = f"{actor.name} 已{word} {show(ext.decided_at or at)}"
            cards.close(session, item, CardPurpose.extension, ext.id, label, actor.userid, at, clicked)
        return ext, f"这份延期申请已由{who}于 {show(ext.decided_at)} {word}。"
    if approve and clock.state not in OPEN_STATES:
        approve, note = False, f"{item.code} 的{clock.label}已经完成或免除，无需延期。"
    else:
        note = ""
    ext.state, ext.decided_by, ext.decided_at = (
        (ExtensionState.approved if approve else ExtensionState.refused),
        actor.userid,
        at,
    )
    requester = [ext.requested_by]
    if approve:  # asked in time, so decided on its merits even if the decision comes after the due
        old_due = clock.due_at
        new_due = min(old_due + timedelta(seconds=ext.seconds), _cap(clock))
        if clock.state == ClockState.missed:
            clock.state, clock.missed_at, clock.level = ClockState.open, None, 0
            record(session, item, "system", Event.clock_miss_withdrawn, at, kind=clock.kind, reason="延期申请获批")
        clocks.move_due(session, clock, new_due)
        clock.charged = None  # the unit asked for this due: from now on a miss is its own (docs/deadlines.md)
        msg = f"您对 {item.code} {clock.label}的延期申请已获{actor.name}同意，新的最迟时间 {show(new_due)}。"
        note = f"已同意延期，{clock.label}最迟时间改为 {show(new_due)}（延长 {format_duration(new_due - old_due)}）。"
    else:
        msg = f"您对 {item.code} {clock.label}的延期申请未获{actor.name}同意，请在 {show(clock.due_at)} 前完成。"
        note = note or f"已不同意延期，{clock.label}仍须在 {show(clock.due_at)} 前完成。"
    emit(session, requester, render.text(msg), f"ext:{ext.id}:decided", at, item)
    procedure.apply(
        session, item, Act.decide_extension, actor, at, clock=clock, event=Event.extension_decision,
        change=(None, ext.state), about=ext.id, closing=f"{actor.name} 已{'同意' if approve else '不同意'}",
        clicked=clicked, kind=clock.kind, due=clock.due_at.isoformat(),
    )  # fmt: skip
    return ext, note
