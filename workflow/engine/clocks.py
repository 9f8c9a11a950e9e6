"""Start, meet, regrade and extend clocks (SPEC §4): the deadline rules both handlers and jobs call.

What starts and meets which clock is the clock table's (models/clocktable.py); `on_action` applies it for an
action and is the one call the procedure engine makes about clocks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from core.policy import ClockPolicy, Policy, Span
from core.runtime import runtime
from models import Card, Item, Unit
from models.calendar import UnknownYear, WorkCalendar
from models.clock import OPEN_STATES, Clock, ClockFiring
from models.clocktable import (
    ClockRow,
    CountsFrom,
    Effect,
    Owner,
    clocks_met_by,
    clocks_started_by,
    deduction_of,
    effect_of,
)
from models.clocktable import row as clock_row
from models.events import Event
from models.procedure import Act
from models.state import CardState, ClockState
from workflow.duty import periods, workdays
from workflow.engine.audit import record
from workflow.engine.cards import finish_cards
from workflow.engine.errors import Refusal
from workflow.engine.outbox import Job, defer


@lru_cache(maxsize=8)
def _calendar(years_key: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...], office: Any = ()) -> WorkCalendar:
    from datetime import date

    return WorkCalendar(
        {
            y: {"holidays": [date.fromisoformat(d) for d in h], "workdays": [date.fromisoformat(d) for d in w]}
            for y, h, w in years_key
        },
        office=workdays.from_key(office),
    )


def calendar_for(config: Config, session: Session | None = None) -> WorkCalendar:
    """Return the working calendar for config: chinese-calendar, the years the office saved on the calendar page
    (read through session, so a saved year applies at once; none without a session) and [calendar.years]."""
    key = tuple(
        sorted(
            (y, tuple(str(d) for d in s["holidays"]), tuple(str(d) for d in s["workdays"]))
            for y, s in config.calendar_years.items()
        )
    )
    return _calendar(key, workdays.declared_key(session))


def snapshot(policy: Policy, clock: ClockPolicy, label: str | None = None, event: str = "") -> dict[str, Any]:
    """Return the policy in force for one clock, copied onto it so later config edits do not move it."""

    def secs(td: timedelta | None) -> float | None:
        return td.total_seconds() if td is not None else None

    return {
        "nudge_share": policy.nudge_share,
        "warn_share": policy.warn_share,
        "warn_before": secs(policy.warn_before),
        "escalate_after": secs(policy.escalate_after),
        "escalate_every": secs(policy.escalate_every),
        "escalate_max": policy.escalate_max,
        "days": policy.days,
        "cap": secs(clock.cap),
        "cap_days": clock.cap_days,
        "spans": {
            g: {"due": s.due.total_seconds(), "aim": secs(s.aim), "days": s.days} for g, s in clock.spans.items()
        },
        "label": label or clock.label or clock.kind,
        "event": event,
        "extensions": clock.max_extensions,
    }


def restore(snap: dict[str, Any], kind: str) -> tuple[Policy, ClockPolicy]:
    """Rebuild the Policy and ClockPolicy a clock was started with."""

    def td(v: float | None) -> timedelta | None:
        return timedelta(seconds=v) if v is not None else None

    spans = {
        g: Span(due=timedelta(seconds=s["due"]), aim=td(s["aim"]), days=s["days"]) for g, s in snap["spans"].items()
    }
    clock = ClockPolicy(
        kind=kind,
        label=snap["label"],
        spans=spans,
        cap=td(snap["cap"]),
        cap_days=snap["cap_days"],
    )
    policy = Policy(
        nudge_share=snap["nudge_share"],
        warn_share=snap["warn_share"],
        warn_before=td(snap["warn_before"]),
        escalate_after=timedelta(seconds=snap["escalate_after"]),
        escalate_every=timedelta(seconds=snap["escalate_every"]),
        escalate_max=snap["escalate_max"],
        days=snap["days"],
        clocks={kind: clock},
    )
    return policy, clock


def _start(
    session: Session, item: Item, r: ClockRow, unit: Unit | None, start: datetime, config: Config, at: datetime
) -> Clock | None:
    policy: Policy = config.policy
    spec = policy.clocks.get(r.kind)
    if spec is None or (r.sources and item.source not in r.sources):
        return None
    name = spec.label or r.label
    grade = item.grade or item.suggested_grade or "general"
    override = item.external_due_at if r.external_due else None
    cal = calendar_for(config, session)
    try:
        sched = policy.schedule(r.kind, grade, start, cal, override_due=override)
        limit = start + periods.first_report_due(config)
        if r.period_limit and sched and sched.due_at > limit and periods.in_force(session, config, start):
            sched = policy.schedule(r.kind, grade, start, cal, override_due=limit)  # a sensitive period's own clock
        cap = policy.cap_for(r.kind, start, cal)
    except UnknownYear as exc:
        raise Refusal(f"无法计算“{name}”时限：{exc}") from None
    if sched is None:
        return None
    unit_owes = r.owner == Owner.lead_unit
    clock = Clock(
        item_id=item.id,
        kind=r.kind,
        label=name,
        event=r.met_by[0],
        owner=r.owner,
        owner_unit_id=unit.id if unit and unit_owes else None,
        grade=grade,
        started_at=start,
        aim_at=sched.aim_at,
        nudge_at=sched.nudge_at,
        warn_at=sched.warn_at,
        due_at=sched.due_at,
        cap_at=cap,
        state=ClockState.open,
        level=0,
        policy=snapshot(policy, spec, name, r.met_by[0]),
        extensions=0,
    )
    if unit_owes and at < sched.due_at < at + policy.min_time_to_act:
        clock.charged = "office"  # received with less than [policy] min_time_to_act left: a miss is the 交办's delay
    session.add(clock)
    session.flush()
    charged = {"charged": "office"} if clock.charged else {}
    record(session, item, "system", Event.clock_start, at, kind=r.kind, due=sched.due_at.isoformat(), **charged)
    fired = _started_overdue(session, item, clock, at) if sched.due_at <= at and unit_owes else set()
    clock.advance(fired)
    defer(session, Job.schedule_clock, clock.id)
    return clock


def _started_overdue(session: Session, item: Item, clock: Clock, at: datetime) -> set[str]:
    """A unit's clock that starts already past its due (the item was dispatched late): the miss is the office's.

    Its reminders and its due are recorded as fired without a message; escalation counts from now, so the unit
    gets the 签收 card (which says so) and then the usual time before anyone is told.
    """
    clock.state, clock.missed_at, clock.level, clock.charged = ClockState.missed, at, 1, "office"
    names = {n for n, t in clock.thresholds() if t <= clock.due_at}
    for n, t in clock.thresholds():
        if n in names:
            session.add(ClockFiring(clock_id=clock.id, name=n, due_at=t, fired_at=at))
    record(
        session,
        item,
        "system",
        Event.clock_missed,
        at,
        before="open",
        after=ClockState.missed,
        kind=clock.kind,
        **deduction_of(clock.kind),
        charged="office",
        unit_id=None,
        due=clock.due_at.isoformat(),
        reason="交办时已超过时限",
    )
    return names


def overdue_at_dispatch(session: Session, item: Item) -> list[Clock]:
    """Return the clocks the 交办 left less than [policy] min_time_to_act (or no time) for: charged to the office."""
    return [c for c in all_clocks(session, item) if c.charged == "office"]


def open_clocks(session: Session, item: Item) -> list[Clock]:
    """Return the item's clocks that are still owed (open or missed)."""
    return list(
        session.scalars(
            select(Clock).where(Clock.item_id == item.id, Clock.state.in_(OPEN_STATES)).order_by(Clock.due_at)
        )
    )


def all_clocks(session: Session, item: Item) -> list[Clock]:
    """Return every clock of item, soonest due first."""
    return list(session.scalars(select(Clock).where(Clock.item_id == item.id).order_by(Clock.due_at)))


def _waive(session: Session, item: Item, reason: str, actor: str, at: datetime, *, rows: bool) -> list[Clock]:
    """Waive every clock of item still owed (the item was closed or archived): nothing fires for them any more,
    their cards show reason; rows: each gets a `clock_waived` audit row (else the action's own row names them)."""
    owed = open_clocks(session, item)
    for c in owed:
        _waive_one(session, item, c, f"{reason} {show(at)}"[:32], reason, actor if rows else "system", at, row=rows)
    return owed


def _waive_one(
    session: Session, item: Item, clock: Clock, shown: str, reason: str, actor: str, at: datetime, *, row: bool
) -> None:
    """Waive one owed clock: nothing fires for it any more, its cards show shown; row: record `clock_waived`."""
    before = clock.state
    clock.state, clock.met_at = ClockState.waived, at
    clock.advance(set())
    close_cards(session, item, clock, shown, actor, at)
    if row:
        record(
            session, item, actor, Event.clock_waived, at, before=before, after=ClockState.waived, kind=clock.kind,
            reason=reason,
        )  # fmt: skip


def in_row(session: Session, item: Item, act: Act) -> dict[str, str]:
    """Return what action act's own audit row says about the item's clocks: for an action that waives them without
    rows of their own (归档), the line naming those still owed; else nothing."""
    effect = effect_of(act)
    if effect is None or effect.effect != Effect.waive_in_row:
        return {}
    owed = [c.label for c in open_clocks(session, item)]
    return {"line": f"同时结束未完成的时限：{'、'.join(owed)}"} if owed else {}


def satisfy(session: Session, item: Item, kinds: tuple[str, ...], actor: str, at: datetime) -> list[Clock]:
    """Mark every owed clock of item of kinds as met (or met late, with its lateness); return them."""
    done = [c for c in open_clocks(session, item) if c.kind in kinds] if kinds else []
    for c in done:
        late = c.state == ClockState.missed
        c.state, c.met_at = (ClockState.met_late if late else ClockState.met), at
        c.advance(set())
        close_cards(session, item, c, f"{c.label}已完成 {show(at)}", actor, at)
        lateness = (at - c.due_at).total_seconds() if late else 0
        record(
            session,
            item,
            actor,
            Event.clock_met,
            at,
            before=ClockState.missed if late else ClockState.open,
            after=c.state,
            kind=c.kind,
            late_seconds=max(0, lateness),
        )
    return done


def start_for(
    session: Session, item: Item, act: Act, at: datetime, config: Config, lead: Unit | None = None
) -> list[Clock]:
    """Start the clocks the clock table says act starts on item (a 反弹 restarts its rows from at); return them.

    A unit's clock is owed by lead (default: the item's lead unit); it counts from the report, the action, or as
    [policy] start says (models.clocktable.CountsFrom)."""
    started = []
    for r in clocks_started_by(act):
        unit = lead if lead is not None else (item.lead.unit if item.lead is not None else None)
        if r.owner == Owner.lead_unit and unit is None:
            continue
        clock = _start(session, item, r, unit, _counts_from(item, r, act, config, at), config, at)
        started += [clock] if clock else []
    return started


def _counts_from(item: Item, r: ClockRow, act: Act, config: Config, at: datetime) -> datetime:
    """When a clock r started by act counts from: a restart after a 反弹 from at, else as the row says."""
    if act == Act.rebound or r.counts_from == CountsFrom.action:
        return at
    if r.counts_from == CountsFrom.reported or config.policy.start == "reported":
        return item.reported_at
    return at


def on_action(
    session: Session,
    item: Item,
    act: Act,
    actor: str,
    at: datetime,
    *,
    config: Config | None = None,
    lead: Unit | None = None,
) -> list[Clock]:
    """Apply what the clock table (models/clocktable.py) says action act does to item's clocks: meet the clocks it
    meets, then start the clocks it starts (a 反弹 restarts its rows), then what it does to every clock still
    owed (clocktable.ON_ALL: 办结 and 归档 waive them, 定级 reschedules them for the new grade). The one call the
    procedure engine makes about clocks, once the action has moved the item (its grade, lead unit and 限 deadline set).

    config: the deadline policy in force (default: this process's, core.runtime); lead: the unit that owes the
    started unit clocks (default: the item's lead unit). Raises Refusal when a clock cannot be computed (a year
    without a working calendar). Returns the clocks met (those it started are on the item: `open_clocks`).
    """
    met = satisfy(session, item, clocks_met_by(act, item.source), actor, at)
    if clocks_started_by(act):
        start_for(session, item, act, at, config or runtime().config, lead)
    effect = effect_of(act)
    if effect is not None and effect.effect == Effect.reschedule:
        _reschedule(session, item, actor, config or runtime().config, at)
    elif effect is not None:
        _waive(session, item, effect.reason, actor, at, rows=effect.effect == Effect.waive)
    return met


def close_cards(session: Session, item: Item, clock: Clock, label: str, actor: str, at: datetime) -> None:
    """The clock's step is done (or waived): its reminder and escalation cards stop offering buttons, for everyone."""
    cards = session.scalars(select(Card).where(Card.clock_id == clock.id, Card.state == CardState.open))
    finish_cards(session, item, cards, label, actor, at, None)


def _fired(session: Session, clock: Clock) -> set[str]:
    return set(session.scalars(select(ClockFiring.name).where(ClockFiring.clock_id == clock.id)))


def _reschedule(session: Session, item: Item, actor: str, config: Config, at: datetime) -> list[Clock]:
    """Recompute the still-open clocks of item for its (new) grade (thresholds already fired stay fired)."""
    grade = item.grade or item.suggested_grade or "general"
    changed = []
    for c in open_clocks(session, item):
        if c.state != ClockState.open:
            continue
        policy, spec = restore(c.policy, c.kind)
        if c.extensions:  # an approved extension set this due: a new grade does not undo it
            continue
        r = clock_row(c.kind)
        explicit = item.external_due_at if r is not None and r.external_due else None  # an upper level's deadline
        sched = policy.schedule(c.kind, grade, c.started_at, calendar_for(config, session), override_due=explicit)
        if sched is None:
            continue
        before = c.due_at
        c.grade, c.aim_at, c.nudge_at = grade, sched.aim_at, sched.nudge_at
        c.warn_at, c.due_at = sched.warn_at, sched.due_at
        if c.owner != Owner.office and c.due_at != before:  # the unit learns a new due now: has it time to act?
            c.charged = "office" if c.due_at - at < config.policy.min_time_to_act else None
        c.advance(_fired(session, c))
        record(
            session,
            item,
            actor,
            Event.clock_regrade,
            at,
            kind=c.kind,
            due_before=before.isoformat(),
            due_after=c.due_at.isoformat(),
            grade=grade,
        )
        defer(session, Job.schedule_clock, c.id)
        changed.append(c)
    return changed


def move_due(session: Session, clock: Clock, new_due: datetime) -> None:
    """Move a clock's due (an approved extension): warning and escalations follow, fired ones stay fired."""
    policy, _spec = restore(clock.policy, clock.kind)
    moments = policy.moments(clock.started_at, new_due, None)
    clock.due_at, clock.warn_at = new_due, max(moments.warn_at, clock.nudge_at)
    clock.extensions += 1  # names the new warning and due thresholds, so they fire again for the new due
    clock.advance(_fired(session, clock))
    defer(session, Job.schedule_clock, clock.id)


def waive(session: Session, item: Item, label: str, reason: str, actor: str, at: datetime) -> Clock:
    """Waive the item's owed clock named label (office decision): nothing fires for it any more."""
    owed = [c for c in open_clocks(session, item) if label in (c.label, c.kind)]
    if not owed:
        names = "、".join(c.label for c in open_clocks(session, item)) or "无"
        raise Refusal(f"{item.code} 没有未完成的“{label}”时限（未完成的：{names}）。")
    clock = owed[0]
    _waive_one(session, item, clock, f"时限已免除 {show(at)}", reason, actor, at, row=True)
    return clock
