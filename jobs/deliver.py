"""Deliver outbox rows through WeCom exactly once, as far as WeCom allows, in batches.

1. Claim the row (pending → sending) in the database; only one job can. The same statement's neighbour claims up to
   `[outbox] batch` - 1 more due rows of the same lane (replies, or everything else), so a backlog goes out in
   batches: one claim, one UPDATE of the recipients fixed, one UPDATE of the rows sent.
2. On the first attempt fix its recipients within the per-person budget and store them on the row (sent_to), so
   every retry sends the very same request.
3. Send it with WeCom's duplicate check on and the row's idempotency key in the request: WeCom compares the request
   JSON, so a retry of a send whose outcome was unknown (timeout, crash mid-call) is dropped by WeCom, while another
   row with the same text (帮助 asked twice) is not. A batch's rows are sent by a small pool of threads
   (`[outbox] send_threads`), one person's (one card's, one group's) rows in order by one thread.
4. Mark it sent before doing anything else. If that fails, the row goes back to pending after STALE_SECONDS and the
   retry is again caught by the duplicate check. docs/reliability.md states the remaining window.

In a worker process (start_lanes) a job waits at most `[outbox] lane_wait` seconds for its sends: a slow or hanging
WeCom call then finishes (and is marked) in its pool thread while the worker takes the next job, so it holds one
thread, not the lane. Elsewhere (tests, `worker --burst`) a job returns when all its sends have.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update

from core import clock, metrics
from core.runtime import Runtime, runtime
from core.wecom import WecomError, backoff
from jobs import budget
from jobs.queueing import drop_jobs, schedule_delivery
from models import Card, OutboxMessage
from models.state import OutboxKind, OutboxState
from workflow.engine.outbox import is_reply
from workflow.people import appchat

log = logging.getLogger(__name__)

RETRYABLE = {None, -1, 40014, 42001, 45009, 45033, 45011}
CHAT_NOT_FOUND = 86003
NO_PRIVILEGE = 60011  # appchat/create when the app is not visible to the whole corp
RESPONSE_CODE_USED = 40148  # update_template_card: an earlier attempt already used it
TASK_ID_USED = 42014  # message/send of a card whose task_id an earlier attempt already delivered
MAX_DUPLICATE_WINDOW = 14400  # WeCom's longest duplicate_check_interval (4 h)


def duplicate_guard(row: OutboxMessage, interval: int) -> dict[str, Any]:
    """Return the fields that make WeCom drop a repeat of this very row (and only of this row)."""
    return {
        "enable_duplicate_check": 1,
        "duplicate_check_interval": max(1, min(interval, MAX_DUPLICATE_WINDOW)),
        "idem_key": row.idem_key,
    }


@dataclass
class _Send:
    """One claimed row on its way: the request to make, and what WeCom answered (or the error)."""

    row: OutboxMessage
    body: dict[str, Any]
    answer: dict[str, Any] | None = None
    error: Exception | None = None
    keys: list[str] = field(default_factory=list)  # rows sharing a key are sent in order by one thread


_lane_wait: float | None = None  # None: a job waits for every send it started


def start_lanes(rt: Runtime) -> None:
    """In a long-running worker: a job waits at most [outbox] lane_wait seconds (default 0.25) for its slowest sends."""
    global _lane_wait
    _lane_wait = float(rt.config.outbox.get("lane_wait", 0.25))


NOTICES_LATER = 1.0  # seconds: a notice batch that finds every notice thread busy goes back for this long
_pools: dict[bool, tuple[ThreadPoolExecutor, threading.Semaphore]] = {}  # per lane (replies: True), lazily
_pools_lock = threading.Lock()


def _executor(rt: Runtime, replies: bool) -> tuple[ThreadPoolExecutor, threading.Semaphore]:
    """The process's sending threads of one lane ([outbox] send_threads each, default 32) and its free threads: the
    replies' threads are never taken by slow notices, nor the other way round."""
    with _pools_lock:
        if replies not in _pools:
            n = int(rt.config.outbox.get("send_threads", 32))
            name = "wecom-reply" if replies else "wecom-notice"
            _pools[replies] = ThreadPoolExecutor(n, thread_name_prefix=name), threading.Semaphore(n)
        return _pools[replies]


def _claim(rt: Runtime, ids: Sequence[int]) -> list[OutboxMessage]:
    """Atomically move the rows ids from pending to sending, with more due rows of their lane (in the order they
    fell due) up to [outbox] batch — a batch of replies is filled up with due notices, never the other way round; a
    公众号 row is only ever taken by its own job; return them replies first, then by id, or [] if someone else has
    all of ids."""
    now, batch = clock.now(), int(rt.config.outbox.get("batch", 50))
    claimed = {"state": OutboxState.sending, "claimed_at": now, "attempts": OutboxMessage.attempts + 1}
    pending = OutboxMessage.state == OutboxState.pending
    with rt.sessions() as s, s.begin():
        rows = list(
            s.scalars(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids), pending).values(claimed).returning(OutboxMessage)
            )
        )
        replies = OutboxMessage.idem_key.like("reply:%")
        lanes = [replies, ~replies] if rows and is_reply(rows[0].idem_key) else [~replies]
        for lane in lanes if rows else []:
            if len(rows) >= batch:
                break
            due = (
                select(OutboxMessage.id)
                .where(pending, OutboxMessage.next_attempt_at <= now, lane, OutboxMessage.kind != OutboxKind.mp_send)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(batch - len(rows))
            )
            if s.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)  # two workers' batches pass each other
            rows += s.scalars(
                update(OutboxMessage).where(OutboxMessage.id.in_(due), pending).values(claimed).returning(OutboxMessage)
            )
        return sorted(rows, key=lambda r: (not is_reply(r.idem_key), r.id))


def _recipients(rt: Runtime, row: OutboxMessage) -> tuple[list[str] | datetime, bool]:
    """Return the row's fixed recipients (deciding them within the budget on the first attempt), or when to retry;
    and whether they were decided now (the caller stores them on the row before sending)."""
    if row.sent_to is not None:
        return [u for u in row.sent_to.split("|") if u], False
    users = [u for u in row.touser.split("|") if u]
    ok, full = budget.reserve(rt, users, row.id, personal=budget.is_personal(row))
    if full and budget.is_personal(row):  # a reply waits for the person's window rather than being merged
        return datetime.fromtimestamp(max(full.values()) + 1, UTC), False
    if full:
        budget.hold(rt, row, full)
    return ok, True


def deliver(oid: int, *more: int) -> str:
    """Send outbox row oid (and more, and the batch claimed with them) at most once; return what happened to oid
    ("sent", "retry", "failed", "held", "later", "skip", or "sending" while a slow call of a worker's lane goes on)."""
    rt = runtime()
    rows = _claim(rt, [oid, *more])
    if not rows:
        return "skip"
    taken = [r for r in rows if r.id != oid and r.id not in more]
    for urgent in (True, False):
        if lane := [r.id for r in taken if is_reply(r.idem_key) == urgent]:
            drop_jobs(rt.queue, lane, urgent)
    return deliver_rows(rt, rows).get(oid, "sending")


def deliver_rows(rt: Runtime, rows: Sequence[OutboxMessage]) -> dict[int, str]:
    """Send claimed rows: recipients fixed and stored in one UPDATE, the requests made by the pool (one chain per
    person, card or group), the rows sent marked in one UPDATE; return what happened to each row settled here."""
    outcome: dict[int, str] = {}
    sends = _prepare(rt, rows, outcome)
    futures: dict[Future[None], list[_Send]] = {}
    replies = bool(rows) and is_reply(rows[0].idem_key)  # rows come replies first: a replies batch, or notices
    pool, free = _executor(rt, replies)
    waiting: list[_Send] = []
    for chain in _chains(sends):
        # replies: when every reply thread waits for WeCom, the replies' lane waits too (no request queues up in the
        # pool); notices in a worker never hold it (the next job may be a reply): they go back for a moment instead
        if waiting or not free.acquire(blocking=replies or _lane_wait is None):
            waiting += chain
            continue
        futures[pool.submit(_send_chain, rt, chain, free)] = chain
    if waiting:
        outcome.update(_back_shortly([x.row for x in waiting]))
    done, late = wait(futures, timeout=_lane_wait) if futures else (set(), set())
    outcome.update(_settle(rt, [x for f in done for x in futures[f]]))
    for f in late:  # still waiting for WeCom: settled by the pool thread when the call ends
        f.add_done_callback(partial(_settle_late, rt, futures[f]))
    return outcome


def _prepare(rt: Runtime, rows: Sequence[OutboxMessage], outcome: dict[int, str]) -> list[_Send]:
    """Build each row's request; rows that wait (budget) or are held are settled into outcome at once."""
    interval = int(rt.config.outbox.get("duplicate_check_interval", 1800))
    sends: list[_Send] = []
    fixed: list[dict[str, Any]] = []
    held: list[int] = []
    for row in rows:
        body = dict(row.payload)
        if row.kind == OutboxKind.mp_send:  # an answer to a 公众号 citizen, by 客服消息 (sent and settled on its own)
            from jobs import mp_send

            outcome[row.id] = mp_send.deliver(rt, row)
            continue
        if row.kind in (OutboxKind.appchat_create, OutboxKind.appchat):
            sends.append(_Send(row, body, keys=[f"chat:{body.get('chatid')}"]))
            continue
        if row.kind == OutboxKind.update_card:
            sends.append(_Send(row, body, keys=[f"card:{row.card_task_id}"]))
            continue
        users, new = _recipients(rt, row)
        if isinstance(users, datetime):
            outcome[row.id] = _later(row.id, users, row.attempts)
            continue
        if new:
            fixed.append({"id": row.id, "sent_to": "|".join(users)})
        if not users:
            held.append(row.id)
            continue
        try:
            body = _with_media(rt, row)
        except WecomError as exc:
            outcome[row.id] = _failed(row.id, row.attempts, exc, row.kind, is_reply(row.idem_key))
            continue
        request = {**body, "touser": "|".join(users), **duplicate_guard(row, interval)}
        keys = [f"user:{u}" for u in users] + ([f"card:{row.card_task_id}"] if row.card_task_id else [])
        sends.append(_Send(row, request, keys=keys))
    if fixed:  # before any request: a retry must send the very same recipients
        with rt.sessions() as s, s.begin():
            s.execute(update(OutboxMessage), fixed)
    for oid in held:
        _mark(oid, OutboxState.held, "held for everyone (per-person budget)")
        outcome[oid] = "held"
    return sends


def _chains(sends: list[_Send]) -> list[list[_Send]]:
    """Group the sends that share a person, a card or a group (each group in id order), so they stay in order."""
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for x in sends:
        first = f"row:{x.row.id}"
        for k in x.keys:
            parent[root(k)] = root(first)
        root(first)
    chains: dict[str, list[_Send]] = {}
    for x in sends:
        chains.setdefault(root(f"row:{x.row.id}"), []).append(x)
    return list(chains.values())


class _NoChatYet(Exception):
    """A group message not tried because its group's creation, earlier in the same chain, failed."""


def _send_chain(rt: Runtime, chain: list[_Send], free: threading.Semaphore) -> None:
    """Make each request of one chain in turn (in a pool thread), keeping each answer or error; free the thread.
    A group's messages are not tried after its creation failed (they wait for it, or are dropped with it)."""
    try:
        failed_chats: set[str] = set()
        for x in chain:
            chat = str(x.body.get("chatid"))
            if x.row.kind == OutboxKind.appchat and chat in failed_chats:
                x.error = _NoChatYet(chat)
                continue
            try:
                x.answer = _call(rt, x.row.kind, x.body)
            except Exception as exc:  # noqa: BLE001 - settled by _settle (a bug leaves the row for the sweep)
                x.error = exc
                if x.row.kind == OutboxKind.appchat_create:
                    failed_chats.add(chat)
    finally:
        free.release()


def _call(rt: Runtime, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The WeCom call for an outbox row of this kind."""
    if kind == OutboxKind.update_card:
        return rt.api.update_card(body)
    if kind == OutboxKind.appchat_create:
        return _create_chat(rt, body)
    if kind == OutboxKind.appchat:
        return rt.api.call("post", "appchat/send", body)
    return rt.api.send(body)


def _settle_late(rt: Runtime, chain: list[_Send], _done: Future[None]) -> None:
    """Settle a chain whose calls outlasted the lane's wait (in its pool thread)."""
    try:
        _settle(rt, chain)
    except Exception:  # noqa: BLE001 - the rows stay "sending"; the sweep frees them and the retry is deduplicated
        log.exception("outbox rows %s could not be marked; the sweep will retry them", [x.row.id for x in chain])


def _settle(rt: Runtime, sends: list[_Send]) -> dict[int, str]:
    """Record what WeCom answered: the rows sent in one UPDATE (and their cards' response codes), failures each."""
    outcome: dict[int, str] = {}
    sent: list[_Send] = []
    for x in sends:
        row, exc = x.row, x.error
        if exc is None:
            sent.append(x)
        elif isinstance(exc, _NoChatYet):
            outcome[row.id] = _after_its_group(row)
        elif not isinstance(exc, WecomError):
            log.error("outbox %s: %s", row.id, exc, exc_info=exc)  # left "sending": the sweep retries it
        elif row.kind == OutboxKind.appchat_create and exc.errcode == NO_PRIVILEGE:
            outcome[row.id] = _groups_refused(row.id, row, exc)
        elif _done_before(row, exc):
            x.answer = {"errcode": 0, "note": "applied by an earlier attempt"}
            sent.append(x)
        else:
            outcome[row.id] = _failed(row.id, row.attempts, exc, row.kind, is_reply(row.idem_key))
    if sent:
        _sent(rt, sent)
        outcome.update({x.row.id: "sent" for x in sent})
    return outcome


def _done_before(row: OutboxMessage, exc: WecomError) -> bool:
    """Return True if a retry's refusal says an earlier attempt of this row already took effect (for a card: only
    when that attempt's outcome was unknown, so a 42014 after a clear refusal stays a failure)."""
    if row.attempts <= 1:
        return False
    if row.kind == OutboxKind.update_card:
        return exc.errcode == RESPONSE_CODE_USED
    unknown = row.last_error is None or row.last_error.startswith("None:")  # a crash, timeout or non-JSON answer
    return row.kind == OutboxKind.send and bool(row.card_task_id) and exc.errcode == TASK_ID_USED and unknown


MEDIA_LIFETIME = timedelta(days=3) - timedelta(hours=1)  # WeCom keeps a temporary media_id 3 days


def _with_media(rt: Runtime, row: OutboxMessage) -> dict[str, Any]:
    """Return the send body; an image/file row's stored file is uploaded once and its media_id kept on the row, so a
    retry sends the very same request (WeCom's duplicate check) unless the media_id has expired."""
    body = dict(row.payload)
    body.pop("detail", None)  # a card's whole text, for its 查看详情 page only (workflow.views.render.button_card)
    upload = body.pop("upload", None)
    if not upload:
        return body
    msgtype = str(body["msgtype"])
    now = clock.now()
    fresh = upload.get("uploaded_at") and now - datetime.fromisoformat(upload["uploaded_at"]) < MEDIA_LIFETIME
    if not (upload.get("media_id") and fresh):
        data = (rt.config.storage_dir / upload["path"]).read_bytes()
        upload = {**upload, "media_id": rt.api.upload(msgtype, upload["filename"], data, upload["content_type"])}
        upload["uploaded_at"] = now.isoformat()
        with rt.sessions() as s, s.begin():
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(payload={**row.payload, "upload": upload})
            )
    return {**body, msgtype: {"media_id": upload["media_id"]}}


def _mark(oid: int, state: OutboxState, note: str) -> None:
    rt = runtime()
    with rt.sessions() as s, s.begin():
        s.execute(update(OutboxMessage).where(OutboxMessage.id == oid).values(state=state, last_error=note[:500]))


def _put_back(ids: Sequence[int], when: datetime, attempts: int, urgent: bool = False) -> list[int]:
    """Return claimed rows (still sending) to pending until when, not as a failed attempt (their recipients stay
    fixed), and schedule the job that takes them again; return the ids put back."""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        back = list(
            s.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state == OutboxState.sending)
                .values(state=OutboxState.pending, next_attempt_at=when, attempts=OutboxMessage.attempts - 1)
                .returning(OutboxMessage.id)
            )
        )
    if back:
        schedule_delivery(rt.queue, min(back), when, attempts, urgent)
    return back


def _after_its_group(row: OutboxMessage) -> str:
    """A group message whose group was not created: try again shortly, unless the group was given up meanwhile (its
    messages are then already dropped)."""
    return "later" if _put_back([row.id], clock.now() + timedelta(seconds=2), row.attempts) else "failed"


def _back_shortly(rows: Sequence[OutboxMessage]) -> dict[int, str]:
    """Put claimed notices back for NOTICES_LATER seconds when every notice thread is busy (the job that takes them
    again takes the other due notices of the lane too)."""
    _put_back([r.id for r in rows], clock.now() + timedelta(seconds=NOTICES_LATER), min(r.attempts for r in rows))
    return {r.id: "later" for r in rows}


def _later(oid: int, when: datetime, attempts: int) -> str:
    """Put the row back for when the person's minute budget has room (only replies and digests wait like this)."""
    _put_back([oid], when, attempts, urgent=True)
    return "later"


def _sent(rt: Runtime, sent: list[_Send]) -> None:
    """Mark rows sent in one UPDATE (one statement per row, sent together), and keep their cards' response codes."""
    now = clock.now()
    marks = []
    for x in sent:
        answer = x.answer or {}
        note = ";".join(f"{k}={answer[k]}" for k in ("invaliduser",) if answer.get(k)) or None
        marks.append(
            {"id": x.row.id, "state": OutboxState.sent, "sent_at": now, "msgid": str(answer.get("msgid") or ""),
             "last_error": note}
        )  # fmt: skip
    codes = {
        x.row.card_task_id: str(x.answer["response_code"])
        for x in sent
        if x.row.card_task_id and x.row.kind == OutboxKind.send and x.answer and x.answer.get("response_code")
    }
    with rt.sessions() as s, s.begin():
        s.execute(update(OutboxMessage), marks)
        if codes:
            for card in s.scalars(select(Card).where(Card.task_id.in_(codes))):
                card.response_code = codes[card.task_id]


def _groups_refused(oid: int, row: OutboxMessage, exc: WecomError) -> str:
    """60011 on appchat/create: the app may not create groups (its 可见范围 is not the whole corp). Never retried:
    the item's group is given up, its pending group messages are dropped, and the office is told once."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oid)
            .values(state=OutboxState.failed, last_error=str(exc)[:500])
        )
        if row.item_id is not None:
            appchat.give_up(s, row.item_id, now)
    log.warning("appchat/create refused with 60011 for item %s: groups disabled for it", row.item_id)
    metrics.outbox_failed()
    return "failed"


def _create_chat(rt: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """appchat/create; if the chat already exists (an earlier attempt got through), that counts as done."""
    try:
        return rt.api.call("post", "appchat/create", body)
    except WecomError as exc:
        if exc.errcode in RETRYABLE:
            raise
        try:
            return rt.api.call("get", "appchat/get", params={"chatid": body["chatid"]})
        except WecomError:
            raise exc from None


def _failed(oid: int, attempts: int, exc: WecomError, kind: OutboxKind = OutboxKind.send, urgent: bool = False) -> str:
    rt, now = runtime(), clock.now()
    limit = int(rt.config.outbox.get("max_attempts", 8))
    # a group message may overtake the group's creation: "chat not found" is worth retrying for it
    retry = (
        exc.errcode in RETRYABLE or (kind == OutboxKind.appchat and exc.errcode == CHAT_NOT_FOUND)
    ) and attempts < limit
    delay = backoff(
        attempts, float(rt.config.outbox.get("backoff_base", 1.0)), float(rt.config.outbox.get("backoff_max", 300.0))
    )
    when = now + timedelta(seconds=delay)
    with rt.sessions() as s, s.begin():
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oid)
            .values(
                state=OutboxState.pending if retry else OutboxState.failed,
                next_attempt_at=when,
                last_error=str(exc)[:500],
            )
        )
    log.warning("outbox %s attempt %s failed: %s (%s)", oid, attempts, exc, "retry" if retry else "gave up")
    if not retry:
        metrics.outbox_failed()
    if retry:
        try:
            schedule_delivery(rt.queue, oid, when, attempts, urgent)
        except Exception:  # noqa: BLE001 - the sweep will find the pending row
            log.warning("could not schedule retry of outbox %s; the sweep will", oid)
    return "retry" if retry else "failed"
