"""A short-lived in-process cache of active userids, so the callback can refuse outsiders without a query."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, select

from models import Person


class Members:
    """Answers "is this userid an active member?" from a set refreshed at most every ttl seconds."""

    def __init__(self, engine: Engine, ttl: float = 5.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._ids: frozenset[str] = frozenset()
        self._loaded = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self.engine.connect() as conn:
            ids = conn.scalars(select(Person.userid).where(Person.active.is_(True))).all()
        self._ids, self._loaded = frozenset(ids), time.monotonic()

    def __contains__(self, userid: str) -> bool:
        if time.monotonic() - self._loaded > self.ttl:
            with self._lock:
                if time.monotonic() - self._loaded > self.ttl:
                    self._refresh()
        if userid in self._ids:
            return True
        with self._lock:  # someone added since the last refresh gets in without waiting for the ttl
            self._refresh()
        return userid in self._ids
