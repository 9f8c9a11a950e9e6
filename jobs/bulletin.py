"""Send the previous month's bulletin once its configured day and time have come (checked by every sweep)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from core import clock
from core.runtime import runtime
from models import AuditEvent, Bulletin, Role
from workflow.appraisal import bulletin
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

log = logging.getLogger(__name__)
FAILED = "bulletin_failed"
TRANSIENT = (OperationalError, RedisError, OSError)  # faults of the machine, not of a record


def send_due_bulletin() -> str | None:
    """Send the due month's bulletin if it was not sent and Liaowang was in use that month; return the month sent."""
    rt, now = runtime(), clock.now()
    month = bulletin.due_month(rt.config, now)
    if month is None:
        return None
    with rt.sessions() as s:
        row = s.get(Bulletin, month)
        if row is not None and row.sent_at is not None:
            return None
        if failed(s, month):  # waits for `liaowang bulletin --month … --send` (docs/reliability.md)
            return None
        try:
            bulletin.check_sendable(s, month, now)
        except Refusal:  # the month ended before Liaowang was first used: there is nothing to report
            return None
    try:
        with rt.sessions() as s, s.begin():
            sent = bulletin.send(s, rt.config, month, now)
    except IntegrityError:  # another worker sent it first
        return None
    except TRANSIENT:  # the database, Redis or the disk is away: the next sweep tries again
        raise
    except Exception as exc:  # noqa: BLE001 - a bulletin that cannot be built is recorded once, never retried in a loop
        _failed(rt, month, now, exc)
        return None
    if sent:
        log.info("monthly bulletin %s sent", month)
    return month if sent else None


def failed(session: Session, month: str) -> bool:
    """Tell whether the automatic send of month's bulletin failed before (then the sweep leaves it to the CLI)."""
    rows = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == FAILED, AuditEvent.item_id.is_(None)))
    return any((d or {}).get("month") == month for d in rows)


def _failed(rt: Any, month: str, now: datetime, exc: Exception) -> None:
    """Record the failure once (audit and one log line with its traceback) and tell the office once."""
    log.error(
        "monthly bulletin %s could not be sent; not retried until `liaowang bulletin --send`", month, exc_info=exc
    )
    y, m = month.split("-")
    text = (
        f"【考核通报】{y}年{int(m)}月的考核通报没能自动生成和发送（{type(exc).__name__}）。"
        f"请联系系统管理员查明原因后执行：liaowang bulletin --month {month} --send。其他工作不受影响。"
    )
    with rt.sessions() as s, s.begin():
        record(s, None, "system", FAILED, now, month=month, error=f"{type(exc).__name__}: {exc}"[:300])
        office = org.userids(org.with_role(s, Role.office)) or org.userids(org.with_role(s, Role.leader))
        emit(s, office, render.text(text), f"bulletin:{month}:failed", now)
