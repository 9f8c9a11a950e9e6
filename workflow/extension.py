"""申请延期: a unit asks before the due time; the supervisor approves or refuses on a card (SPEC §4)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.durations import format_duration, parse_duration
from models import Card, Item, Person, Role, Unit
from models.clock import Clock, Extension
from workflow import clocks, org, render
from workflow.audit import record
from workflow.errors import Refusal
from workflow.outbox import emit
from workflow.report import find_item

USAGE = "格式：申请延期 <编号> <时长> <原因>，时长如 30m、2h、1d。例如：申请延期 YQ-20261126-003 30m 需补充现场核查材料"


def _parse(args: str) -> tuple[str, timedelta, str]:
    parts = args.split(maxsplit=2)
    if len(parts) < 3:
        raise Refusal(USAGE)
    try:
        span = parse_duration(parts[1])
    except ValueError:
        raise Refusal(f"时长“{parts[1]}”看不懂。{USAGE}") from None
    if span.total_seconds() <= 0:
        raise Refusal(USAGE)
    return parts[0], span, parts[2]


def _clock_for(session: Session, item: Item, actor: Person) -> Clock:
    mine = [
        c for c in clocks.open_clocks(session, item) if c.owner_unit_id is not None and c.owner_unit_id == actor.unit_id
    ]
    if not mine or not actor.has(Role.unit_lead):
        raise Refusal(f"您所在单位在 {item.code} 上没有未完成的时限，无需延期。")
    first = mine[0]  # the step owed soonest is the one a unit asks about
    if first.state != "open":
        raise Refusal(
            f"{item.code} 的{first.label}已于 {show(first.due_at)} 超时；延期须在到期前申请，现在不能再申请。"
        )
    return first


def request(session: Session, actor: Person, args: str, at: datetime) -> Extension:
    """Ask for more time on the actor's unit's earliest open clock of the item; the supervisor gets a card."""
    code, span, reason = _parse(args)
    item = find_item(session, code)
    clock = _clock_for(session, item, actor)
    if at >= clock.due_at:
        raise Refusal(f"{clock.label}已于 {show(clock.due_at)} 到期，延期须在到期前申请。")
    if session.scalar(select(Extension.id).where(Extension.clock_id == clock.id, Extension.state == "pending")):
        raise Refusal(f"{item.code} 的{clock.label}已有一份延期申请在等待审批。")
    ext = Extension(
        clock_id=clock.id,
        requested_by=actor.userid,
        seconds=int(span.total_seconds()),
        reason=reason,
        state="pending",
        created_at=at,
        task_id=f"ext-{clock.id}-{secrets.token_hex(4)}",
    )
    session.add(ext)
    session.flush()
    deciders = _deciders(session, clock)
    session.add(
        Card(
            task_id=ext.task_id or "",
            purpose="extension",
            item_id=item.id,
            unit_id=clock.owner_unit_id,
            recipients=deciders,
            state="open",
            created_at=at,
        )
    )
    emit(
        session,
        deciders,
        render.extension_card(
            item, clock.label, actor.name, span, reason, clock.due_at, _new_due(clock, span), ext.id, ext.task_id or ""
        ),
        f"ext:{ext.id}:card",
        at,
        item,
        task_id=ext.task_id,
    )
    record(session, item, actor.userid, "extension_request", at, kind=clock.kind, seconds=ext.seconds, reason=reason)
    return ext


def _deciders(session: Session, clock: Clock) -> list[str]:
    unit = session.get(Unit, clock.owner_unit_id) if clock.owner_unit_id else None
    if sup := org.supervisor(session, unit):
        return [sup]
    return org.userids(org.with_role(session, Role.office))


def _new_due(clock: Clock, span: timedelta) -> datetime:
    """The extended due, never beyond the cap: the policy's, else twice the clock's original span."""
    if clock.cap_at is not None:
        return min(clock.due_at + span, clock.cap_at)
    spans = clock.policy["spans"]
    original = timedelta(seconds=float((spans.get(clock.grade) or spans["all"])["due"]))
    return min(clock.due_at + span, clock.started_at + 2 * original)


def decide(session: Session, actor: Person, ext_id: int, approve: bool, at: datetime) -> tuple[Extension, str]:
    """Apply a supervisor's decision once; return the extension and a sentence for the decider."""
    ext = session.get(Extension, ext_id)
    if ext is None:
        raise Refusal("这份延期申请不存在了。")
    clock = session.get(Clock, ext.clock_id)
    assert clock is not None
    item = session.get(Item, clock.item_id)
    assert item is not None
    if actor.userid not in _deciders(session, clock):
        raise Refusal("只有该单位的分管领导可以审批这份延期申请。")
    if ext.state != "pending":
        who = session.scalar(select(Person.name).where(Person.userid == ext.decided_by)) or ext.decided_by
        return ext, f"这份延期申请已由{who}于 {show(ext.decided_at)} {'同意' if ext.state == 'approved' else '退回'}。"
    if approve and (clock.state != "open" or at >= clock.due_at):
        approve, note = False, f"{clock.label}已于 {show(clock.due_at)} 到期或已办结，延期无效。"
    else:
        note = ""
    ext.state, ext.decided_by, ext.decided_at = ("approved" if approve else "refused"), actor.userid, at
    requester = [ext.requested_by]
    if approve:
        old_due, new_due = clock.due_at, _new_due(clock, timedelta(seconds=ext.seconds))
        clocks.move_due(session, clock, new_due)
        msg = f"您对 {item.code} {clock.label}的延期申请已获{actor.name}同意，新的最迟时间 {show(new_due)}。"
        note = f"已同意延期，{clock.label}最迟时间改为 {show(new_due)}（延长 {format_duration(new_due - old_due)}）。"
    else:
        msg = f"您对 {item.code} {clock.label}的延期申请未获同意，请在 {show(clock.due_at)} 前完成。"
        note = note or f"已退回延期申请，{clock.label}仍须在 {show(clock.due_at)} 前完成。"
    emit(session, requester, render.text(msg), f"ext:{ext.id}:decided", at, item)
    record(session, item, actor.userid, "extension_decision", at, after=ext.state, kind=clock.kind)
    return ext, note
