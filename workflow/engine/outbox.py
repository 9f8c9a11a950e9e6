"""Write outbox rows in the caller's transaction and announce them once that transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from core.outage import Outage
from models import Item, OutboxMessage
from models.intake import is_system
from models.state import OutboxKind, OutboxState

_notifier: Callable[[list[int], list[int]], None] | None = None
_announcing = Outage("通知投递任务（补偿扫描会补上）", logging.getLogger(__name__))
_job_runner: Callable[[list[tuple[Job, int]]], None] | None = None


def set_notifier(fn: Callable[[list[int], list[int]], None] | None) -> None:
    """Install the function told the ids of outbox rows just committed, and which of them are replies (urgent)."""
    global _notifier
    _notifier = fn


def set_job_runner(fn: Callable[[list[tuple[Job, int]]], None] | None) -> None:
    """Install the function that starts deferred jobs (name, id) once their transaction commits."""
    global _job_runner
    _job_runner = fn


class Job(StrEnum):
    """The jobs a step defers until its transaction commits (jobs.queueing.run_deferred runs each by its name)."""

    schedule_clock = "schedule_clock"  # arm a clock's thresholds (jobs.deadlines.schedule_clocks)
    fetch_media = "fetch_media"  # download a photo WeCom holds (jobs.media.fetch_media)
    build_archive = "build_archive"  # write an archived item's package (jobs.archive.build_archive)


def defer(session: Session, job: Job, arg: int) -> None:
    """Ask for job(arg) to run after this transaction commits (the sweep retries it if this is lost)."""
    session.info.setdefault("deferred", []).append((job, arg))


def emit(
    session: Session,
    to: Iterable[str],
    message: dict[str, Any],
    key: str,
    at: datetime,
    item: Item | None = None,
    kind: OutboxKind = OutboxKind.send,
    task_id: str | None = None,
    fresh: bool = False,
) -> OutboxMessage | None:
    """Add one message under an idempotency key; None if the key exists or nobody is to get it.

    fresh: the caller knows the key is new (it derives from a row it just inserted), so skip the lookup and the
    flush; the row is inserted with the rest of the transaction and announced after commit.
    """
    users = _within_cap(session, list(dict.fromkeys(u for u in to if u and not is_system(u))), kind)
    if not users and kind == OutboxKind.send:
        return None
    if not fresh and session.scalar(select(OutboxMessage.id).where(OutboxMessage.idem_key == key)) is not None:
        return None
    row = OutboxMessage(
        idem_key=key,
        touser="|".join(users),
        msgtype=message.get("msgtype", kind),
        payload=message,
        item_id=item.id if item else None,
        card_task_id=task_id,
        kind=kind,
        state=OutboxState.pending,
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(row)
    if fresh:
        session.info.setdefault("outbox_rows", []).append(row)
        return row
    session.flush()
    session.info.setdefault("outbox_new", []).append((row.id, key))
    return row


def is_reply(key: str) -> bool:
    """A reply to a person's own message: delivered before any notice (its own RQ queue, listened to first)."""
    return key.startswith("reply:")


def cap_per_person(session: Session, cap: int, replier: str) -> None:
    """From now on in this session, send each person at most cap messages (the replier cap - 1: the reply is last)."""
    session.info["per_person_cap"] = (cap, replier)
    session.info["per_person_sent"] = {}


def room_for(session: Session, userid: str) -> int:
    """Return how many more messages userid may get in this session (at least 1 for a reply)."""
    cap, _replier = session.info.get("per_person_cap", (0, ""))
    return max(1, cap - session.info.get("per_person_sent", {}).get(userid, 0)) if cap else 1 << 30


def _within_cap(session: Session, users: list[str], kind: str) -> list[str]:
    """Drop (and log) recipients who already got as many messages from this one inbound message as allowed."""
    if kind != OutboxKind.send or "per_person_cap" not in session.info:
        return users
    cap, replier = session.info["per_person_cap"]
    sent: dict[str, int] = session.info["per_person_sent"]
    kept = [u for u in users if sent.get(u, 0) < (cap - 1 if u == replier else cap)]
    for u in kept:
        sent[u] = sent.get(u, 0) + 1
    if len(kept) < len(users):
        logging.getLogger(__name__).warning(
            "one message would send more than %d messages to %s; kept to the cap", cap, sorted(set(users) - set(kept))
        )
    return kept


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    """Once the outermost transaction has committed, announce what it wrote (not when a SAVEPOINT is released)."""
    if session.in_nested_transaction():
        return
    session.info.pop("told", None)  # workflow/engine/notify.py: who was told of which step, for this transaction only
    rows: list[tuple[int, str]] = session.info.pop("outbox_new", [])
    rows += [(r.id, r.idem_key) for r in session.info.pop("outbox_rows", [])]
    ids, urgent = [i for i, _ in rows], [i for i, key in rows if is_reply(key)]
    jobs = session.info.pop("deferred", [])
    if not ids and not jobs:
        return
    try:
        if ids and _notifier is not None:
            _notifier(ids, urgent)
        if jobs and _job_runner is not None:
            _job_runner(jobs)
        _announcing.ok()
    except Exception as exc:  # noqa: BLE001 - the sweep finds whatever could not be announced
        _announcing.failed(exc)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    """Forget what an outermost rollback undid (ids from a rolled-back savepoint are harmless: no such row)."""
    if previous.parent is None and not previous.nested:
        session.info.pop("outbox_new", None)
        session.info.pop("outbox_rows", None)
        session.info.pop("deferred", None)
        session.info.pop("told", None)
