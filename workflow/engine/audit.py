"""Write append-only audit events, and tell the declared subscribers of an item's events (its group chat's line).

Writing the row sends nothing by itself: who hears of an event is the subscriber list, which the composition root
(wiring.wire) declares once per process (today: workflow.people.appchat.on_event, the 一事一群 timeline line).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEvent, Item

Subscriber = Callable[[Session, Item, AuditEvent], None]
_subscribers: tuple[Subscriber, ...] = ()


def subscribe(*subscribers: Subscriber) -> None:
    """Declare who hears of every audit event of an item, in order (replaces the previous declaration)."""
    global _subscribers
    _subscribers = subscribers


def record(
    session: Session,
    item: Item | None,
    actor: str,
    action: str,
    at: datetime,
    before: str | None = None,
    after: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one audit event (who, when, what, before/after) to the session."""
    ev = AuditEvent(
        item_id=item.id if item else None, actor=actor, action=action, before=before, after=after, detail=detail, at=at
    )
    session.add(ev)
    if item is not None:
        for tell in _subscribers:
            tell(session, item, ev)
    return ev
