"""Deliver one outbox row through WeCom exactly once, as far as WeCom allows.

1. Claim the row (pending → sending) in the database; only one job can.
2. On the first attempt fix its recipients within the per-person budget and store them on the row (sent_to), so
   every retry sends the very same request.
3. Send it with WeCom's duplicate check on and the row's idempotency key in the request: WeCom compares the request
   JSON, so a retry of a send whose outcome was unknown (timeout, crash mid-call) is dropped by WeCom, while another
   row with the same text (帮助 asked twice) is not.
4. Mark it sent before doing anything else. If that fails, the row goes back to pending after STALE_SECONDS and the
   retry is again caught by the duplicate check. docs/reliability.md states the remaining window.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from core import clock, metrics
from core.runtime import Runtime, runtime
from core.wecom import WecomError, backoff
from jobs import budget
from jobs.queueing import schedule_delivery
from models import Card, OutboxMessage
from models.state import OutboxState
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


def _claim(oid: int) -> OutboxMessage | None:
    """Atomically move the row from pending to sending; return it, or None if someone else has it."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        res = cast(
            "CursorResult[Any]",
            s.execute(  # an UPDATE's result is a CursorResult (it has rowcount)
                update(OutboxMessage)
                .where(OutboxMessage.id == oid, OutboxMessage.state == OutboxState.pending)
                .values(state=OutboxState.sending, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            ),
        )
        if res.rowcount != 1:
            return None
        return s.get(OutboxMessage, oid)


def _recipients(rt: Runtime, row: OutboxMessage) -> list[str] | datetime:
    """Return the row's fixed recipients (deciding them within the budget on the first attempt), or when to retry."""
    if row.sent_to is not None:
        return [u for u in row.sent_to.split("|") if u]
    users = [u for u in row.touser.split("|") if u]
    ok, full = budget.reserve(rt, users, row.id, personal=budget.is_personal(row))
    if full and budget.is_personal(row):  # a reply waits for the person's window rather than being merged
        return datetime.fromtimestamp(max(full.values()) + 1, UTC)
    if full:
        budget.hold(rt, row, full)
    with rt.sessions() as s, s.begin():
        s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(sent_to="|".join(ok)))
    return ok


def deliver(oid: int) -> str:
    """Send outbox row oid at most once; return what happened ("sent", "retry", "failed", "held", "later", "skip")."""
    row = _claim(oid)
    if row is None:
        return "skip"
    rt = runtime()
    if row.kind == "mp_send":  # an answer to a 公众号 citizen, by 客服消息
        from jobs import mp_send

        return mp_send.deliver(rt, row)
    interval = int(rt.config.outbox.get("duplicate_check_interval", 1800))
    try:
        if row.kind == "update_card":
            answer = rt.api.update_card(dict(row.payload))
        elif row.kind == "appchat_create":
            answer = _create_chat(rt, dict(row.payload))
        elif row.kind == "appchat":
            answer = rt.api.call("post", "appchat/send", dict(row.payload))
        else:
            users = _recipients(rt, row)
            if isinstance(users, datetime):
                return _later(oid, users, row.attempts)
            if not users:
                _mark(oid, OutboxState.held, "held for everyone (per-person budget)")
                return "held"
            body = _with_media(rt, row)
            answer = rt.api.send({**body, "touser": "|".join(users), **duplicate_guard(row, interval)})
    except WecomError as exc:
        if row.kind == "appchat_create" and exc.errcode == NO_PRIVILEGE:
            return _groups_refused(oid, row, exc)
        if _done_before(row, exc):
            answer = {"errcode": 0, "note": "applied by an earlier attempt"}
        else:
            return _failed(oid, row.attempts, exc, row.kind, is_reply(row.idem_key))
    _sent(oid, row, answer)
    return "sent"


def _done_before(row: OutboxMessage, exc: WecomError) -> bool:
    """Return True if a retry's refusal says an earlier attempt of this row already took effect (for a card: only
    when that attempt's outcome was unknown, so a 42014 after a clear refusal stays a failure)."""
    if row.attempts <= 1:
        return False
    if row.kind == "update_card":
        return exc.errcode == RESPONSE_CODE_USED
    unknown = row.last_error is None or row.last_error.startswith("None:")  # a crash, timeout or non-JSON answer
    return row.kind == "send" and bool(row.card_task_id) and exc.errcode == TASK_ID_USED and unknown


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


def _later(oid: int, when: datetime, attempts: int) -> str:
    """Put the row back for when the person's minute budget has room (not a failed attempt)."""
    rt = runtime()
    with rt.sessions() as s, s.begin():
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oid)
            .values(state=OutboxState.pending, next_attempt_at=when, attempts=OutboxMessage.attempts - 1)
        )
    schedule_delivery(rt.queue, oid, when, attempts, urgent=True)  # only replies and digests wait like this
    return "later"


def _sent(oid: int, row: OutboxMessage, answer: dict[str, Any]) -> None:
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        note = ";".join(f"{k}={answer[k]}" for k in ("invaliduser",) if answer.get(k)) or None
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oid)
            .values(state=OutboxState.sent, sent_at=now, msgid=str(answer.get("msgid") or ""), last_error=note)
        )
        if row.card_task_id and row.kind == "send" and answer.get("response_code"):
            card = s.scalar(select(Card).where(Card.task_id == row.card_task_id))
            if card is not None:
                card.response_code = str(answer["response_code"])


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


def _failed(oid: int, attempts: int, exc: WecomError, kind: str = "send", urgent: bool = False) -> str:
    rt, now = runtime(), clock.now()
    limit = int(rt.config.outbox.get("max_attempts", 8))
    # a group message may overtake the group's creation: "chat not found" is worth retrying for it
    retry = (exc.errcode in RETRYABLE or (kind == "appchat" and exc.errcode == CHAT_NOT_FOUND)) and attempts < limit
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
