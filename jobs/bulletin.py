"""Send the previous month's bulletin once its configured day and time have come (checked by every sweep)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from core import clock
from core.runtime import runtime
from models import Bulletin
from workflow import bulletin
from workflow.errors import Refusal

log = logging.getLogger(__name__)


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
        try:
            bulletin.check_sendable(s, month, now)
        except Refusal:  # the month ended before Liaowang was first used: there is nothing to report
            return None
    try:
        with rt.sessions() as s, s.begin():
            sent = bulletin.send(s, rt.config, month, now)
    except IntegrityError:  # another worker sent it first
        return None
    if sent:
        log.info("monthly bulletin %s sent", month)
    return month if sent else None
