"""Apply the declared procedure (models/procedure.py): the one entry point of every action on an item.

`apply` checks who may take the action (workflow.engine.relations) and from which state, moves the item, writes the
audit row (with what clocks.in_row says the row names: 归档's clocks it ends), asks the clock engine what the action
starts, meets, waives or reschedules (clocks.on_action, its one call that changes clocks) and closes the
cards the action's row declares it closes, all in the caller's transaction. `allowed` is its first half, for a step
that must refuse before it asks for anything more (a form, a file); `allows` tells a page whether to offer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.config import Config
from models import AuditEvent, Item, ItemState, Person
from models.clock import Clock
from models.events import Event
from models.procedure import ACTIONS, CARDS, Act, Action, moves
from models.state import CardPurpose, Subject
from workflow.engine import cards, clocks
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.relations import relations

SYSTEM = "system"


@dataclass(frozen=True)
class Applied:
    """What an action did: the row it was, the state before and after, the clocks it met, the audit row."""

    action: Action
    before: str
    after: str
    met: list[Clock]
    event: AuditEvent


def allows(item: Item, act: Act) -> bool:
    """Return True if item's state allows act (for pages that offer or hide it)."""
    return ItemState(item.state) in ACTIONS[act].states


def check(item: Item, act: Act) -> Action:
    """Return act's row if item's state allows it, else refuse with the row's own sentence (a step that asks for
    more before it knows who acts; apply checks both)."""
    action = ACTIONS[act]
    state = ItemState(item.state)
    if not action.states and state == action.to:  # the action that creates the item (上报): just made, in `to`
        return action
    if state not in action.states:
        raise Refusal(action.refuse(item.code, state))
    return action


def permit(
    session: Session,
    item: Item,
    act: Act,
    actor: Person | None,
    clock: Clock | None = None,
    submission: int | None = None,
) -> Action:
    """Return act's row if actor (None: a timer or the worker) holds one of the relations its `who` names to item
    (to clock; for a decider, to that submission's approval cards), else refuse with the row's own sentence."""
    action = ACTIONS[act]
    if actor is None:
        if SYSTEM not in action.who:
            raise ValueError(f"{act} is not taken by the system")
    elif relations(session, item, actor, clock, submission).isdisjoint(action.who):
        lead = item.lead
        raise Refusal(action.deny(item.code, lead.unit.name if lead else ""))
    return action


def allowed(
    session: Session,
    item: Item,
    act: Act,
    actor: Person | None,
    clock: Clock | None = None,
    submission: int | None = None,
) -> Action:
    """Return act's row if actor may take it (permit) and item's state allows it; else refuse with the row's own
    sentence (who first, then the state)."""
    permit(session, item, act, actor, clock, submission)
    return check(item, act)


def apply(
    session: Session,
    item: Item,
    act: Act,
    actor: Person | None,
    at: datetime,
    *,
    clock: Clock | None = None,
    advance: bool = True,
    event: Event | None = None,
    about: int | Sequence[int] | None = None,
    closing: str = "",
    clicked: tuple[str, str] | None = None,
    recipients: set[str] | None = None,
    by: str = "",
    change: tuple[str | None, str | None] | None = None,
    outside: bool = False,
    config: Config | None = None,
    **detail: Any,
) -> Applied:
    """Take act on item for actor (None: the system): check who and the state, move the item where the table says,
    write the audit row (event: which of the row's declared events), start and meet its clocks, close its cards.

    advance=False records the step without moving the item or touching its clocks (a co-handling unit's part).
    about: the id(s) of the subject of the cards it closes (item-subject cards: the item); closing: the label those
    cards show (default "<name> 已<label>"); clicked: (task id, response code) of the card being answered;
    recipients: close only cards sent to one of these people. by: the audit actor when it is not actor's userid
    (a CLI). change: the audit row's (before, after) when the action changes something other than the state (定级).
    outside: the audit row stands outside the item's record (item_id NULL: packaging an archived item).
    config: the deadline policy for the clocks the step starts (default: the process's, clocks.on_action).
    """
    ids = [about] if isinstance(about, int) else list(about or [])
    deciding = ids[0] if CardPurpose.approval in ACTIONS[act].closes and len(ids) == 1 else None
    action = allowed(session, item, act, actor, clock, deciding)
    if event is not None and event not in action.events:
        raise ValueError(f"{act} does not write {event}")
    name = event or (action.events[0] if action.events else action.name)
    who = by or (actor.userid if actor is not None else SYSTEM)
    before = after = str(item.state)
    if advance and moves(action, ItemState(item.state)):
        assert action.to is not None
        before, after = item.move_to(action.to, at)
    shown = change if change is not None else (before, after)
    detail |= clocks.in_row(session, item, action.name) if advance else {}
    row = record(session, None if outside else item, who, name, at, before=shown[0], after=shown[1], **detail)
    met = clocks.on_action(session, item, action.name, who, at, config=config) if advance else []
    label = closing or (f"{actor.name} 已{action.label}" if actor is not None else f"已{action.label}")
    for purpose in action.closes:
        if CARDS[purpose].subject == Subject.item:
            cards.close(session, item, purpose, None, label, who, at, clicked, recipients)
        for ident in ids:  # none: the step names no subject of this kind (定级 by the office, not on a card)
            cards.close(session, item, purpose, ident, label, who, at, clicked, recipients)
    return Applied(action, before, after, met, row)
