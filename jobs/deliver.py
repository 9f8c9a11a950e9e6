"""Deliver one outbox row through WeCom: claim it, send it, mark it; retry with backoff on WeCom errors."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from core import clock
from core.runtime import Runtime, runtime
from core.wecom import WecomError, backoff
from jobs import budget
from jobs.queueing import schedule_delivery
from models import Card, OutboxMessage

log = logging.getLogger(__name__)

RETRYABLE = {None, -1, 40014, 42001, 45009, 45033, 45011, 50001}
CHAT_NOT_FOUND = 86003


def _claim(oid: int) -> OutboxMessage | None:
    """Atomically move the row from pending to sending; return it, or None if someone else has it."""
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        res = cast(
            "CursorResult[Any]",
            s.execute(  # an UPDATE's result is a CursorResult (it has rowcount)
                update(OutboxMessage)
                .where(OutboxMessage.id == oid, OutboxMessage.state == "pending")
                .values(state="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
            ),
        )
        if res.rowcount != 1:
            return None
        return s.get(OutboxMessage, oid)


def deliver(oid: int) -> str:
    """Send outbox row oid at most once; return what happened ("sent", "retry", "failed", "skip")."""
    row = _claim(oid)
    if row is None:
        return "skip"
    rt = runtime()
    users: list[str] = []
    try:
        if row.kind == "update_card":
            answer = rt.api.update_card(dict(row.payload))
        elif row.kind == "appchat_create":
            answer = _create_chat(rt, dict(row.payload))
        elif row.kind == "appchat":
            answer = rt.api.call("post", "appchat/send", dict(row.payload))
        else:
            users, over = budget.split(rt, row)
            if over:
                budget.hold(rt, row, over)
            if not users:
                _mark(oid, "held", f"held for {'|'.join(over)}")
                return "held"
            body = {**row.payload, "touser": "|".join(users)}
            if not row.idem_key.startswith("reply:"):
                # a second guard against re-sending a row; not for replies, which a person may ask for twice
                body["enable_duplicate_check"] = 1
                body["duplicate_check_interval"] = int(rt.config.outbox.get("duplicate_check_interval", 1800))
            answer = rt.api.send(body)
    except WecomError as exc:
        return _failed(oid, row.attempts, exc, row.kind)
    if users:
        budget.count(rt, users, oid)
    _sent(oid, row, answer)
    return "sent"


def _mark(oid: int, state: str, note: str) -> None:
    rt = runtime()
    with rt.sessions() as s, s.begin():
        s.execute(update(OutboxMessage).where(OutboxMessage.id == oid).values(state=state, last_error=note[:500]))


def _sent(oid: int, row: OutboxMessage, answer: dict[str, Any]) -> None:
    rt, now = runtime(), clock.now()
    with rt.sessions() as s, s.begin():
        note = ";".join(f"{k}={answer[k]}" for k in ("invaliduser",) if answer.get(k)) or None
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oid)
            .values(state="sent", sent_at=now, msgid=str(answer.get("msgid") or ""), last_error=note)
        )
        if row.card_task_id and row.kind == "send" and answer.get("response_code"):
            card = s.scalar(select(Card).where(Card.task_id == row.card_task_id))
            if card is not None:
                card.response_code = str(answer["response_code"])


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


def _failed(oid: int, attempts: int, exc: WecomError, kind: str = "send") -> str:
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
            .values(state="pending" if retry else "failed", next_attempt_at=when, last_error=str(exc)[:500])
        )
    log.warning("outbox %s attempt %s failed: %s (%s)", oid, attempts, exc, "retry" if retry else "gave up")
    if retry:
        try:
            schedule_delivery(rt.queue, oid, when, attempts)
        except Exception:  # noqa: BLE001 - the sweep will find the pending row
            log.warning("could not schedule retry of outbox %s; the sweep will", oid)
    return "retry" if retry else "failed"
