"""Parse callback XML safely (defusedxml, plain top-level fields only) into an Incoming record."""

from __future__ import annotations

import hashlib

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from core.incoming import SYSTEM_SENDER, Incoming, is_contact_event
from core.text import clean_name, clean_text

__all__ = ["SYSTEM_SENDER", "BadXml", "Incoming", "digest", "is_contact_event", "parse_incoming", "safe_fields"]

SKIPPED = frozenset({"ExtAttr"})  # nested fields WeCom does send (change_contact), not used here


class BadXml(Exception):
    """The body is not acceptable XML (malformed, has a DTD or entities, or lacks fields): answer 400."""


def safe_fields(xml: str | bytes) -> dict[str, str]:
    """Return the top-level child elements of an <xml> document as plain text fields, or raise BadXml.

    DTDs, entities, attributes, nested elements and repeated fields are refused: WeCom sends none of them, except the
    nested ExtAttr of a change_contact member event (custom attributes), which is skipped.
    """
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise BadXml(f"unacceptable xml: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadXml("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if child.tag in SKIPPED and child.tag not in fields and not child.attrib:
            fields[child.tag] = ""
            continue
        if not isinstance(child.tag, str) or child.attrib or len(child) or child.tag in fields:
            raise BadXml(f"unexpected structure in <{child.tag}>")
        fields[child.tag] = child.text or ""
    return fields


def parse_incoming(xml: str) -> Incoming:
    """Parse decrypted callback XML into an Incoming, or raise BadXml."""
    fields = safe_fields(xml)
    msg_type = fields.get("MsgType", "").strip().lower()
    userid = fields.get("FromUserName", "").strip()
    if not msg_type or not userid:
        raise BadXml("missing MsgType or FromUserName")
    event = fields.get("Event", "").strip().lower()
    if msg_type == "event" and not event:
        raise BadXml("event without Event")

    def num(name: str) -> int:
        text = fields.get(name, "").strip() or "0"
        if not (text.isascii() and text.isdecimal() and len(text) <= 19):
            raise BadXml(f"{name} is not a number")
        return int(text)

    def text(name: str) -> str:
        return fields.get(name, "")

    contact = event == "change_contact"
    return Incoming(
        userid=userid,
        msg_type=msg_type,
        event=event,
        create_time=num("CreateTime"),
        msg_id=text("MsgId").strip(),
        content=clean_text(text("Content")).strip(),
        media_id=text("MediaId").strip(),
        pic_url=text("PicUrl").strip(),
        url=text("Url").strip(),
        title=clean_name(text("Title"), 500),
        description=clean_text(text("Description")),
        event_key=text("EventKey").strip(),
        task_id=text("TaskId").strip(),
        response_code=text("ResponseCode").strip(),
        agent_id=num("AgentID"),
        to_corp=text("ToUserName").strip(),
        change_type=text("ChangeType").strip() if contact else "",
        contact_userid=text("UserID").strip() if contact else "",
        new_userid=text("NewUserID").strip() if contact else "",
        party_id=num("Id") if contact else 0,
        party_name=clean_name(text("Name")) if contact and "Id" in fields else "",
        contact_digest=digest(fields) if contact else "",
    )


def digest(fields: dict[str, str]) -> str:
    """Return the sha256 of a callback's fields (name order), which identifies one change_contact event."""
    return hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()
