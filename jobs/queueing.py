"""Enqueue delivery jobs for outbox rows (used as the outbox notifier and by the sweep)."""

from __future__ import annotations

from datetime import datetime

from rq import Queue


def enqueue_deliveries(queue: Queue, ids: list[int]) -> None:
    """Enqueue one deliver job per outbox id, in one Redis pipeline."""
    from jobs.deliver import deliver

    with queue.connection.pipeline() as pipe:
        for oid in ids:
            queue.enqueue(deliver, oid, job_id=f"deliver-{oid}", pipeline=pipe, result_ttl=60, failure_ttl=86400)
        pipe.execute()


def run_deferred(queue: Queue, jobs: list[tuple[str, int]]) -> None:
    """Enqueue jobs deferred by workflow steps, each retried with backoff if it raises."""
    from rq import Retry

    from jobs.media import fetch_media

    clocks = [arg for name, arg in jobs if name == "schedule_clock"]
    if clocks:
        from jobs.deadlines import schedule_clocks

        schedule_clocks(queue, list(dict.fromkeys(clocks)))
    known = {"fetch_media": fetch_media}
    for name, arg in jobs:
        if name not in known:
            continue
        queue.enqueue(
            known[name], arg, job_id=f"{name}-{arg}", retry=Retry(max=5, interval=[2, 10, 60, 300, 900]), result_ttl=60
        )


def schedule_delivery(queue: Queue, oid: int, at: datetime, attempt: int) -> None:
    """Schedule a retry of outbox row oid at the given time."""
    from jobs.deliver import deliver

    queue.enqueue_at(at, deliver, oid, job_id=f"deliver-{oid}-retry-{attempt}", result_ttl=60)
