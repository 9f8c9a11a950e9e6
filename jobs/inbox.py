"""Work the durable inbox: each person's stored callbacks are handled one at a time, in arrival order.

Who works on a person's inbox is decided by a lease row in the database (inbox_leases), not a Redis lock: it is
taken only when free or expired (LEASE_SECONDS after its holder last renewed it), never waited for, and every
handling transaction first renews it with its fence number, so a holder that lost it cannot commit anything.
A killed worker's person is therefore taken over within LEASE_SECONDS, nobody else waits for them, and handling
needs no Redis at all.

An idle consumer costs nothing: it blocks on the inbox wake-up list (core.wake), which the web rings after a batch
of new callbacks committed, and looks at the database only when woken, when a retry or an expired lease falls due,
or after FALLBACK seconds (a signal lost with a restarted or flushed Redis). A pick-up that only the fallback poll
found is logged (FALLBACK_LINE) and counted (`pickups`, metric liaowang_inbox_pickups_total), so a lost signal
shows.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import clock, metrics, wake
from core.incoming import SYSTEM_SENDER
from core.outage import Outage, dependency
from core.runtime import Runtime, runtime
from models import InboxLease, ProcessedCallback
from models.state import InboxState
from workflow.engine.outbox import emit
from workflow.views import render

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SYSTEM_MAX_ATTEMPTS = 40  # change_contact: retried every 5 min at most, for about 3 hours, then the daily sync
LEASE_SECONDS = 10.0
BATCH = 20  # rows of one person per turn, then the consumer moves on to others
FALLBACK = 5.0  # seconds between looks at the database when no wake-up signal comes (a lost signal's cost)
FALLBACK_LINE = "收件箱：兜底轮询取到 %d 人的消息（唤醒信号丢失或 Redis 不可用）"
SORRY = "抱歉，系统处理您的消息时出错，已记录。请稍后重试，或联系领导小组办公室。"


class Handler(Protocol):
    """What turns one stored callback into its effects (handlers.runner, registered by the composition root)."""

    def prefetch(self, rt: Runtime, payload: dict[str, Any]) -> Any:
        """Read from WeCom, outside the handling transaction, what the callback needs (None if nothing)."""

    def handle(self, session: Session, row: ProcessedCallback, rt: Runtime, now: datetime, seen: Any) -> None:
        """Apply the callback inside session (a Refusal becomes the reply)."""


_handler: Handler | None = None


def set_handler(handler: Handler | None) -> None:
    """Install what handles each stored callback (the composition root, wiring.wire, does this once per process)."""
    global _handler
    _handler = handler


def _the_handler() -> Handler:
    if _handler is None:
        raise RuntimeError("no inbox handler: build the process with wiring.wire(rt)")
    return _handler


class LeaseLost(Exception):
    """Another consumer has taken this person's inbox over (this one was too slow or presumed dead)."""


@dataclass(frozen=True)
class Lease:
    """A consumer's right to one person's inbox: holder name and fence number."""

    userid: str
    holder: str
    fence: int


def holder_name() -> str:
    """Return this consumer's name: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _rows(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


def take(rt: Runtime, userid: str, holder: str) -> Lease | None:
    """Take userid's lease if it is free or expired; None if someone holds it (never waits)."""
    now = clock.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    with rt.sessions() as s, s.begin():
        free = or_(InboxLease.holder.is_(None), InboxLease.expires_at.is_(None), InboxLease.expires_at < now)
        done = s.execute(
            update(InboxLease)
            .where(InboxLease.userid == userid, free)
            .values(holder=holder, fence=InboxLease.fence + 1, expires_at=until)
        )
        if _rows(done) == 1:
            fence = s.execute(select(InboxLease.fence).where(InboxLease.userid == userid)).scalar_one()
            return Lease(userid, holder, int(fence))
        if s.get(InboxLease, userid) is not None:
            return None
    try:  # the person's first message ever: create the lease, taken
        with rt.sessions() as s, s.begin():
            s.add(InboxLease(userid=userid, holder=holder, fence=1, expires_at=until))
    except IntegrityError:
        return None
    return Lease(userid, holder, 1)


def renew(session: Session, lease: Lease, now: datetime) -> None:
    """Extend the lease inside the caller's transaction, or raise LeaseLost (the transaction must not commit)."""
    done = session.execute(
        update(InboxLease)
        .where(InboxLease.userid == lease.userid, InboxLease.holder == lease.holder, InboxLease.fence == lease.fence)
        .values(expires_at=now + timedelta(seconds=LEASE_SECONDS))
    )
    if _rows(done) != 1:
        raise LeaseLost(lease.userid)


def release(rt: Runtime, lease: Lease) -> None:
    """Give the lease back so the next message for this person is picked up at once."""
    with rt.sessions() as s, s.begin():
        s.execute(
            update(InboxLease)
            .where(InboxLease.userid == lease.userid, InboxLease.fence == lease.fence)
            .values(holder=None, expires_at=None)
        )


def process_user(userid: str, rt: Runtime | None = None, holder: str = "") -> int:
    """Handle up to BATCH of userid's pending callbacks in order, if nobody else is; return how many."""
    rt = rt or runtime()
    _the_handler()  # fail before taking the lease, not as a failure of each message
    lease = take(rt, userid, holder or holder_name())
    if lease is None:
        return 0
    done = 0
    try:
        while done < BATCH:
            with rt.sessions() as s:
                row = s.execute(
                    select(ProcessedCallback.id, ProcessedCallback.retry_at, ProcessedCallback.payload)
                    .where(ProcessedCallback.userid == userid, ProcessedCallback.state == InboxState.pending)
                    .order_by(ProcessedCallback.id)
                    .limit(1)
                ).first()
            if row is None or (row.retry_at and row.retry_at > clock.now()):
                break  # later messages wait behind one that is waiting to be retried: order matters
            if not _handle_one(rt, row.id, lease, row.payload):
                break
            done += 1
    finally:
        try:
            release(rt, lease)
        except Exception as exc:  # noqa: BLE001 - it expires by itself in LEASE_SECONDS
            log.warning("could not release the inbox lease of %r (%s); it expires by itself", userid, exc)
    return done


def _handle_one(rt: Runtime, row_id: int, lease: Lease, payload: dict[str, Any]) -> bool:
    handler = _the_handler()
    try:
        seen = handler.prefetch(rt, payload)  # what WeCom must be asked first is asked outside the transaction
        now = clock.now()
        with rt.sessions() as s, s.begin():
            renew(s, lease, now)
            row = s.get(ProcessedCallback, row_id)
            if row is None or row.state != InboxState.pending:
                return True
            handler.handle(s, row, rt, now, seen)
            row.state, row.handled_at = InboxState.done, now
        return True
    except LeaseLost:
        log.warning("inbox of %r was taken over by another consumer; leaving it to them", lease.userid)
        return False
    except Exception as exc:
        if dependency(exc) is not None:
            raise  # an outage, not this message's fault: the consumer backs off and the row stays pending
        log.exception("inbox row %s failed", row_id)
        return _failed(rt, row_id, exc)


def _failed(rt: Runtime, row_id: int, exc: Exception) -> bool:
    now = clock.now()
    with rt.sessions() as s, s.begin():
        row = s.get(ProcessedCallback, row_id)
        if row is None:
            return False
        row.attempts += 1
        row.error = f"{type(exc).__name__}: {exc}"[:500]
        system = row.userid == SYSTEM_SENDER  # WeCom's own events wait out a longer outage (~3 h)
        if row.attempts >= (SYSTEM_MAX_ATTEMPTS if system else MAX_ATTEMPTS):
            log.error("inbox row %s given up after %d attempts: %s", row_id, row.attempts, row.error)
            row.state, row.handled_at = InboxState.failed, now
            if not system:  # WeCom's own events (change_contact) have nobody to apologise to
                emit(s, [row.userid], render.text(SORRY), f"reply:{row.key}", now)
            return True
        row.retry_at = now + timedelta(seconds=min(2**row.attempts, 300))
    return False


def pending_users(rt: Runtime, limit: int = 200) -> list[str]:
    """Return people with callbacks ready to handle now whose inbox nobody holds (one indexed query)."""
    now = clock.now()
    held = exists().where(
        InboxLease.userid == ProcessedCallback.userid, InboxLease.holder.is_not(None), InboxLease.expires_at >= now
    )
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(ProcessedCallback.userid)
                .where(
                    ProcessedCallback.state == InboxState.pending,
                    or_(ProcessedCallback.retry_at.is_(None), ProcessedCallback.retry_at <= now),
                    ~held,
                )
                .distinct()
                .limit(limit)
            )
        )


class Wake(StrEnum):
    """Why a consumer looked at the database (counted in `pickups` when the look found work)."""

    start = "start"  # the consumer (re)started
    more = "more"  # it had just handled people: it looks again before sleeping
    signal = "signal"  # the web rang after committing new callbacks
    due = "due"  # a retry or an expired lease fell due
    fallback = "fallback"  # nothing rang within FALLBACK seconds


pickups: Counter[Wake] = Counter()  # per process: looks that found people to handle, by why the consumer looked


def next_due(rt: Runtime) -> datetime | None:
    """Return when the next waiting row's retry falls due or a held lease with pending rows expires (None if never)."""
    now = clock.now()
    with rt.sessions() as s:
        retry = s.scalar(
            select(func.min(ProcessedCallback.retry_at)).where(
                ProcessedCallback.state == InboxState.pending, ProcessedCallback.retry_at > now
            )
        )
        waiting = exists().where(
            ProcessedCallback.userid == InboxLease.userid, ProcessedCallback.state == InboxState.pending
        )
        lease = s.scalar(
            select(func.min(InboxLease.expires_at)).where(
                InboxLease.holder.is_not(None), InboxLease.expires_at >= now, waiting
            )
        )
    return min((t for t in (retry, lease) if t is not None), default=None)


def nudge(rt: Runtime, tokens: int = 1) -> None:
    """Wake idle consumers (of every worker) to look at the inbox now; raise RedisError if Redis is away."""
    wake.ring(rt.redis, wake.INBOX, tokens)


def _sleep(rt: Runtime, stop: threading.Event, fallback: float, signal: Outage) -> Wake:
    """Block until the web rings, the next retry or lease expiry is due, or fallback seconds pass; say which."""
    delay, why = fallback, Wake.fallback
    nxt = next_due(rt)
    if nxt is not None and (nxt - clock.now()).total_seconds() < fallback:
        delay, why = max(0.0, (nxt - clock.now()).total_seconds()) + 0.01, Wake.due
    try:
        woke = wake.wait(rt.redis, wake.INBOX, delay)
    except Exception as exc:  # noqa: BLE001 - Redis away: poll the database every fallback (or backoff) seconds
        if dependency(exc) is None:
            raise
        stop.wait(min(delay, signal.failed(exc)))
        return why
    signal.ok()
    return Wake.signal if woke else why


def consume(rt: Runtime, stop: threading.Event, fallback: float = FALLBACK) -> None:
    """Handle each waiting person's callbacks until stop is set, sleeping on the wake-up signal when there are none;
    outages are waited out."""
    outage, signal, holder = Outage("收件箱", log), Outage("收件箱唤醒信号", log), holder_name()
    why = Wake.start
    while not stop.is_set():
        try:
            users = pending_users(rt)
            random.shuffle(users)  # consumers woken together start with different people
            for userid in users:
                if stop.is_set():
                    break
                process_user(userid, rt, holder)
            outage.ok()
            if users:
                pickups[why] += 1
                metrics.pickup(why)
                if why == Wake.fallback:
                    log.warning(FALLBACK_LINE, len(users))
                why = Wake.more
                continue
            why = _sleep(rt, stop, fallback, signal)
        except Exception as exc:  # noqa: BLE001 - the rows stay pending; try again after a bounded wait
            stop.wait(outage.failed(exc))
            why = Wake.start
