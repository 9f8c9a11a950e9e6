"""The shared gauges of /metrics, read from the database and Redis at scrape time (each part skipped if down)."""

from __future__ import annotations

import logging
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock, metrics
from core.clock import LOCAL_TZ
from core.config import Config
from core.outage import describe
from core.runtime import Runtime
from models import Clock, OutboxMessage, ProcessedCallback
from models.state import ClockState, InboxState, OutboxState
from workflow.engine.clocks import calendar_for

log = logging.getLogger(__name__)


def counts(session: Session, now: datetime) -> dict[str, float]:
    """Return the inbox, outbox and clock gauges."""
    pending, oldest = session.execute(
        select(func.count(), func.min(ProcessedCallback.received_at)).where(
            ProcessedCallback.state == InboxState.pending
        )
    ).one()
    outbox = session.scalar(
        select(func.count()).where(OutboxMessage.state.in_([OutboxState.pending, OutboxState.sending]))
    )
    open_clocks = session.scalar(select(func.count()).where(Clock.state == ClockState.open))
    return {
        "liaowang_inbox_pending": float(pending or 0),
        "liaowang_inbox_lag_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        "liaowang_outbox_pending": float(outbox or 0),
        "liaowang_clocks_open": float(open_clocks or 0),
    }


def calendar_until(config: Config, now: datetime, session: Session | None = None) -> float:
    """Unix seconds of the start (Beijing) of the last day with an official, entered or configured schedule."""
    last = calendar_for(config, session).official_until(clock.local(now).date())
    return datetime.combine(last, time(0), LOCAL_TZ).timestamp()


def read(rt: Runtime) -> dict[str, float]:
    """Return every shared gauge that can be read now; a part whose store is down is left out (and logged), and
    liaowang_database_up / liaowang_redis_up say which (so an outage alerts while the other gauges are absent)."""
    out: dict[str, float] = {"liaowang_calendar_official_until_seconds": calendar_until(rt.config, clock.now())}
    out["liaowang_database_up"] = out["liaowang_redis_up"] = 0.0
    try:
        with rt.sessions() as s:
            out.update(counts(s, clock.now()))
            out["liaowang_calendar_official_until_seconds"] = calendar_until(rt.config, clock.now(), s)
        out["liaowang_database_up"] = 1.0
    except Exception as exc:  # noqa: BLE001 - a scrape must answer even while the database is down
        log.warning("metrics: database gauges unavailable: %s", describe(exc))
    try:
        out["liaowang_worker_up"] = float(metrics.workers_up(rt.redis))
        out["liaowang_redis_up"] = 1.0
    except Exception as exc:  # noqa: BLE001 - likewise for Redis
        log.warning("metrics: worker heartbeats unavailable: %s", describe(exc))
    return out
