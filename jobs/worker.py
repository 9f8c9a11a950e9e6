"""The worker process: RQ work in the main thread, inbox consumers, the clock thread and the sweep beside it.

Nothing a dependency does can end it: Redis or the database going away (refused, reset, timeouts, read-only, full
disk) is waited out with a bounded backoff by every loop, logged once when it starts and once when it ends. A loop
thread that dies for any reason is restarted. The process exits non-zero only when a loop keeps failing with the
same programming error (CRASH_LIMIT times in a row), so that a supervisor can restart it.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import redis
from rq import SimpleWorker

from core import metrics
from core.outage import Outage, dependency
from core.runtime import Runtime
from jobs.deadlines import clock_loop
from jobs.deliver import start_lanes
from jobs.evidence import announce, evidence_loop
from jobs.inbox import consume
from jobs.queueing import queues
from jobs.sweep import sweep
from workflow.views import gauges

log = logging.getLogger(__name__)
CRASH_LIMIT = 20  # consecutive crashes of one loop with a programming error before the process gives up
EXIT_BUG = 70  # EX_SOFTWARE


def _scheduler(rt: Runtime, stop: threading.Event) -> None:
    """RQ's scheduler (retries scheduled for later) as a loop of this process, not RQ's forked child: a lost Redis is
    waited out like in every loop (one line per outage), never a child dying with a traceback."""
    from rq.scheduler import RQScheduler

    outage, wait = Outage("定时重试调度（RQ）", log), 0.0
    sched = RQScheduler(queues(rt.queue), connection=rt.redis, interval=1, logging_level="ERROR")
    try:
        while not stop.wait(wait):
            try:
                if sched.should_reacquire_locks:
                    sched.acquire_locks()  # held by one scheduler per queue across every worker
                if sched.acquired_locks:
                    sched.heartbeat()
                    sched.enqueue_scheduled_jobs()
                outage.ok()
                wait = float(sched.interval)
            except Exception as exc:  # noqa: BLE001 - the next round retries
                wait = outage.failed(exc)
    finally:
        with contextlib.suppress(Exception):  # Redis may be the reason we stop
            sched.release_locks()


def _sweeper(rt: Runtime, stop: threading.Event) -> None:
    """Sweep at once, then every [worker] sweep_interval (sooner again after a failure, with backoff)."""
    outage, wait = Outage("补偿扫描", log), 0.0
    while not stop.wait(wait):
        try:
            metrics.heartbeat(rt.redis, max(15.0, 3 * rt.config.sweep_interval))
            sweep()
            outage.ok()
            wait = rt.config.sweep_interval
        except Exception as exc:  # noqa: BLE001 - the next round retries
            wait = outage.failed(exc)


@dataclass
class _Loop:
    """One supervised thread: its body, its thread, and how often it crashed in a row."""

    name: str
    body: Callable[[], None]
    thread: threading.Thread | None = None
    crashes: int = 0
    last_error: str = field(default="")

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.body()
            self.crashes = 0
        except BaseException as exc:  # noqa: BLE001 - reported here, restarted by the supervisor
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.crashes = self.crashes + 1 if dependency(exc) is None else 0
            log.exception("线程 %s 意外退出，将重启", self.name)


def _supervise(loops: list[_Loop], stop: threading.Event, crashed: threading.Event) -> None:
    """Restart any loop thread that died; give up (crashed) on a loop that keeps failing with a bug."""
    while not stop.wait(0.5):
        for loop in loops:
            if loop.thread is not None and loop.thread.is_alive():
                continue
            if loop.crashes >= CRASH_LIMIT:
                log.critical(
                    "线程 %s 连续 %d 次因程序错误退出（%s），进程退出以便重启", loop.name, loop.crashes, loop.last_error
                )
                crashed.set()
                stop.set()
                os.kill(os.getpid(), signal.SIGTERM)  # ends RQ's work loop in the main thread
                return
            time.sleep(min(5.0, 0.1 * 2**loop.crashes) if loop.crashes else 0)
            log.warning("重启线程 %s", loop.name)
            loop.start()


class _QuietOutages(logging.Filter):
    """Drop RQ's own per-retry lines about a lost Redis: our loop logs one line per outage instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(m in text for m in ("could not connect to Redis", "Redis connection timeout", "redis.exceptions.")):
            return False
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and dependency(exc) is not None)


class _Worker(SimpleWorker):
    """RQ's in-process worker that also tells the other loops when SIGTERM/SIGINT asks it to stop."""

    stop_event: threading.Event

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Warm shutdown (RQ's), and stop every loop of this process."""
        self.stop_event.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # RQ ships no types


def _work_queue(rt: Runtime, stop: threading.Event) -> None:
    """Run RQ (with its scheduler) in this, the main thread; start it again after any outage, until stopped."""
    for name in ("rq.worker", "rq.scheduler", "rq.queue"):
        logging.getLogger(name).addFilter(_QuietOutages())
    outage = Outage("任务队列（RQ）", log)
    while not stop.is_set():
        try:
            rt.redis.ping()
            worker = _Worker(queues(rt.queue), connection=rt.redis)  # it talks to Redis already
            worker.stop_event = stop
            worker.max_connection_wait_time = 4  # RQ's own wait between reconnects (it would grow to 60 s)
            outage.ok()
            worker.work(with_scheduler=False, logging_level="WARNING")  # the scheduler is a loop of ours
            if stop.is_set():  # SIGTERM/SIGINT: RQ finished its current job and stopped
                break
            raise redis.exceptions.ConnectionError("RQ's work loop ended")
        except (redis.exceptions.RedisError, OSError) as exc:
            _stop_on_signal(stop)
            stop.wait(outage.failed(exc))
    stop.set()


def _stop_on_signal(stop: threading.Event) -> None:
    """Between RQ runs, SIGTERM/SIGINT stop the worker (RQ installs its own handlers while it runs)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _s, _f: stop.set())


_worker_pid = 0
PR_SET_PDEATHSIG = 1


def _die_with_worker() -> None:
    """In a child the worker forks (RQ's scheduler): exit when the worker dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the child outlives a killed worker, as RQ intends
        return
    if os.getppid() != _worker_pid:  # the worker died before the request took effect
        os._exit(0)


def run_worker(rt: Runtime, burst: bool = False, consumers: int = 2) -> None:
    """Work the inbox (consumer threads), the clocks, the sweep and the RQ queue until stopped (wiring.run_worker)."""
    from core import logs

    logs.configure(rt.config.raw)
    metrics.configure(rt.config.raw, rt.config.data_dir)
    global _worker_pid
    _worker_pid = os.getpid()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid>: every thread's stack to stderr
    os.register_at_fork(after_in_child=_die_with_worker)
    if burst:
        SimpleWorker(queues(rt.queue), connection=rt.redis).work(burst=True, logging_level="WARNING")
        return
    stop, crashed = threading.Event(), threading.Event()
    start_lanes(rt)  # a slow WeCom call holds one sending thread, not the delivery lane (jobs.deliver)
    if port := metrics.worker_port(rt.config.raw):
        metrics.serve(port, lambda: gauges.read(rt), metrics.worker_host(rt.config.raw))
    loops = [
        _Loop("sweep", lambda: _sweeper(rt, stop)),
        _Loop("clocks", lambda: clock_loop(stop)),
        _Loop("scheduler", lambda: _scheduler(rt, stop)),
        *(_Loop(f"inbox-{i}", lambda: consume(rt, stop)) for i in range(max(1, consumers))),
    ]
    if announce(rt):  # 网页取证: its own thread, so a page taking a minute never holds up replies
        loops.append(_Loop("evidence", lambda: evidence_loop(rt, stop)))
    for loop in loops:
        loop.start()
    threading.Thread(target=_supervise, args=(loops, stop, crashed), name="supervisor", daemon=True).start()
    try:
        _work_queue(rt, stop)
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # Redis may be the reason we stop
            metrics.farewell(rt.redis)
    if crashed.is_set():
        sys.exit(EXIT_BUG)
