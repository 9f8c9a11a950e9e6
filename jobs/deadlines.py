"""Clock jobs: one RQ job per threshold at its time (deterministic id), never trusted to be on time."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from rq import Queue
from sqlalchemy import select

from core import clock as clockmod
from core.runtime import runtime
from models.clock import OPEN_STATES, Clock
from workflow.deadlines import fire_due

log = logging.getLogger(__name__)


def schedule_clocks(queue: Queue, ids: list[int]) -> None:
    """Schedule fire_clock for each clock's next threshold (job id clock-<id>-<threshold>)."""
    rt = runtime()
    with rt.sessions() as s:
        rows = s.execute(select(Clock.id, Clock.next_name, Clock.next_at)
                         .where(Clock.id.in_(ids), Clock.state.in_(OPEN_STATES), Clock.next_at.is_not(None))).all()
    for cid, name, at in rows:
        _schedule(queue, cid, str(name), at)


def _schedule(queue: Queue, cid: int, name: str, at: datetime) -> None:
    # RQ's scheduler keeps whole-second scores and may run a job up to 1 s early: aim at the next whole second
    when = datetime.fromtimestamp(math.ceil(at.timestamp()), UTC)
    job_id = f"clock-{cid}-{name.replace('@', '-')}"
    queue.enqueue_at(when, fire_clock, cid, job_id=job_id, result_ttl=60, failure_ttl=86400)


def fire_clock(cid: int, batch: int = 500) -> str:
    """Fire clock cid's threshold if it is really due (re-schedule if early), with every other due one in a batch."""
    rt, now = runtime(), clockmod.now()
    with rt.sessions() as s, s.begin():
        clock = s.get(Clock, cid)
        if clock is None or clock.next_at is None or clock.state not in OPEN_STATES:
            return "nothing"
        if clock.next_at > now:
            _schedule(rt.queue, cid, str(clock.next_name), clock.next_at)
            return "early"
        fired = fire_due(s, now, limit=1, ids=[cid])
        fired += fire_due(s, now, limit=batch)  # thresholds due together are handled together, not a job each
    return f"fired {fired}"


def sweep_clocks(batch: int = 500, rounds: int = 100) -> int:
    """Fire every past, unrecorded threshold in batches (lost jobs, Redis flushed, worker killed)."""
    rt, total = runtime(), 0
    for _ in range(rounds):
        with rt.sessions() as s, s.begin():
            n = fire_due(s, clockmod.now(), limit=batch)
        total += n
        if n == 0:
            break
    if total:
        log.info("clock sweep fired %d thresholds", total)
    return total
