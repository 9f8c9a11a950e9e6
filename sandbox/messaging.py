"""Message delivery rules: recipients, per-person limits, duplicate check, template cards, app chats."""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections import deque
from typing import Any

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.state import (
    PER_HOUR_LIMIT,
    PER_MINUTE_LIMIT,
    RESPONSE_CODE_TTL,
    Card,
    Record,
    ResponseCode,
    World,
)
from sandbox.validate import (
    INTERACTIVE_CARDS,
    clickable_keys,
    over_limit,
    validate_message,
    validate_task_id,
    validate_template_card,
)

DUP_FLAGS = ("enable_duplicate_check", "duplicate_check_interval")
CHATID_RE = re.compile(r"^[0-9A-Za-z]{1,32}$")


def check_agentid(world: World, body: dict[str, Any]) -> None:
    """Refuse with 40056 unless body.agentid is the app's agent id."""
    agentid = body.get("agentid")
    if isinstance(agentid, str) and agentid.isdigit():
        agentid = int(agentid)
    if isinstance(agentid, bool) or agentid != world.settings.agent_id:
        raise ApiError(errors.INVALID_AGENTID, "invalid agentid")


def split_ids(value: Any) -> list[str]:
    """Split WeCom's "a|b|c" recipient syntax, dropping blanks and repeats."""
    if value is None:
        return []
    parts = str(value).split("|")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def new_record(world: World, userid: str, msgid: str, body: dict[str, Any], **extra: Any) -> Record:
    """Build an inbox record (not yet stored)."""
    msgtype = body.get("msgtype")
    card = copy.deepcopy(body.get("template_card")) if msgtype == "template_card" else None
    record: Record = {
        "userid": userid,
        "msgid": msgid,
        "msgtype": msgtype,
        "body": copy.deepcopy(body),
        "at": world.now(),
        "response_code": None,
        "task_id": (card or {}).get("task_id"),
        "chatid": None,
        "sender": None,  # who typed it in a group chat (None: the app sent it)
        "passive": False,
        "card": card,
        "replaced_button": None,
        "updates": [],
        "over_limit": over_limit(card),  # what a phone would cut of this card (WeCom shows it truncated)
    }
    record.update(extra)
    return record


def issue_response_code(world: World, task_id: str, userids: list[str]) -> str:
    """Issue a fresh single-use response_code for a card (caller holds the lock)."""
    code = secrets.token_urlsafe(32)
    world.response_codes[code] = ResponseCode(code, task_id, list(userids), world.now())
    return code


def rate_allows(world: World, userid: str) -> bool:
    """Record a delivery to userid unless 30/min or 1000/h were already reached (caller holds the lock)."""
    now = world.now()
    times = world.deliveries.setdefault(userid, deque())
    while times and now - times[0] >= 3600:
        times.popleft()
    last_minute = sum(1 for t in times if now - t < 60)
    if last_minute >= PER_MINUTE_LIMIT or len(times) >= PER_HOUR_LIMIT:
        world.dropped[userid] += 1
        return False
    times.append(now)
    return True


def duplicate_key(body: dict[str, Any]) -> tuple[str, float] | None:
    """Return (content key, interval) when enable_duplicate_check is on, else None."""
    if not body.get("enable_duplicate_check"):
        return None
    interval = body.get("duplicate_check_interval", 1800)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0:
        interval = 1800
    content = {k: v for k, v in body.items() if k not in DUP_FLAGS}
    key = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return key, float(min(interval, 14400))


def send_message(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Apply message/send: validate, deliver to each valid recipient's inbox, answer like WeCom."""
    check_agentid(world, body)
    msgtype = validate_message(body, world.has_media)
    with world.lock:
        users = split_ids(body.get("touser"))
        if users == ["@all"]:
            users = list(world.people)
        valid = [u for u in users if u in world.people]
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(u for u in users if u not in world.people),
            "invalidparty": "|".join(split_ids(body.get("toparty"))),
            "invalidtag": "|".join(split_ids(body.get("totag"))),
            "unlicenseduser": "",
        }
        if not valid:
            answer.update(errcode=errors.ALL_RECIPIENTS_INVALID, errmsg="user & party & tag all invalid")
            return answer
        msgid = secrets.token_urlsafe(24)
        answer["msgid"] = msgid
        dup = duplicate_key(body)
        if dup is not None and world.now() - world.dup_keys.get(dup[0], float("-inf")) < dup[1]:
            world.duplicates_suppressed += 1
            return answer
        card = body.get("template_card") if msgtype == "template_card" else None
        task_id = card.get("task_id") if card else None
        if task_id is not None and task_id in world.cards:
            raise ApiError(errors.INVALID_TASK_ID, "taskid has existed or empty or exceed max len")
        if dup is not None:
            world.dup_keys[dup[0]] = world.now()
        if task_id is not None:
            world.cards[task_id] = Card(task_id, card["card_type"], msgid, copy.deepcopy(card), valid)
        interactive = card is not None and card["card_type"] in INTERACTIVE_CARDS
        if interactive:
            answer["response_code"] = issue_response_code(world, task_id, valid)
        for userid in valid:
            if not rate_allows(world, userid):
                continue
            record = new_record(world, userid, msgid, body)
            if interactive:
                record["response_code"] = issue_response_code(world, task_id, [userid])
            if task_id is not None:
                world.cards[task_id].records[userid] = record
            world.add_record(record)
        return answer


def take_response_code(world: World, code: Any) -> ResponseCode:
    """Return an unused, unexpired response_code (caller holds the lock) or refuse with 40148."""
    rc = world.response_codes.get(code) if isinstance(code, str) else None
    if rc is None:
        raise ApiError(errors.INVALID_RESPONSE_CODE, "invalid response_code")
    if rc.used:
        raise ApiError(errors.INVALID_RESPONSE_CODE, "response_code used")
    if world.now() - rc.issued_at >= RESPONSE_CODE_TTL:
        raise ApiError(errors.INVALID_RESPONSE_CODE, "response_code expired")
    return rc


def update_template_card(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Apply message/update_template_card with a single-use response_code."""
    check_agentid(world, body)
    button = body.get("button")
    new_card = body.get("template_card")
    if isinstance(button, dict):
        name = button.get("replace_name")
        if not isinstance(name, str) or not name:
            raise ApiError(errors.INVALID_PARAMETER, "invalid parameter: button.replace_name is required")
    elif isinstance(new_card, dict):
        validate_template_card(new_card, update=True)
    else:
        raise ApiError(errors.INVALID_PARAMETER, "invalid parameter: button or template_card is required")
    with world.lock:
        rc = take_response_code(world, body.get("response_code"))
        card = world.cards[rc.task_id]
        wanted = split_ids("|".join(str(u) for u in body.get("userids") or []))
        targets = card.recipients if body.get("atall") == 1 or not wanted else wanted
        invalid = [u for u in targets if u not in card.recipients]
        rc.used = True
        for userid in targets:
            record = card.records.get(userid)
            if record is None:
                continue
            if isinstance(button, dict):
                record["replaced_button"] = button["replace_name"]
                change: dict[str, Any] = {"kind": "button", "replace_name": button["replace_name"]}
            else:
                view = copy.deepcopy(new_card)
                view.setdefault("task_id", card.task_id)
                record["card"], record["replaced_button"] = view, None
                record["over_limit"] = over_limit(view)
                change = {"kind": "template_card", "template_card": copy.deepcopy(view)}
            record["updates"].append({"at": world.now(), "response_code": rc.code, **change})
            world.touch_record(record)
        return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}


def replace_button_passively(world: World, userid: str, task_id: str, name: str) -> bool:
    """Apply a passive update_button reply to the clicking user's card; tell whether it applied."""
    with world.lock:
        card = world.cards.get(task_id)
        record = card.records.get(userid) if card else None
        if record is None:
            return False
        record["replaced_button"] = name
        record["updates"].append({"at": world.now(), "kind": "button", "replace_name": name, "passive": True})
        world.touch_record(record)
        return True


def click_card(world: World, userid: str, task_id: str, key: str) -> tuple[str, str]:
    """Check that userid can click key on the card; return (card_type, fresh response_code) or ValueError."""
    validate_task_id(task_id)
    with world.lock:
        card = world.cards.get(task_id)
        record = card.records.get(userid) if card else None
        if card is None or record is None:
            raise ValueError(f"card {task_id!r} was not delivered to {userid!r}")
        if record["replaced_button"] is not None:
            raise ValueError(f"card {task_id!r} buttons were replaced for {userid!r}; nothing to click")
        view = record["card"] or {}
        if key not in clickable_keys(view):
            raise ValueError(f"key {key!r} is not a clickable key of card {task_id!r}")
        return str(view.get("card_type")), issue_response_code(world, task_id, [userid])


def create_appchat(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Apply appchat/create: ≥2 member userids, optional owner and chatid."""
    if not world.settings.visibility_root:  # WeCom: only an app visible to the whole corp may create groups
        raise ApiError(errors.NO_PRIVILEGE, "no privilege to access/modify contact/party/agent")
    userlist = body.get("userlist")
    if not isinstance(userlist, list) or not 2 <= len(set(map(str, userlist))) <= 2000:
        raise ApiError(errors.CHAT_MEMBER_COUNT, "invalid chat member list size")
    members = list(dict.fromkeys(map(str, userlist)))
    chatid = body.get("chatid")
    if chatid is not None and (not isinstance(chatid, str) or not CHATID_RE.match(chatid)):
        raise ApiError(errors.CHATID_INVALID, "chatid invalid")
    with world.lock:
        unknown = [u for u in members if u not in world.people]
        if unknown:
            raise ApiError(errors.INVALID_CHAT_MEMBER, f"invalid chat member: {'|'.join(unknown)}")
        owner = body.get("owner") or members[0]
        if owner not in members:
            raise ApiError(errors.INVALID_PARAMETER, "invalid parameter: owner must be in userlist")
        chatid = chatid or secrets.token_hex(16)
        if chatid in world.appchats:
            raise ApiError(errors.CHATID_EXISTS, f"chatid exists: {chatid}")
        world.appchats[chatid] = {
            "chatid": chatid,
            "name": str(body.get("name") or ""),
            "owner": owner,
            "userlist": members,
            "chat_type": 0,
        }
        return {"errcode": 0, "errmsg": "ok", "chatid": chatid}


def get_appchat(world: World, chatid: str | None) -> dict[str, Any]:
    """Apply appchat/get."""
    with world.lock:
        chat = world.appchats.get(chatid or "")
        if chat is None:
            raise ApiError(errors.CHAT_NOT_FOUND, "chat not found")
        return {"errcode": 0, "errmsg": "ok", "chat_info": copy.deepcopy(chat)}


def send_appchat(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Apply appchat/send: deliver to every member's inbox with chatid set."""
    with world.lock:
        chat = world.appchats.get(str(body.get("chatid") or ""))
        if chat is None:
            raise ApiError(errors.CHAT_NOT_FOUND, "chat not found")
        validate_message(body, world.has_media, chat=True)
        msgid = secrets.token_urlsafe(24)
        for userid in chat["userlist"]:
            world.add_record(new_record(world, userid, msgid, body, chatid=chat["chatid"]))
        return {"errcode": 0, "errmsg": "ok"}


def say_in_appchat(world: World, userid: str, chatid: str, text: str) -> dict[str, Any]:
    """A member types in an app group chat: every member sees it; like WeCom, the app gets no callback for it."""
    if not text.strip():
        raise ApiError(errors.INVALID_PARAMETER, "empty content")
    with world.lock:
        chat = world.appchats.get(chatid)
        if chat is None:
            raise ApiError(errors.CHAT_NOT_FOUND, "chat not found")
        if userid not in chat["userlist"]:
            raise ApiError(errors.INVALID_CHAT_MEMBER, f"invalid chat member: {userid}")
        msgid = "group-" + secrets.token_urlsafe(16)
        body = {"msgtype": "text", "text": {"content": text}}
        for member in chat["userlist"]:
            world.add_record(new_record(world, member, msgid, body, chatid=chatid, sender=userid))
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid, "members": len(chat["userlist"]), "callback": False}
