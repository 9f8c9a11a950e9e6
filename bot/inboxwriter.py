"""The callback's one write: store each received callback once, with group commit (the hot path).

Request threads put their row on one queue per process. A request thread that finds nobody committing becomes the
leader: it inserts everything waiting (its own row included) in ONE multi-row
`INSERT … ON CONFLICT (key) DO NOTHING RETURNING key`, commits once and wakes each waiting request with whether its
row was new; the others wait. A leader hands over rather than serving others forever: after its batch it promotes
the oldest row still waiting, whose own thread then leads the next batch. Measured in bench/callback.py: one
transaction per callback through SQLAlchemy cost as much as verifying, decrypting and parsing it; batching makes the
database cost per callback small on SQLite and on PostgreSQL, and leading from the request thread (no writer
thread) saves a thread switch per batch.

After a batch with new rows committed, a second thread rings the worker's inbox consumers awake (core.wake); a
lost or failed ring costs only their fallback poll, and a slow Redis never holds up a commit. A ring goes out at once
after a quiet spell, and at most every RING_EVERY under load, when one ring covers many batches.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from core.db import write_lock
from core.outage import dependency, describe

log = logging.getLogger(__name__)
MAX_BATCH = 200
WAIT_SECONDS = 4.0  # WeCom gives up after 5 s
RING_EVERY = 0.05  # seconds between two rings of one process (a ring costs a Redis round trip: ~50 µs/callback)
QUEUED, DONE, PROMOTED = 0, 1, 2  # a row's state: waiting, committed (or failed), handed the lead


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


class _Row:
    """One callback waiting to be stored, and what became of it."""

    __slots__ = ("error", "new", "params", "state", "wake")

    def __init__(self, params: tuple[Any, ...]) -> None:
        self.params = params
        self.wake = _held()  # released once: when the row is committed (DONE) or handed the lead (PROMOTED)
        self.state = QUEUED
        self.new = False
        self.error: BaseException | None = None


class InboxWriter:
    """Insert callbacks into processed_callbacks; store() returns True if the row is new, False for a retry."""

    def __init__(self, engine: Engine, wake: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self.wake = wake  # called with how many people got new rows, after their batch committed
        self.sqlite = engine.dialect.name == "sqlite"
        self._start = threading.Lock()
        self._lead = threading.Lock()  # held by the request thread committing a batch
        self._waiting: queue.SimpleQueue[_Row] = queue.SimpleQueue()  # C, lock-free put: measured in bench/callback
        self._raw: Any = None
        self._joined = False  # the last batch had more than one row: requests are arriving together
        self._parsing: set[int] = set()  # threads between receiving a callback and storing it (set ops are atomic)
        self._rings: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._ringer: threading.Thread | None = None
        self._ring_asked = False  # a ring is asked for and not yet rung
        self._unrung = 0  # people with new rows committed since the last ring

    def expect(self) -> None:
        """This request thread has a callback to open and probably store: a leader lets it join its batch."""
        self._parsing.add(threading.get_ident())

    def unexpect(self) -> None:
        """This request thread will store nothing more (stored, refused or failed)."""
        self._parsing.discard(threading.get_ident())

    def store(self, key: str, userid: str, payload: dict[str, Any], at: datetime) -> bool:
        """Store one callback (leading or joining a batch that commits); raise if it could not be stored in time."""
        self.unexpect()
        at = at.astimezone(UTC)
        when: Any = at.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else at
        row = _Row((key, userid, json.dumps(payload, ensure_ascii=False), when))
        self._waiting.put(row)
        if self._lead.acquire(blocking=False):
            self._run_lead(row if row.state == PROMOTED else None)
        deadline = time.monotonic() + WAIT_SECONDS
        while row.state != DONE:
            left = deadline - time.monotonic()
            if row.state == PROMOTED:  # the previous leader handed over: lead the next batch, this row first
                if not self._lead.acquire(timeout=max(0.0, left)):
                    raise TimeoutError("inbox write did not commit in time")
                self._run_lead(row)
            elif not row.wake.acquire(timeout=max(0.0, left)):
                raise TimeoutError("inbox write did not commit in time")
        if row.error is not None:
            raise row.error
        return row.new

    def _run_lead(self, first: _Row | None) -> None:
        """Holding the lead: commit what waits (first first), then hand the lead to the oldest row still waiting."""
        while True:
            batch = [first] if first is not None else []
            first = None
            if self._parsing or self._joined:  # under load: let the requests being parsed join (yield the GIL once)
                time.sleep(0)
            with contextlib.suppress(queue.Empty):
                while len(batch) < MAX_BATCH:
                    batch.append(self._waiting.get_nowait())
            self._joined = len(batch) > 1
            try:
                if batch:
                    self._commit(batch)
                nxt = self._waiting.get_nowait()
            except queue.Empty:
                self._lead.release()
                # a row queued after the look above, whose thread found the lead taken, would wait for nobody
                if self._waiting.empty() or not self._lead.acquire(blocking=False):
                    return
                continue
            except BaseException:
                self._lead.release()
                raise
            nxt.state = PROMOTED
            self._lead.release()
            nxt.wake.release()
            return

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
            promoted, row.state = row.state == PROMOTED, DONE
            if not promoted:  # a promoted row's thread is awake already: it is the one committing
                row.wake.release()
        if self.wake is not None:
            users = len({row.params[1] for row in batch if row.new})
            if users:
                self._ring(users)

    def _ring(self, users: int) -> None:
        """Have the ringer thread ring for these people (one hand-over per ring, however many batches it covers)."""
        self._unrung += users
        if self._ring_asked:
            return  # the ringer has not rung yet: it takes this count along
        self._ring_asked = True
        if self._ringer is None or not self._ringer.is_alive():
            with self._start:
                if self._ringer is None or not self._ringer.is_alive():
                    self._ringer = threading.Thread(target=self._ring_loop, name="inbox-wake", daemon=True)
                    self._ringer.start()
        self._rings.put(True)

    def _ring_loop(self) -> None:
        """Ring once for every batch committed before the ring: at once after a quiet spell, else RING_EVERY after the
        last ring (the batches committed meanwhile share it; the consumers are busy then anyway)."""
        assert self.wake is not None
        last = 0.0
        while True:
            self._rings.get()
            time.sleep(max(0.0, last + RING_EVERY - time.monotonic()))  # idle: at once; busy: batches join
            last = time.monotonic()
            self._ring_asked = False  # first: a batch committed from now on asks for the next ring
            users, self._unrung = self._unrung, 0
            try:
                self.wake(max(1, users))
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
