"""Write append-only audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEvent, Item


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
    if item is not None and item.chat_id:
        from workflow import appchat

        appchat.on_event(session, item, ev)
    return ev
