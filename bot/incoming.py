"""Parse callback XML safely into an Incoming record (wechatpy parser plus template_card_event)."""

from __future__ import annotations

from dataclasses import dataclass

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.events import register_event
from wechatpy.events import BaseEvent
from wechatpy.fields import IntegerField, StringField


class BadXml(Exception):
    """The body is not acceptable XML (malformed, has a DTD or entities, or lacks fields): answer 400."""


@register_event("template_card_event")
class TemplateCardEvent(BaseEvent):
    """A click on an interactive template card (wechatpy 1.8.18 does not know this event)."""

    event = "template_card_event"
    agent = IntegerField("AgentID", 0)
    key = StringField("EventKey")
    task_id = StringField("TaskId")
    card_type = StringField("CardType")
    response_code = StringField("ResponseCode")


@dataclass(frozen=True)
class Incoming:
    """What a person sent or did, reduced to the fields handlers use."""

    userid: str
    msg_type: str
    event: str = ""
    create_time: int = 0
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    url: str = ""
    title: str = ""
    description: str = ""
    event_key: str = ""
    task_id: str = ""
    response_code: str = ""
    agent_id: int = 0
    to_corp: str = ""

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName+CreateTime+Event(+key/task) for events."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"ev:{self.userid}:{self.create_time}:{self.event}:{self.event_key}:{self.task_id}"


def safe_fields(xml: str | bytes) -> dict[str, str]:
    """Return the top-level child elements of an <xml> document, refusing DTDs, entities and junk."""
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise BadXml(f"unacceptable xml: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadXml("root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}


def parse_incoming(xml: str) -> Incoming:
    """Parse decrypted callback XML into an Incoming, or raise BadXml."""
    fields = safe_fields(xml)
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise BadXml("missing MsgType or FromUserName")
    if fields["MsgType"].lower() == "event" and not fields.get("Event"):
        raise BadXml("event without Event")
    msg = parse_message(xml)
    d = msg._data

    def num(name: str) -> int:
        try:
            return int(d.get(name) or 0)
        except (TypeError, ValueError):
            raise BadXml(f"{name} is not a number") from None

    return Incoming(
        userid=d.get("FromUserName") or "",
        msg_type=(d.get("MsgType") or "").lower(),
        event=(d.get("Event") or "").lower(),
        create_time=num("CreateTime"),
        msg_id=str(d.get("MsgId") or ""),
        content=d.get("Content") or "",
        media_id=d.get("MediaId") or "",
        pic_url=d.get("PicUrl") or "",
        url=d.get("Url") or "",
        title=d.get("Title") or "",
        description=d.get("Description") or "",
        event_key=d.get("EventKey") or "",
        task_id=d.get("TaskId") or "",
        response_code=d.get("ResponseCode") or "",
        agent_id=num("AgentID"),
        to_corp=d.get("ToUserName") or "",
    )
