"""Per-person conversation state (a report draft, a reason being typed) kept in the database with a timeout.

It is written in the same transaction as the message's other effects, so a handler that fails leaves the
conversation as it was, and handling a message needs no Redis.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models import Conversation


class Conversations:
    """Load, save and clear one JSON state per userid, each expiring after ttl seconds of silence."""

    def __init__(self, session: Session, ttl: int, now: datetime) -> None:
        self.session, self.ttl, self.now = session, ttl, now

    def get(self, userid: str) -> dict[str, Any] | None:
        """Return the person's state, or None if there is none or it timed out."""
        row = self.session.get(Conversation, userid)
        if row is None or row.expires_at <= self.now:
            return None
        return copy.deepcopy(row.state)  # the handler changes it in place; put() must see a change

    def put(self, userid: str, state: dict[str, Any], ttl: int | None = None) -> None:
        """Save the person's state and restart its timeout (ttl seconds, else the default)."""
        until = self.now + timedelta(seconds=ttl or self.ttl)
        row = self.session.get(Conversation, userid)
        if row is None:
            self.session.add(Conversation(userid=userid, state=dict(state), expires_at=until))
        else:
            row.state, row.expires_at = copy.deepcopy(state), until

    def clear(self, userid: str) -> None:
        """Forget the person's state."""
        row = self.session.get(Conversation, userid)
        if row is not None:
            self.session.delete(row)
