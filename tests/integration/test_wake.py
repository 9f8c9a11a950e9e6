"""Idle costs nothing: the inbox consumer and the clock thread sleep until a wake-up signal (or their slow fallback).

The consumer and the clock thread run here as the worker runs them (threads of this process), against the stack's
real Redis and database; the callbacks come from the WeCom emulator over HTTP through the real web app.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import redis
from sqlalchemy import func, insert, select

from bench.common import clock_row
from bot.inboxwriter import InboxWriter
from core import clock
from core.policy import parse_policy
from jobs.deadlines import clock_loop
from jobs.inbox import Wake, consume, pickups
from models import Item, Person, ProcessedCallback, Unit
from models.clock import Clock, ClockFiring
from models.state import InboxState
from sandbox.server import EmulatorServer
from tests.integration.harness import Stack, start_stack
from tests.integration.test_outages import OwnRedis
from workflow.engine import outbox
from workflow.engine.clocks import snapshot
from workflow.engine.outbox import Job

NEVER = 3600.0  # a fallback period no test waits out: what happens within seconds happened because of the signal
HELP = "帮助"


def _until(check: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(why)
        time.sleep(0.02)  # polling for another thread's effect, with a deadline


def _blocked(r: redis.Redis, waiters: int = 1) -> Callable[[], bool]:
    """True once `waiters` clients are blocked in BLPOP (asleep on a wake-up list)."""
    return lambda: sum(c.get("cmd") == "blpop" for c in r.client_list()) >= waiters


def _handled(st: Stack, userid: str) -> Callable[[], bool]:
    def check() -> bool:
        with st.rt.sessions() as s:
            states = list(s.scalars(select(ProcessedCallback.state).where(ProcessedCallback.userid == userid)))
        return bool(states) and all(x == InboxState.done for x in states)

    return check


@contextmanager
def _running(target: Callable[[threading.Event], None]) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()  # a thread asleep on its list ends at its next wake; daemon threads never hold the test up


def test_a_callback_is_handled_at_once_by_the_signal_not_the_fallback_poll(stack: Stack) -> None:
    """With the fallback poll an hour away, an idle consumer still handles a new message within seconds."""
    before = pickups[Wake.signal]
    with _running(lambda stop: consume(stack.rt, stop, fallback=NEVER)):
        _until(_blocked(stack.rt.redis), 10, "the idle consumer never went to sleep on the wake-up list")
        stack.emu.say("zhangsan", HELP)
        _until(_handled(stack, "zhangsan"), 10, "the consumer was not woken by the web's signal")
        _until(lambda: pickups[Wake.signal] > before, 10, "the pick-up was not counted as the signal's")
    stack.drain()  # deliver the reply
    assert "瞭望" in stack.reply("zhangsan")


def test_a_lost_signal_is_made_good_by_the_fallback_poll(
    emulator: EmulatorServer, database_url: str, tmp_path: Path
) -> None:
    """Redis goes away while the consumer sleeps: the message is still stored, and handled by the fallback poll."""
    own = OwnRedis(tmp_path)
    st = start_stack(emulator.url, database_url, own.url, tmp_path)
    try:
        before = pickups[Wake.fallback]
        with _running(lambda stop: consume(st.rt, stop, fallback=1.0)):
            _until(_blocked(st.rt.redis), 10, "the idle consumer never went to sleep on the wake-up list")
            own.stop()  # from outside: the web's ring after the commit has nowhere to go
            answer = st.emu.say("zhangsan", HELP)
            assert answer.get("status", 200) == 200, answer
            own.start()  # back, empty: the signal is lost for good
            _until(_handled(st, "zhangsan"), 15, "the fallback poll did not pick the message up")
            _until(lambda: pickups[Wake.fallback] > before, 10, "the pick-up was not counted as the fallback's")
        st.drain()
        assert "瞭望" in st.reply("zhangsan")
    finally:
        st.close()
        own.stop()


def _clock_due(st: Stack, at_minutes: float) -> int:
    """Insert one item with an open clock whose nudge falls due at_minutes from now; announce it as the app does."""
    policy = parse_policy({})
    snap, now = snapshot(policy, policy.clocks["first_report"]), clock.now()
    with st.rt.sessions() as s, s.begin():
        unit = s.scalar(select(Unit.id).where(Unit.key == "team1"))
        reporter = s.scalar(select(Person.id).where(Person.userid == "zhangsan"))
        n = s.scalar(select(func.count(Item.id))) or 0
        item = s.execute(
            insert(Item).returning(Item.id),
            {
                "code": f"WK-{n:04d}",
                "title": "唤醒",
                "text": "唤醒",
                "source": "discovery",
                "grade": "general",
                "state": "dispatched",
                "version": 1,
                "reporter_id": reporter,
                "reported_at": now,
                "dispatched_at": now,
                "updated_at": now,
            },  # fmt: skip
        ).scalar_one()
        row = clock_row(item, int(unit or 0), now + timedelta(minutes=at_minutes), now, snap, "first_report", "首报")
        cid = s.execute(insert(Clock).returning(Clock.id), row).scalar_one()
        outbox.defer(s, Job.schedule_clock, cid)  # what starting a clock asks for once committed
    return int(cid)


def _fired(st: Stack, cid: int) -> Callable[[], bool]:
    def check() -> bool:
        with st.rt.sessions() as s:
            return s.scalar(select(func.count()).where(ClockFiring.clock_id == cid)) == 1

    return check


def test_a_new_clock_due_earlier_wakes_the_sleeping_clock_thread(stack: Stack) -> None:
    """The clock thread sleeps until the next threshold (an hour away); a new clock due now wakes it at once."""
    later = _clock_due(stack, 60)
    with _running(lambda stop: clock_loop(stop, fallback=NEVER)):
        _until(_blocked(stack.rt.redis), 10, "the clock thread never went to sleep on its wake-up list")
        now = _clock_due(stack, 0)
        _until(_fired(stack, now), 10, "the new clock's threshold did not wake the clock thread")
    assert not _fired(stack, later)(), "the clock an hour away is left alone"


def test_callbacks_arriving_together_are_each_stored_once_whoever_leads_the_commit(stack: Stack) -> None:
    """16 request threads storing at once (each key three times, as WeCom's retries would): one row per key, and
    exactly one of its stores is told it was new — whichever thread led the batch that carried it."""
    writer = InboxWriter(stack.rt.engine)
    keys = [f"msg:wake{i:04d}" for i in range(200)]
    told: dict[str, list[bool]] = {k: [] for k in keys}

    def send(part: list[str]) -> None:
        for key in part:
            writer.expect()
            told[key].append(writer.store(key, "zhangsan", {"userid": "zhangsan", "msg_type": "text"}, clock.now()))

    work = [keys[i::8] + keys[i::8] for i in range(8)] + [keys[i::8][::-1] for i in range(8)]
    threads = [threading.Thread(target=send, args=(part,)) for part in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(sorted(v) == [False, False, True] for v in told.values()), "each key is new exactly once"
    with stack.rt.sessions() as s:
        stored = s.scalar(select(func.count()).where(ProcessedCallback.key.like("msg:wake%")))
    assert stored == len(keys)
