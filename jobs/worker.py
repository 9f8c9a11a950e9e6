"""The worker process: an RQ SimpleWorker with the scheduler, plus a thread that sweeps periodically."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading

from rq import SimpleWorker

from core.runtime import Runtime, set_runtime
from jobs.deadlines import clock_loop
from jobs.inbox import consume
from jobs.queueing import enqueue_deliveries, run_deferred
from jobs.sweep import sweep
from workflow import outbox

log = logging.getLogger(__name__)


def _sweeper(stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        try:
            sweep()
        except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
            log.exception("sweep failed")


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
    """Work the inbox (consumer threads) and the RQ queue (in this process, no fork per job) until stopped."""
    global _worker_pid
    _worker_pid = os.getpid()
    os.register_at_fork(after_in_child=_die_with_worker)
    set_runtime(rt)
    outbox.set_notifier(lambda ids: enqueue_deliveries(rt.queue, ids))
    outbox.set_job_runner(lambda jobs: run_deferred(rt.queue, jobs))
    stop = threading.Event()
    if not burst:
        sweep()
        threading.Thread(target=_sweeper, args=(stop, rt.config.sweep_interval), daemon=True).start()
        threading.Thread(target=clock_loop, args=(stop,), name="clocks", daemon=True).start()
        for i in range(max(1, consumers)):
            threading.Thread(target=consume, args=(rt, stop), name=f"inbox-{i}", daemon=True).start()
    try:
        SimpleWorker([rt.queue], connection=rt.redis).work(
            with_scheduler=not burst, burst=burst, logging_level="WARNING"
        )
    finally:
        stop.set()
