"""The sweep: find outbox rows whose delivery job was lost (Redis flushed, worker died) and re-enqueue them; run
the periodic tasks the workflow modules declare (workflow.engine.periodic: patrol rounds, guided replies, follow-up
check-ins, notices) and fire past clock thresholds. It knows no kind of timer itself."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from rq.job import Job as RqJob
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from core import clock
from core.runtime import Runtime, runtime
from jobs.budget import pending_digests, send_digest
from jobs.bulletin import send_due_bulletin
from jobs.deadlines import sweep_clocks
from jobs.queueing import enqueue_deliveries, queues, run_deferred
from models import Attachment, AuditEvent, Item, ItemState, OutboxMessage
from models.events import Event
from models.state import OutboxState
from workflow.engine import periodic
from workflow.engine.outbox import Job, is_reply

log = logging.getLogger(__name__)
_BATCH = re.compile(r"deliver-\d+-and-\d+")


def _still_queued(rt: Runtime, ids: list[int]) -> set[int]:
    """Return the ids whose deliver job is still on a delivery queue's list (waiting for a worker).

    Re-enqueueing those would only add no-op jobs (measured in bench/scale.py: under a backlog the queue grew to
    2.4 jobs per pending row). A job of several rows (`deliver-<first>-and-<n>`) covers every row of its arguments.
    A job a worker took off the list and then lost (it died) is not there, so it is enqueued again.
    """
    with rt.redis.pipeline(transaction=False) as pipe:
        for q in queues(rt.queue):
            pipe.lrange(q.key, 0, -1)
        listed = {job_id.decode() for ids_ in pipe.execute() for job_id in ids_}
    covered = {int(j.removeprefix("deliver-")) for j in listed if j.removeprefix("deliver-").isdigit()}
    batches = [j for j in listed if _BATCH.fullmatch(j)]  # deliver-<first>-and-<n>: its rows are in its arguments
    for job in RqJob.fetch_many(batches, connection=rt.redis) if batches else ():
        if job is not None:
            covered.update(int(a) for a in job.args)
    return {oid for oid in ids if oid in covered}


def stale_after(rt: Runtime) -> float:
    """Seconds after which a row still "sending" was left by a dead job: a send and a token fetch, plus a margin."""
    return max(10.0, 2 * rt.config.wecom.timeout + 2)


def _lost_archives(rt: Runtime, now: datetime) -> None:
    """Items archived in the last day whose package was never written (the job was lost with Redis): queue them
    again. Bounded by the items' state and time, and probed per item on its index: cheap enough for every sweep."""
    with rt.sessions() as s:
        packaged = exists().where(  # audited outside the closed record: the 编号 is in the detail
            AuditEvent.action == Event.archive_packaged, AuditEvent.detail["code"].as_string() == Item.code
        )
        recent = select(Item.id).where(
            Item.state == ItemState.archived, Item.updated_at >= now - timedelta(days=1), ~packaged
        )
        ids = list(s.scalars(recent.limit(20)))
    if ids:
        run_deferred(rt.queue, [(Job.build_archive, i) for i in ids])


def run_periodic(rt: Runtime, now: datetime) -> None:
    """Run every declared periodic task in its own transaction; one that lost a race to another worker (a unique
    row or outbox key already there) is rolled back and continues next sweep."""
    for t in periodic.tasks():
        try:
            with rt.sessions() as s, s.begin():
                t.run(s, rt.config, now)
        except IntegrityError:
            log.info(t.raced)


def sweep(grace_seconds: float = 5.0, stale_seconds: float | None = None, batch: int = 500) -> int:
    """Re-enqueue overdue outbox rows and unfetched screenshots, free rows stuck in sending; return how many."""
    rt, now = runtime(), clock.now()
    stale_seconds = stale_after(rt) if stale_seconds is None else stale_seconds
    sweep_clocks()
    run_periodic(rt, now)
    try:
        _lost_archives(rt, now)
    except Exception:  # noqa: BLE001 - packaging is retried by the next sweep
        log.exception("archive packages could not be re-queued")
    try:
        send_due_bulletin()
    except Exception:  # noqa: BLE001 - a bulletin that cannot be built must not stop deliveries; retried next sweep
        log.exception("the monthly bulletin could not be sent; the next sweep tries again")
    with rt.sessions() as s, s.begin():
        s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.sending,
                OutboxMessage.claimed_at < now - timedelta(seconds=stale_seconds),
            )
            .values(state=OutboxState.pending)
        )
        due = list(
            s.execute(
                select(OutboxMessage.id, OutboxMessage.idem_key)
                .where(
                    OutboxMessage.state == OutboxState.pending,
                    OutboxMessage.next_attempt_at <= now - timedelta(seconds=grace_seconds),
                )
                .order_by(OutboxMessage.next_attempt_at)
                .limit(batch)
            )
        )
        media = list(
            s.scalars(
                select(Attachment.id)
                .where(
                    Attachment.media_id.is_not(None),
                    Attachment.sha256.is_(None),
                    Attachment.fetch_error.is_(None),
                    Attachment.created_at <= now - timedelta(seconds=grace_seconds),
                    Attachment.created_at > now - timedelta(days=3),
                )
                .limit(batch)
            )
        )
    for userid in pending_digests(rt, timedelta(seconds=61)):
        rt.queue.enqueue(send_digest, userid, job_id=f"digest-{userid}", result_ttl=60)
    pairs: list[tuple[int, str]] = [(oid, key) for oid, key in due]
    if pairs:  # a job still waiting on its queue is not lost: enqueueing it again only adds a no-op job
        waiting = _still_queued(rt, [oid for oid, _ in pairs])
        pairs = [(oid, key) for oid, key in pairs if oid not in waiting]
    ids = [oid for oid, _ in pairs]
    if ids:
        enqueue_deliveries(rt.queue, ids, [oid for oid, key in pairs if is_reply(key)])
        log.info("sweep re-enqueued %d outbox rows", len(ids))
    if media:
        run_deferred(rt.queue, [(Job.fetch_media, a) for a in media])
    return len(ids) + len(media)
