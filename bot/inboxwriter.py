"""The callback's one write: store each received callback once, with group commit (the hot path).

Request threads hand their row to one writer thread per process and wait; the writer inserts everything
that is waiting in ONE multi-row `INSERT … ON CONFLICT (key) DO NOTHING RETURNING key` and commits once,
then wakes each request with whether its row was new. Measured in bench/callback.py: one transaction per
callback through SQLAlchemy cost as much as verifying, decrypting and parsing it; batching makes the
database cost per callback small on SQLite and on PostgreSQL.

After a batch with new rows committed, a second thread rings the worker's inbox consumers awake (core.wake); a
lost or failed ring costs only their fallback poll, and a slow Redis never holds up the next batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from core.db import write_lock
from core.outage import dependency, describe

log = logging.getLogger(__name__)
MAX_BATCH = 200
WAIT_SECONDS = 4.0  # WeCom gives up after 5 s


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Row:
    params: tuple[Any, ...]
    done: threading.Lock = field(default_factory=_held)  # released by the writer once the row's batch committed
    new: bool = False
    error: BaseException | None = None


class InboxWriter:
    """Insert callbacks into processed_callbacks; store() returns True if the row is new, False for a retry."""

    def __init__(self, engine: Engine, wake: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self.wake = wake  # called with how many people got new rows, after their batch committed
        self.sqlite = engine.dialect.name == "sqlite"
        self._start = threading.Lock()
        self._waiting: queue.SimpleQueue[_Row] = queue.SimpleQueue()  # C, lock-free put: measured in bench/callback
        self._thread: threading.Thread | None = None
        self._raw: Any = None
        self._rings: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._ringer: threading.Thread | None = None

    def store(self, key: str, userid: str, payload: dict[str, Any], at: datetime) -> bool:
        """Store one callback (waiting for the batch it joins to commit); raise if it could not be stored."""
        at = at.astimezone(UTC)
        when: Any = at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else at
        row = _Row((key, userid, json.dumps(payload, ensure_ascii=False), when))
        if self._thread is None or not self._thread.is_alive():
            with self._start:  # started lazily: after gunicorn forks
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                    self._thread.start()
        self._waiting.put(row)
        if not row.done.acquire(timeout=WAIT_SECONDS):
            raise TimeoutError("inbox write did not commit in time")
        if row.error is not None:
            raise row.error
        return row.new

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]  # everything waiting when the previous batch committed goes in one batch
            with contextlib.suppress(queue.Empty):
                while len(batch) < MAX_BATCH:
                    batch.append(self._waiting.get_nowait())
            self._commit(batch)

    def _commit(self, batch: list[_Row]) -> None:
        first: dict[str, _Row] = {}
        for row in batch:
            first.setdefault(row.params[0], row)
        try:
            inserted = self._insert([r.params for r in first.values()])
            for row in batch:
                row.new = first[row.params[0]] is row and row.params[0] in inserted
        except BaseException as exc:  # noqa: BLE001 - every waiting request answers 500 and WeCom retries
            if dependency(exc) is None:
                log.exception("inbox batch of %d failed", len(batch))
            else:  # each waiting request answers 500; the callback logs the outage once (core.outage)
                log.debug("收件箱写入失败（%d 条，答 500，企业微信会重试）：%s", len(batch), describe(exc))
            for row in batch:
                row.error = exc
        for row in batch:
            row.done.release()
        if self.wake is not None:
            users = {row.params[1] for row in batch if row.new}
            if users:
                self._ring(len(users))

    def _ring(self, users: int) -> None:
        if self._ringer is None or not self._ringer.is_alive():
            with self._start:
                if self._ringer is None or not self._ringer.is_alive():
                    self._ringer = threading.Thread(target=self._ring_loop, name="inbox-wake", daemon=True)
                    self._ringer.start()
        self._rings.put(users)

    def _ring_loop(self) -> None:
        """Ring for every committed batch; batches committed while Redis answered the last ring share one ring."""
        assert self.wake is not None
        while True:
            users = self._rings.get()
            with contextlib.suppress(queue.Empty):
                while True:
                    users += self._rings.get_nowait()
            try:
                self.wake(users)
            except Exception as exc:  # noqa: BLE001 - the consumers' fallback poll finds the rows
                log.debug("收件箱唤醒信号未能发出（%s），worker 将由兜底轮询取到", describe(exc))

    def _insert(self, rows: list[tuple[Any, ...]]) -> set[str]:
        p = "?" if self.sqlite else "%s"
        values = ", ".join(f"({p}, {p}, {p}, 'pending', 0, {p})" for _ in rows)
        sql = (
            "INSERT INTO processed_callbacks (key, userid, payload, state, attempts, received_at) "
            f"VALUES {values} ON CONFLICT (key) DO NOTHING RETURNING key"
        )
        flat = [v for r in rows for v in r]
        raw = self._raw or self.engine.raw_connection()
        self._raw = None
        try:
            keys = self._sqlite(raw, sql, flat) if self.sqlite else self._postgres(raw, sql, flat)
        except BaseException:
            raw.invalidate()  # a broken or half-used connection is thrown away, never reused
            raise
        self._raw = raw
        return keys

    def _postgres(self, raw: Any, sql: str, flat: list[Any]) -> set[str]:
        try:
            cur = raw.cursor()
            cur.execute(sql, flat)
            keys = {r[0] for r in cur.fetchall()}
            raw.commit()
            return keys
        except BaseException:
            with contextlib.suppress(Exception):
                raw.rollback()
            raise

    def _sqlite(self, raw: Any, sql: str, flat: list[Any]) -> set[str]:
        """The same write discipline as core.db: the process/thread write lock, then BEGIN IMMEDIATE."""
        lock = write_lock(self.engine)
        lock.acquire()
        try:
            raw.execute("BEGIN IMMEDIATE")
            try:
                keys = {r[0] for r in raw.execute(sql, flat).fetchall()}
                raw.execute("COMMIT")
            except BaseException:
                # a failed COMMIT (disk full) has already rolled back: never let the ROLLBACK's own
                # "no transaction is active" hide the real error
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise
            return keys
        finally:
            lock.release()
