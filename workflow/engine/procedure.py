"""Apply the declared procedure (models/procedure.py): the one place that checks an item's state, moves it,
records the step and meets the clocks the step meets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.config import Config
from models import Item, ItemState, Person
from models.clock import Clock
from models.procedure import ACTIONS, Act, Action, moves
from workflow.engine import clocks
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.relations import ROLE_RELATIONS, relations

RELATION_NAMES = {"office": "领导小组办公室", "general_office": "局办公室", "leader": "领导小组"}


def check(item: Item, name: str) -> Action:
    """Return action name if item's state allows it, else refuse with the action's own sentence."""
    action = ACTIONS[Act(name)]
    state = ItemState(item.state)
    if state not in action.states:
        raise Refusal(action.refuse(item.code, state))
    return action


def allows(item: Item, name: str) -> bool:
    """Return True if item's state allows action name (for pages that offer or hide it)."""
    return ItemState(item.state) in ACTIONS[Act(name)].states


def permit(session: Session, item: Item, name: str, person: Person, clock: Clock | None = None) -> Action:
    """Return action name if person holds one of the relations its `who` names (to item, or to clock), else refuse
    with the action's own sentence."""
    action = ACTIONS[Act(name)]
    if relations(session, item, person, clock).isdisjoint(action.who):
        lead = item.lead
        raise Refusal(action.deny(item.code, lead.unit.name if lead else ""))
    return action


def authorise(name: str, person: Person) -> None:
    """Refuse unless person holds one of the roles the action names (unit relations are checked by the step)."""
    action = ACTIONS[Act(name)]
    roles = [ROLE_RELATIONS[w] for w in action.who if w in ROLE_RELATIONS]
    if roles and len(roles) == len(action.who) and not any(person.has(r) for r in roles):
        names = "、".join(RELATION_NAMES[w] for w in action.who if w in RELATION_NAMES)
        raise Refusal(f"只有{names}可以{action.label}。")


def take(
    session: Session,
    item: Item,
    name: str,
    actor: str,
    at: datetime,
    advance: bool = True,
    config: Config | None = None,
    **detail: Any,
) -> tuple[str, str, list[Clock]]:
    """Take action name on item: check its state, move it where the procedure says, record it, meet its clocks.

    advance=False records the step without moving the item or meeting its clocks (a co-handling unit's part);
    config: the deadline policy for the clocks the step starts (default: the process's, clocks.on_action).
    Returns (state before, state after, clocks met).
    """
    action = check(item, name)
    before = after = str(item.state)
    if advance and moves(action, ItemState(item.state)):
        assert action.to is not None
        before, after = item.move_to(action.to, at)
    record(session, item, actor, action.name, at, before=before, after=after, **detail)
    met = clocks.on_action(session, item, action.name, actor, at, config=config) if advance else []
    return before, after, met
