"""Enqueue delivery jobs for outbox rows (used as the outbox notifier and by the sweep)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from rq import Queue

from workflow.engine.outbox import Job

URGENT = "liaowang-urgent"


def urgent_queue(queue: Queue) -> Queue:
    """Return the queue for replies, which every worker empties before the notices of `queue`."""
    return Queue(URGENT, connection=queue.connection)


def queues(queue: Queue) -> list[Queue]:
    """Return the queues a worker listens to, most urgent first."""
    return [urgent_queue(queue), queue]


def enqueue_deliveries(queue: Queue, ids: list[int], urgent: list[int] | None = None, batch: int = 50) -> None:
    """Enqueue deliver jobs for outbox ids (replies on the urgent queue), in one Redis pipeline: one job per id, or
    one per `batch` ids of a lane when a transaction wrote several (a burst of thresholds). A job sends the due rows
    of its lane in a batch (jobs.deliver), so under a backlog most jobs find their row sent and end at once; no
    result is kept (RQ's bookkeeping is most of a delivery's Redis commands)."""
    from jobs.deliver import deliver

    fast, hurry = urgent_queue(queue), set(urgent or ())
    lanes = [[i for i in ids if i in hurry], [i for i in ids if i not in hurry]]
    with queue.connection.pipeline() as pipe:
        for q, lane in zip((fast, queue), lanes, strict=True):
            for k in range(0, len(lane), max(1, batch)):
                first, *more = lane[k : k + max(1, batch)]
                job_id = f"deliver-{first}" + (f"-and-{len(more)}" if more else "")
                q.enqueue(deliver, first, *more, job_id=job_id, pipeline=pipe, result_ttl=0, failure_ttl=86400)
        pipe.execute()


def drop_jobs(queue: Queue, ids: list[int], urgent: bool) -> None:
    """Take the waiting deliver jobs of rows a batch has claimed off their queue (they would only find the row
    taken): under a backlog, RQ's bookkeeping for such jobs was most of a worker's time. A job a worker already
    took runs and ends at once; one that is lost is nothing, as the row is no longer pending."""
    from rq.job import Job as RqJob

    q = urgent_queue(queue) if urgent else queue
    try:
        with queue.connection.pipeline(transaction=False) as pipe:
            for oid in ids:
                pipe.lrem(q.key, 0, f"deliver-{oid}")
                pipe.delete(RqJob.key_for(f"deliver-{oid}"))
            pipe.execute()
    except Exception:  # noqa: BLE001 - the jobs then run and find their rows taken
        logging.getLogger(__name__).warning("could not drop %d delivery jobs of a batch", len(ids))


def run_deferred(queue: Queue, jobs: list[tuple[Job, int]]) -> None:
    """Enqueue jobs deferred by workflow steps, each retried with backoff if it raises."""
    from rq import Retry

    from jobs.archive import build_archive
    from jobs.media import fetch_media

    clocks = [arg for name, arg in jobs if name == Job.schedule_clock]
    if clocks:
        from jobs.deadlines import schedule_clocks

        schedule_clocks(queue, list(dict.fromkeys(clocks)))
    known: dict[Job, Callable[[int], str]] = {Job.fetch_media: fetch_media, Job.build_archive: build_archive}
    for name, arg in jobs:
        if name not in known:
            continue
        queue.enqueue(
            known[name], arg, job_id=f"{name}-{arg}", retry=Retry(max=5, interval=[2, 10, 60, 300, 900]), result_ttl=60
        )


def schedule_delivery(queue: Queue, oid: int, at: datetime, attempt: int, urgent: bool = False) -> None:
    """Schedule a retry of outbox row oid at the given time (on the urgent queue for a reply)."""
    from jobs.deliver import deliver

    (urgent_queue(queue) if urgent else queue).enqueue_at(
        at, deliver, oid, job_id=f"deliver-{oid}-retry-{attempt}", result_ttl=0
    )
