"""Shape checks of message, template card and menu JSON, refusing what WeCom refuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox import errors
from sandbox.errors import ApiError

TASK_ID_RE = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
CARD_TYPES = frozenset({"text_notice", "news_notice"}) | INTERACTIVE_CARDS
MEDIA_MSGTYPES = ("image", "voice", "video", "file")
APP_MSGTYPES = frozenset({"text", "markdown", "textcard", "template_card", "news", "mpnews", *MEDIA_MSGTYPES})
CHAT_MSGTYPES = APP_MSGTYPES - {"template_card"}
MENU_TYPES = frozenset(
    {
        "click",
        "view",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
        "view_miniprogram",
    }
)
MAX_CONTENT_BYTES = 2048


def nbytes(text: str) -> int:
    """Return the UTF-8 length of text."""
    return len(text.encode("utf-8"))


def bad(errmsg: str, errcode: int = errors.INVALID_PARAMETER) -> ApiError:
    """Return a shape refusal (40058 unless told otherwise)."""
    return ApiError(errcode, errmsg)


def obj(parent: dict[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
    """Return parent[key] as a dict ({} when optional and absent), else refuse."""
    value = parent.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise bad(f"invalid parameter: {where}{key} must be an object")
    return value


def text(parent: dict[str, Any], key: str, where: str, max_bytes: int | None = None) -> str:
    """Return parent[key] as a non-empty string within max_bytes, else refuse."""
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise bad(f"invalid parameter: {where}{key} is required")
    if max_bytes is not None and nbytes(value) > max_bytes:
        raise bad(f"{where}{key} exceeds {max_bytes} bytes", errors.CONTENT_TOO_LONG)
    return value


def items(parent: dict[str, Any], key: str, where: str, lo: int, hi: int) -> list[dict[str, Any]]:
    """Return parent[key] as a list of lo..hi objects, else refuse."""
    value = parent.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad(f"invalid parameter: {where}{key} must be a list of objects")
    if not lo <= len(value) <= hi:
        raise bad(f"invalid parameter: {where}{key} must have {lo} to {hi} items, got {len(value)}")
    return value


def validate_message(body: dict[str, Any], media_exists: Callable[[str], bool], chat: bool = False) -> str:
    """Check the type-specific part of a message/send (or appchat/send) body; return its msgtype."""
    msgtype = body.get("msgtype")
    allowed = CHAT_MSGTYPES if chat else APP_MSGTYPES
    if not isinstance(msgtype, str) or msgtype not in allowed:
        raise ApiError(errors.INVALID_MSGTYPE, f"invalid message type: {msgtype!r}")
    part = obj(body, msgtype, "")
    if msgtype in ("text", "markdown"):
        content = part.get("content")
        if not isinstance(content, str) or not content:
            raise ApiError(errors.EMPTY_CONTENT, f"empty content: {msgtype}.content is required")
        if nbytes(content) > MAX_CONTENT_BYTES:
            raise ApiError(errors.CONTENT_TOO_LONG, f"content size out of limit: {msgtype}.content > 2048B")
    elif msgtype == "textcard":
        text(part, "title", "textcard.", 128)
        text(part, "description", "textcard.", 512)
        text(part, "url", "textcard.", 2048)
        if "btntxt" in part and not isinstance(part["btntxt"], str):
            raise bad("invalid parameter: textcard.btntxt must be a string")
    elif msgtype in MEDIA_MSGTYPES:
        if not media_exists(text(part, "media_id", f"{msgtype}.")):
            raise ApiError(errors.INVALID_MEDIA_ID, "invalid media_id")
    elif msgtype == "news":
        for art in items(part, "articles", "news.", 1, 8):
            text(art, "title", "news.articles[].", 128)
            if not art.get("url") and not art.get("appid"):
                raise bad("invalid parameter: news.articles[].url is required")
    elif msgtype == "mpnews":
        for art in items(part, "articles", "mpnews.", 1, 8):
            text(art, "title", "mpnews.articles[].", 128)
            text(art, "content", "mpnews.articles[].", 666 * 1024)
            if not media_exists(text(art, "thumb_media_id", "mpnews.articles[].")):
                raise ApiError(errors.INVALID_MEDIA_ID, "invalid thumb_media_id")
    else:
        validate_template_card(part)
    return msgtype


def validate_task_id(task_id: Any) -> str:
    """Return a well-formed task_id (≤128 bytes of [0-9A-Za-z_-@]) or refuse."""
    if not isinstance(task_id, str) or not TASK_ID_RE.match(task_id):
        raise bad("taskid has existed or empty or exceed max len", errors.INVALID_TASK_ID)
    return task_id


def validate_template_card(card: dict[str, Any], update: bool = False) -> None:
    """Check a template_card object; on update the task_id is optional."""
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise bad(f"invalid parameter: invalid card_type {card_type!r}")
    main = obj(card, "main_title", "template_card.", required=False)
    has_title = isinstance(main.get("title"), str) and bool(main.get("title"))
    if card_type in ("text_notice", "button_interaction"):
        if not has_title and not card.get("sub_title_text"):
            raise bad("invalid parameter: template_card.main_title.title or sub_title_text is required")
    elif not has_title:
        raise bad("invalid parameter: template_card.main_title.title is required")
    if (card_type in INTERACTIVE_CARDS and not update) or "task_id" in card:
        validate_task_id(card.get("task_id"))
    action = obj(card, "card_action", "template_card.", required=card_type in ("text_notice", "news_notice"))
    if action:
        kind = action.get("type")
        if kind not in (0, 1, 2) or (card_type in ("text_notice", "news_notice") and kind == 0):
            raise bad(f"invalid parameter: template_card.card_action.type {kind!r}")
        if kind == 1:
            text(action, "url", "template_card.card_action.")
        if kind == 2:
            text(action, "appid", "template_card.card_action.")
    if card_type == "news_notice" and not card.get("card_image") and not card.get("image_text_area"):
        raise bad("invalid parameter: news_notice needs card_image or image_text_area")
    for entry in items(card, "horizontal_content_list", "template_card.", 0, 6):
        text(entry, "keyname", "template_card.horizontal_content_list[].")
    for entry in items(card, "jump_list", "template_card.", 0, 3):
        text(entry, "title", "template_card.jump_list[].")
    if card_type == "button_interaction":
        validate_buttons(card)
    elif card_type == "vote_interaction":
        box = obj(card, "checkbox", "template_card.")
        text(box, "question_key", "template_card.checkbox.", 1024)
        for opt in items(box, "option_list", "template_card.checkbox.", 1, 20):
            text(opt, "id", "template_card.checkbox.option_list[].", 128)
            text(opt, "text", "template_card.checkbox.option_list[].")
        validate_submit(card)
    elif card_type == "multiple_interaction":
        for sel in items(card, "select_list", "template_card.", 1, 3):
            text(sel, "question_key", "template_card.select_list[].", 1024)
            for opt in items(sel, "option_list", "template_card.select_list[].", 1, 10):
                text(opt, "id", "template_card.select_list[].option_list[].", 128)
                text(opt, "text", "template_card.select_list[].option_list[].")
        validate_submit(card)


def validate_buttons(card: dict[str, Any]) -> None:
    """Check button_list: 1-6 buttons, each with text and a key (≤1024 bytes) or, for type 1, a url."""
    buttons = items(card, "button_list", "template_card.", 1, 6)
    for btn in buttons:
        text(btn, "text", "template_card.button_list[].")
        if btn.get("type", 0) not in (0, 1):
            raise bad(f"invalid parameter: template_card.button_list[].type {btn.get('type')!r}")
        if btn.get("type", 0) == 1:
            text(btn, "url", "template_card.button_list[].")
        else:
            key = btn.get("key")
            if not isinstance(key, str) or not key:
                raise bad("invalid parameter: template_card.button_list[].key is required")
            if nbytes(key) > 1024:
                raise bad("invalid parameter: template_card.button_list[].key exceeds 1024 bytes")


def validate_submit(card: dict[str, Any]) -> None:
    """Check submit_button {text, key ≤1024 bytes}."""
    submit = obj(card, "submit_button", "template_card.")
    text(submit, "text", "template_card.submit_button.")
    key = text(submit, "key", "template_card.submit_button.")
    if nbytes(key) > 1024:
        raise bad("invalid parameter: template_card.submit_button.key exceeds 1024 bytes")


def clickable_keys(card: dict[str, Any]) -> set[str]:
    """Return the event keys a person can click on this card (URL buttons send no event)."""
    card_type = card.get("card_type")
    if card_type == "button_interaction":
        return {b["key"] for b in card.get("button_list", []) if b.get("type", 0) != 1 and b.get("key")}
    if card_type in ("vote_interaction", "multiple_interaction"):
        key = (card.get("submit_button") or {}).get("key")
        return {key} if key else set()
    return set()


def validate_menu(menu: Any) -> None:
    """Check menu/create JSON: 1-3 buttons, ≤5 sub buttons each, known types, click needs key, view url."""
    if not isinstance(menu, dict):
        raise ApiError(errors.DATA_FORMAT_ERROR, "data format error")
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise ApiError(40016, "invalid button size")
    for btn in buttons:
        if not isinstance(btn, dict):
            raise ApiError(40016, "invalid button size")
        if not isinstance(btn.get("name"), str) or not 1 <= nbytes(btn["name"]) <= 16:
            raise ApiError(40018, "invalid button name size")
        subs = btn.get("sub_button")
        if subs is None or (subs == [] and "type" in btn):
            validate_menu_action(btn, (40017, 40019, 40055))
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
            raise ApiError(40023, "invalid sub button size")
        for sub in subs:
            if not isinstance(sub, dict) or not isinstance(sub.get("name"), str):
                raise ApiError(40025, "invalid sub button name size")
            if not 1 <= nbytes(sub["name"]) <= 40:
                raise ApiError(40025, "invalid sub button name size")
            validate_menu_action(sub, (40024, 40026, 40027))


def validate_menu_action(btn: dict[str, Any], codes: tuple[int, int, int]) -> None:
    """Check one leaf menu button's type with its key or url."""
    kind = btn.get("type")
    if kind not in MENU_TYPES:
        raise ApiError(codes[0], "invalid button type")
    if kind == "view":
        url = btn.get("url")
        if not isinstance(url, str) or not url or nbytes(url) > 1024:
            raise ApiError(codes[2], "invalid button url size")
    elif kind != "view_miniprogram":
        key = btn.get("key")
        if not isinstance(key, str) or not 1 <= nbytes(key) <= 128:
            raise ApiError(codes[1], "invalid button key size")


def menu_click_keys(menu: dict[str, Any] | None) -> set[str] | None:
    """Return the keys of a stored menu's key-bearing buttons (None when no menu exists)."""
    if menu is None:
        return None
    keys: set[str] = set()
    for btn in menu.get("button", []):
        for leaf in btn.get("sub_button") or [btn]:
            if leaf.get("key"):
                keys.add(leaf["key"])
    return keys


# What a phone shows of a template card (characters): WeCom's template-card docs say "建议不超过N个字" and cut the
# rest on display with an ellipsis; sending more is not refused (no error code exists for it).
DISPLAY_LIMITS = {
    "source.desc": 13,
    "main_title.title": 26,
    "main_title.desc": 30,
    "sub_title_text": 112,
    "horizontal_content_list[].keyname": 5,
    "horizontal_content_list[].value": 26,
    "jump_list[].title": 13,
    "button_list[].text": 10,
}
ELLIPSIS = "…"


def clip(value: Any, limit: int) -> str:
    """Return value as a phone shows it within limit characters: cut with a trailing … when longer."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def card_fields(card: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (DISPLAY_LIMITS name, text) for every shown text field of a template card."""
    main, source = card.get("main_title") or {}, card.get("source") or {}
    found = [
        ("source.desc", source.get("desc")),
        ("main_title.title", main.get("title")),
        ("main_title.desc", main.get("desc")),
        ("sub_title_text", card.get("sub_title_text")),
    ]
    for row in card.get("horizontal_content_list") or []:
        found += [("horizontal_content_list[].keyname", row.get("keyname"))]
        if row.get("type", 0) in (0, 1, 2):
            found += [("horizontal_content_list[].value", row.get("value"))]
    found += [("jump_list[].title", j.get("title")) for j in card.get("jump_list") or []]
    found += [("button_list[].text", b.get("text")) for b in card.get("button_list") or []]
    return [(name, str(text)) for name, text in found if isinstance(text, str) and text]


def over_limit(card: dict[str, Any] | None) -> list[str]:
    """Return "field: N > limit" for every text of the card a phone would cut (empty when it all shows)."""
    if not card:
        return []
    return [
        f"{name}: {len(text)} > {DISPLAY_LIMITS[name]}"
        for name, text in card_fields(card)
        if len(text) > DISPLAY_LIMITS[name]
    ]
