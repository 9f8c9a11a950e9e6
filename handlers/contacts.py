"""The change_contact event (通讯录变更, from "sys"): read what WeCom shows now, then apply it
(workflow.people.contacts)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from core.incoming import Incoming, is_contact_event
from core.runtime import Runtime
from workflow.people import contacts
from workflow.people.contacts import ContactEvent, MappingError, Snapshot

log = logging.getLogger(__name__)


def event_of(msg: Incoming) -> ContactEvent:
    """Return the event's change, member and department."""
    return ContactEvent(msg.change_type, msg.contact_userid, msg.new_userid, msg.party_id, msg.party_name)


def mapping(rt: Runtime) -> contacts.Mapping | None:
    """Return the configured mapping, or None (with a log line) if sync is off or the file is invalid."""
    path = rt.config.contacts_mapping
    if path is None:
        log.info("change_contact ignored: [contacts] mapping is not set (contact-book sync is off)")
        return None
    try:
        return contacts.load_mapping(path)
    except MappingError as exc:
        log.error("通讯录变更事件未处理（映射文件有误，修正后运行 liaowang contacts sync）：%s", exc)
        return None


def prefetch(rt: Runtime, msg: Incoming) -> Snapshot | None:
    """Read what WeCom shows now for the event, outside any transaction; None when there is nothing to apply.

    A WeCom error raises, so the inbox row is retried with backoff like any failed handling."""
    if not is_contact_event(msg):
        return None
    rules = mapping(rt)
    return None if rules is None else contacts.snapshot(rt.api, rules, event_of(msg))


def handle(session: Session, msg: Incoming, rt: Runtime, now: datetime, seen: Snapshot | None) -> None:
    """Apply one change_contact event (no reply: nobody sent it)."""
    rules = mapping(rt) if seen is not None else None
    if seen is None or rules is None:
        return
    report = contacts.apply_event(session, rules, event_of(msg), seen, now)
    log.info("change_contact %s applied: %s", msg.change_type, report.as_json())
