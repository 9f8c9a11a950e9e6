"""Clock engine: the worker's clock thread sleeps until the next threshold and fires all that are due, in batches.

Measured in bench/deadlines.py: one RQ job per threshold (rq 3.0 scores whole seconds and its scheduler polls once
a second) gave p99 lateness of 1.0–1.9 s and 19–65 s for a 10,000-threshold burst; this loop gives p99 ≤ 10 ms and
4–7 s. Between thresholds it costs nothing: it sleeps until the next one, woken early by the clock wake-up list
(core.wake) that every process rings after a commit that started or moved clocks, and looks again at least every
CLOCK_FALLBACK seconds (a lost signal; the sweep also fires anything past due). fire_clock stays for jobs already
queued by older versions (it never trusts its trigger time).
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime

import redis
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock as clockmod
from core import metrics, wake
from core.outage import Outage, dependency
from core.runtime import runtime
from models.clock import OPEN_STATES, Clock
from workflow.engine.deadlines import fire_due

log = logging.getLogger(__name__)
_wake = threading.Event()  # this process's clock thread, when Redis cannot carry the signal
CLOCK_FALLBACK = 30.0  # seconds between looks at the next threshold when nothing rings (a lost signal's cost)
NEAR = 1.0  # a threshold this close is waited for locally, to the millisecond (BLPOP's timeout is coarser)


def schedule_clocks(queue: Queue, ids: list[int]) -> None:
    """Clocks were started or moved (committed): wake a clock thread (any worker's) to re-read the next threshold."""
    _wake.set()
    try:
        wake.ring(queue.connection, wake.CLOCKS)
    except redis.exceptions.RedisError as exc:  # the fallback look, and the sweep, still find it
        log.debug("时限唤醒信号未能发出（%s）", exc)


def next_due() -> datetime | None:
    """Return the earliest next threshold of any owed clock (one index probe per open state)."""
    rt = runtime()
    with rt.sessions() as s:
        times = [s.scalar(select(func.min(Clock.next_at)).where(Clock.state == st)) for st in OPEN_STATES]
    return min((t for t in times if t is not None), default=None)


def clock_loop(stop: threading.Event, fallback: float = CLOCK_FALLBACK) -> None:
    """Fire thresholds on time: sleep until the next one or a wake-up signal (or fallback seconds), fire, repeat."""
    outage, signal = Outage("时限线程", log), Outage("时限唤醒信号", log)
    while not stop.is_set():
        delay = fallback
        try:
            sweep_clocks()
            nxt = next_due()
            if nxt is not None:
                delay = min(fallback, max(0.002, (nxt - clockmod.now()).total_seconds() + 0.001))
            outage.ok()
        except Exception as exc:  # noqa: BLE001 - keep the clocks running; the next round retries
            delay = outage.failed(exc)
        _sleep(stop, delay, signal)


def _sleep(stop: threading.Event, delay: float, signal: Outage) -> None:
    """Wait delay seconds, or less if a clock was started or moved (a ring on the wake-up list or in this process)."""
    if _wake.is_set() or delay <= NEAR:
        _wake.wait(delay)
        _wake.clear()
        return
    client = runtime().redis
    try:
        _wake.clear()
        if wake.wait(client, wake.CLOCKS, delay - NEAR / 2):  # the last half second locally, to the millisecond
            wake.clear(client, wake.CLOCKS)  # one re-read covers every clock rung so far
        signal.ok()
    except Exception as exc:  # noqa: BLE001 - Redis away: this process's own clocks still wake it
        if dependency(exc) is None:
            raise
        _wake.wait(min(delay, signal.failed(exc)))
        _wake.clear()


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
    _observe(s)
    return f"fired {fired}"


def _observe(session: Session) -> None:
    """Count the lateness of the thresholds a committed transaction fired (never those of a rolled-back one)."""
    for seconds in session.info.pop("lateness", []):
        metrics.lateness(seconds)


def sweep_clocks(batch: int = 500, rounds: int = 100) -> int:
    """Fire every past, unrecorded threshold in batches (lost jobs, Redis flushed, worker killed)."""
    rt, total = runtime(), 0
    for _ in range(rounds):
        with rt.sessions() as s, s.begin():
            n = fire_due(s, clockmod.now(), limit=batch)
        _observe(s)
        total += n
        if n == 0:
            break
    if total:
        log.info("clock sweep fired %d thresholds", total)
    return total
