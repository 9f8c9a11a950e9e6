"""Per-person conversation state (guided report drafts) kept in Redis with a timeout."""

from __future__ import annotations

import json
from typing import Any

import redis


class Conversations:
    """Load, save and clear one JSON state per userid, each expiring after ttl seconds of silence."""

    def __init__(self, conn: redis.Redis, ttl: int) -> None:
        self.conn, self.ttl = conn, ttl

    def _key(self, userid: str) -> str:
        return f"conv:{userid}"

    def get(self, userid: str) -> dict[str, Any] | None:
        """Return the person's state, or None if there is none or it timed out."""
        raw = self.conn.get(self._key(userid))
        return json.loads(raw) if raw else None

    def put(self, userid: str, state: dict[str, Any], ttl: int | None = None) -> None:
        """Save the person's state and restart its timeout (ttl seconds, else the default)."""
        self.conn.set(self._key(userid), json.dumps(state, ensure_ascii=False), ex=ttl or self.ttl)

    def clear(self, userid: str) -> None:
        """Forget the person's state."""
        self.conn.delete(self._key(userid))
