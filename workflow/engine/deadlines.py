"""Fire due clock thresholds: nudge, warning, miss (level 1: supervisor), levels 2… (office and leaders)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Card, Item, ItemState, Person, Role, Unit
from models.clock import OPEN_STATES, Clock, ClockFiring
from models.clocktable import Owner, deduction_of
from models.clocktable import row as clock_row
from models.codes import CARD_KEYS, Threshold, card_key
from models.events import Event
from models.state import CardPurpose, CardState, ClockState
from workflow.engine import wording
from workflow.engine.audit import record
from workflow.engine.cards import finish_cards, new_card
from workflow.engine.notify import tell
from workflow.engine.outbox import Job, defer
from workflow.people import org
from workflow.views import render


def due_clocks(session: Session, now: datetime, limit: int, ids: list[int] | None = None) -> list[Clock]:
    """Return open clocks whose next threshold is due (one indexed query; rows locked on PostgreSQL)."""
    q = select(Clock).where(Clock.state.in_(OPEN_STATES), Clock.next_at <= now).order_by(Clock.next_at).limit(limit)
    if ids is not None:
        q = q.where(Clock.id.in_(ids))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(session.scalars(q))


def fire_due(session: Session, now: datetime, limit: int = 500, ids: list[int] | None = None) -> int:
    """Fire every due threshold (each at most once, ever) of up to limit clocks; return how many fired.

    How late each fired (seconds) is added to session.info["lateness"], for the caller to count once committed."""
    clocks = _unarchived(session, due_clocks(session, now, limit, ids), now)
    if not clocks:
        return 0
    cids = [c.id for c in clocks]
    done: dict[int, set[str]] = {c: set() for c in cids}
    for cid, name in session.execute(
        select(ClockFiring.clock_id, ClockFiring.name).where(ClockFiring.clock_id.in_(cids))
    ):
        done[cid].add(name)
    plan = [(c, n, t) for c in clocks for n, t in c.thresholds() if t <= now and n not in done[c.id]]
    if not plan:
        for c in clocks:
            c.advance(done[c.id])
            defer(session, Job.schedule_clock, c.id)
        return 0
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({c.item_id for c in clocks})))}
    rows = [{"clock_id": c.id, "name": n, "due_at": t, "fired_at": now} for c, n, t in plan]
    ins = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(ClockFiring)
    stmt = ins.values(rows).on_conflict_do_nothing(index_elements=["clock_id", "name"])
    new = {(cid, n) for cid, n in session.execute(stmt.returning(ClockFiring.clock_id, ClockFiring.name))}
    session.info.setdefault("lateness", []).extend((now - t).total_seconds() for c, n, t in plan if (c.id, n) in new)
    acting = {c.id: n for c, n, _t in plan}  # several past thresholds of one clock (a late start, a worker that
    # was down): only the latest speaks; the earlier ones are recorded as fired, silently
    session.info["owners_memo"] = {}
    try:
        for c, n, _t in plan:
            if (c.id, n) in new and acting[c.id] == n:  # a replay or a second worker got it first: nothing to do
                ACTIONS[Threshold.parse(n).kind](session, c, items[c.item_id], n, now)
            done[c.id].add(n)
    finally:
        session.info.pop("owners_memo", None)
    for c in clocks:
        c.advance(done[c.id])
        defer(session, Job.schedule_clock, c.id)
    return len(new)


def _unarchived(session: Session, clocks: list[Clock], now: datetime) -> list[Clock]:
    """Return clocks whose item is not archived; a clock of an archived item is closed silently (its record is
    closed: nothing fires, nothing is written to it)."""
    if not clocks:
        return clocks
    archived = set(
        session.scalars(
            select(Item.id).where(Item.id.in_({c.item_id for c in clocks}), Item.state == ItemState.archived)
        )
    )
    for c in clocks:
        if c.item_id in archived:
            c.state, c.met_at = ClockState.waived, now
            c.advance(set())
    return [c for c in clocks if c.item_id not in archived]


def owners(session: Session, clock: Clock) -> list[str]:
    """Return the userids who owe the clock's step (the unit's leads, or the office); memoised while firing."""
    memo = session.info.get("owners_memo")
    if memo is None:
        return _owners(session, clock)
    key = (clock.owner, clock.owner_unit_id)
    if key not in memo:
        memo[key] = _owners(session, clock)
    found: list[str] = memo[key]
    return found


def _owners(session: Session, clock: Clock) -> list[str]:
    if clock.owner == Owner.lead_unit and clock.owner_unit_id:
        unit = session.get(Unit, clock.owner_unit_id)
        return org.userids(org.unit_leads(session, unit)) if unit else []
    return org.userids(org.with_role(session, Role.office))


def _remind(
    session: Session, clock: Clock, item: Item, name: str, now: datetime, title: str, text: str, extend: bool = False
) -> None:
    """Send a reminder to the owners: a card with the clock's own buttons (the clock table: 已口头汇报, 写书面报告)
    and 申请延期 on the final warning; a plain text when it has none."""
    to = owners(session, clock)
    buttons = _buttons(clock, item)
    if extend:
        buttons.append(("申请延期", card_key("askext", clock.id), 2))
    if not buttons or not to:
        tell(session, item, f"clock:{clock.id}:{name}", now, render.text(f"【{title}】{text}"), actors=to, fresh=True)
        return
    task_id = f"rem-{clock.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.reminder, task_id, item.id, to, now, unit_id=clock.owner_unit_id, clock_id=clock.id)
    body = render.reminder_card(item, title, text, task_id, buttons)
    tell(session, item, f"clock:{clock.id}:{name}", now, body, actors=to, task_id=task_id, fresh=True)


def _buttons(clock: Clock, item: Item) -> list[tuple[str, str, int]]:
    """The reminder buttons the clock table declares for clock (each key filled with the clock's id, the item's 编号
    or the next step: `do:<step>:<编号>` opens the conversation for the step that meets it)."""
    r = clock_row(clock.kind)
    buttons = []
    for b in r.buttons if r else ():
        fill = {"clock": clock.id, "code": item.code, "step": b.step.value if b.step else ""}
        buttons.append((b.text, card_key(b.key, *(fill[f] for f in CARD_KEYS[b.key])), 1))
    return buttons


def _nudge(session: Session, clock: Clock, item: Item, name: str, now: datetime) -> None:
    _remind(session, clock, item, name, now, "提醒", wording.nudge(clock, item))


def _warn(session: Session, clock: Clock, item: Item, name: str, now: datetime) -> None:
    _remind(session, clock, item, name, now, "即将超时", wording.warn(clock, item, now), extend=True)


def _due(session: Session, clock: Clock, item: Item, name: str, now: datetime) -> None:
    _miss(session, clock, item, name, now)
    _escalation_card(session, clock, item, name, now, escalation_targets(session, clock, 1), 1)


def escalation_targets(session: Session, clock: Clock, level: int) -> list[str]:
    """Who a missed clock is escalated to: a unit's clock first to its supervisor (else the office), then to the
    office and the leaders; the office's own clock, and from level 2 a miss charged to the office (a late 交办), to
    the leaders (else the office), never to the office and them."""
    office = org.userids(org.with_role(session, Role.office))
    leaders = org.userids(org.with_role(session, Role.leader))
    if clock.owner == Owner.office or (level >= 2 and clock.charged == "office"):
        return leaders or office
    if level <= 1:
        unit = session.get(Unit, clock.owner_unit_id) if clock.owner_unit_id else None
        sup = org.supervisor(session, unit)
        return [sup] if sup else office
    return list(dict.fromkeys(office + leaders))


def _miss(session: Session, clock: Clock, item: Item, name: str, now: datetime) -> None:
    """Record the miss and tell whoever owes the step (once, whatever threshold speaks for it)."""
    before = clock.state
    clock.state, clock.missed_at, clock.level = ClockState.missed, clock.due_at, 1
    why = wording.short_notice(clock, item)  # the 交办 left the unit too little time: the miss is the office's
    record(
        session,
        item,
        "system",
        Event.clock_missed,
        now,
        before=before,
        after=ClockState.missed,
        kind=clock.kind,
        **deduction_of(clock.kind),  # what the miss counts as (the clock table)
        unit_id=None if why else clock.owner_unit_id,
        due=clock.due_at.isoformat(),
        **({"charged": "office", "reason": why} if why else {}),
    )
    body = render.text(wording.missed(clock, item, _told(session, clock)))
    tell(session, item, f"clock:{clock.id}:{name}", now, body, actors=owners(session, clock), fresh=True)


def _told(session: Session, clock: Clock) -> str:
    """Whom the miss was reported to, as the owner reads it: the supervisor by name, else the office."""
    if clock.owner == Owner.office:
        return ""
    unit = session.get(Unit, clock.owner_unit_id) if clock.owner_unit_id else None
    sup = org.supervisor(session, unit)
    name = session.scalar(select(Person.name).where(Person.userid == sup)) if sup else None
    return f"分管领导{name}" if name else "领导小组办公室"


def _level(session: Session, clock: Clock, item: Item, name: str, now: datetime) -> None:
    if clock.state == ClockState.open:  # its due passed silently (collapsed into this level): the owners learn it now
        _miss(session, clock, item, f"{name}:miss", now)
    level = Threshold.parse(name).level
    clock.level = level
    record(session, item, "system", Event.clock_escalated, now, kind=clock.kind, level=level)
    _escalation_card(session, clock, item, name, now, escalation_targets(session, clock, level), level)


def _escalation_card(
    session: Session, clock: Clock, item: Item, name: str, now: datetime, to: list[str], level: int
) -> None:
    """Send a 督办 card: the item, who owes what, since when, with 催办 / 已知悉 buttons; once per person per due.

    Who already had a 督办 card for this due of the clock (same extension) gets none for a later level; a person
    who holds a live card for an earlier due gets the new one and the old one is closed, so one card stays live."""
    earlier = list(
        session.scalars(select(Card).where(Card.clock_id == clock.id, Card.purpose == CardPurpose.escalation))
    )
    had = {u for c in earlier if c.due_round == clock.extensions for u in c.recipients}
    to = [u for u in dict.fromkeys(to) if u not in had]
    if not to:
        return
    stale = [c for c in earlier if c.state == CardState.open and set(c.recipients) & set(to)]
    finish_cards(session, item, stale, "已有新的督办", "system", now, None)
    unit = session.get(Unit, clock.owner_unit_id) if clock.owner_unit_id else None
    owner_names = (
        "、".join(p.name for p in session.scalars(select(Person).where(Person.userid.in_(owners(session, clock)))))
        or "办公室"
    )
    task_id = f"esc-{clock.id}-x{clock.extensions}-{level}-{secrets.token_hex(4)}"
    new_card(
        session, CardPurpose.escalation, task_id, item.id, to, now,
        unit_id=clock.owner_unit_id, clock_id=clock.id, due_round=clock.extensions,
    )  # fmt: skip
    body = render.escalation_card(
        item,
        clock.label,
        unit.name if unit else "办公室",
        owner_names,
        clock.due_at,
        now,
        level,
        task_id,
        clock.id,
        wording.overdue(clock, item, now),
    )
    tell(session, item, f"clock:{clock.id}:{name}:card", now, body, actors=to, task_id=task_id, fresh=True)


ACTIONS = {"nudge": _nudge, "warn": _warn, "due": _due, "level": _level}
