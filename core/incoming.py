"""What a person sent or did through WeCom, reduced to the fields handlers use (shared by bot, jobs, handlers)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_KEY = 120  # longest dedupe key stored as is (the column holds 200; reply keys add a prefix)


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
    change_type: str = ""  # change_contact: create_user … delete_party
    contact_userid: str = ""  # UserID
    new_userid: str = ""  # NewUserID (update_user when the account was renamed)
    party_id: int = 0  # Id (party events)
    party_name: str = ""  # Name (party events)
    contact_digest: str = ""  # sha256 of every field of a change_contact event (its dedupe key)

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName+CreateTime+Event(+key/task) for events; hashed when too long to store.

        A change_contact event (FromUserName "sys") is keyed by a digest of all its fields: two edits in the same second
        are two events, WeCom's retry of one is the same."""
        if self.contact_digest:
            key = f"ev:sys:{self.create_time}:change_contact:{self.contact_digest[:40]}"
        elif self.msg_id:
            key = f"msg:{self.msg_id}"
        else:
            key = f"ev:{self.userid}:{self.create_time}:{self.event}:{self.event_key}:{self.task_id}"
        return key if len(key) <= MAX_KEY else f"{key[:3]}#{hashlib.sha256(key.encode()).hexdigest()}"


SYSTEM_SENDER = "sys"  # FromUserName of WeCom's own events (通讯录变更): nobody to answer or apologise to


def is_contact_event(msg: Incoming) -> bool:
    """Tell whether WeCom itself sent this callback: a change_contact event from "sys"."""
    return msg.userid == SYSTEM_SENDER and msg.msg_type == "event" and msg.event == "change_contact"
