"""Who hears of a step, and how: the one place that decides between a direct message and the item's group.

A person who must act on a step (an actor) gets the message directly. Everyone else involved (a follower) reads it
in the item's group (一事一群) when the item has one and the person is a member; otherwise one direct line. Nobody
gets two messages for the same step: each person is told once per (item, step) in a transaction, actors first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Item
from workflow.engine.outbox import emit
from workflow.people import appchat


def _told(session: Session, item: Item, step: str) -> set[str]:
    """The people already told of this step of item in this session."""
    told: dict[tuple[int, str], set[str]] = session.info.setdefault("told", {})
    return told.setdefault((item.id, step), set())


def in_group(session: Session, item: Item) -> set[str]:
    """The members of the item's group chat, or nobody when it has none."""
    return set(appchat.members(session, item)) if item.chat_id else set()


def tell(
    session: Session,
    item: Item,
    key: str,
    at: datetime,
    message: dict[str, Any],
    *,
    actors: Iterable[str] = (),
    followers: Iterable[str] = (),
    step: str | None = None,
    by: str = "",
    task_id: str | None = None,
    fresh: bool = False,
) -> list[str]:
    """Send message (one outbox row under key) to the actors and to each follower outside the item's group, each
    person once per step (default: key) and never to `by` as a follower (who took the step has their answer);
    return who gets it."""
    told = _told(session, item, step or key)
    act = [u for u in dict.fromkeys(actors) if u and u not in told]
    told.update(act)
    waiting = [u for u in dict.fromkeys(followers) if u and u != by and u not in told]
    group = in_group(session, item) if waiting else set()
    follow = [u for u in waiting if u not in group]
    told.update(waiting)
    emit(session, act + follow, message, key, at, item, task_id=task_id, fresh=fresh)
    return act + follow
