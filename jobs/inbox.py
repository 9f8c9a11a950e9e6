"""Work the durable inbox: each person's stored callbacks are handled one at a time, in arrival order."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import or_, select

from core import clock
from core.runtime import Runtime, runtime
from models import ProcessedCallback
from workflow import render
from workflow.outbox import emit

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SORRY = "抱歉，系统处理您的消息时出错，已记录。请稍后重试，或联系领导小组办公室。"


def process_user(userid: str, rt: Runtime | None = None) -> int:
    """Handle userid's pending callbacks in order under a per-person lock; return how many were handled."""
    rt = rt or runtime()
    done = 0
    with rt.redis.lock(f"liaowang:inbox-lock:{userid}", timeout=120, blocking_timeout=60):
        while True:
            with rt.sessions() as s:
                row = s.execute(
                    select(ProcessedCallback.id, ProcessedCallback.retry_at)
                    .where(ProcessedCallback.userid == userid, ProcessedCallback.state == "pending")
                    .order_by(ProcessedCallback.id)
                    .limit(1)
                ).first()
            if row is None or (row.retry_at and row.retry_at > clock.now()):
                return done  # later messages wait behind one that is waiting to be retried: order matters
            if not _handle_one(rt, row.id):
                return done
            done += 1


def _handle_one(rt: Runtime, row_id: int) -> bool:
    from handlers.runner import handle

    now = clock.now()
    try:
        with rt.sessions() as s, s.begin():
            row = s.get(ProcessedCallback, row_id)
            if row is None or row.state != "pending":
                return True
            handle(s, row, rt, now)
            row.state, row.handled_at = "done", now
        return True
    except Exception as exc:  # noqa: BLE001 - recorded on the row; retried by the sweep, then apologised for
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
        if row.attempts >= MAX_ATTEMPTS:
            row.state, row.handled_at = "failed", now
            emit(s, [row.userid], render.text(SORRY), f"reply:{row.key}", now)
            return True
        row.retry_at = now + timedelta(seconds=2**row.attempts)
    return False


def pending_users(rt: Runtime, limit: int = 200) -> list[str]:
    """Return people who have stored callbacks ready to handle now (one indexed query)."""
    now = clock.now()
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(ProcessedCallback.userid)
                .where(
                    ProcessedCallback.state == "pending",
                    or_(ProcessedCallback.retry_at.is_(None), ProcessedCallback.retry_at <= now),
                )
                .distinct()
                .limit(limit)
            )
        )


def consume(rt: Runtime, stop: threading.Event, poll: float = 0.02) -> None:
    """Poll the inbox every poll seconds and handle each waiting person's callbacks, until stop is set."""
    while not stop.is_set():
        try:
            users = pending_users(rt)
        except Exception:  # noqa: BLE001 - the database may be restarting; try again shortly
            log.exception("inbox poll failed")
            stop.wait(1)
            continue
        for userid in users:
            try:
                process_user(userid, rt)
            except Exception:  # noqa: BLE001 - the row stays pending and is tried again on the next poll
                log.exception("inbox handling failed for %r", userid)
        if not users:
            stop.wait(poll)
