"""Control endpoints that act as a person: messages and events pushed to the app's callback URL."""

from __future__ import annotations

import base64
import binascii
import threading
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox import callbacks, messaging, outbox
from sandbox.callbacks import RawXml, XmlValue
from sandbox.errors import ApiError, ControlError
from sandbox.media import check_upload
from sandbox.state import World
from sandbox.validate import menu_click_keys

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
MAX_REPLAY = 20


def payload() -> dict[str, Any]:
    """Return the control request's JSON object or refuse with 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("expected a JSON object body")
    return body


def field(body: dict[str, Any], key: str, default: str | None = None) -> str:
    """Return a string field of the control body (required unless a default is given)."""
    value = body.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ControlError(f"{key} (string) is required")
    return value


def base_fields(world: World, userid: str, msgtype: str) -> list[tuple[str, XmlValue]]:
    """Return the XML fields every callback starts with."""
    return [
        ("ToUserName", world.settings.corp_id),
        ("FromUserName", userid),
        ("CreateTime", int(world.now())),
        ("MsgType", msgtype),
    ]


def message_fields(
    world: World, userid: str, msgtype: str, extra: list[tuple[str, XmlValue]]
) -> tuple[list[tuple[str, XmlValue]], str]:
    """Return a plain message's XML fields (with a fresh MsgId) and that MsgId."""
    msg_id = world.new_callback_msg_id()
    fields = [
        *base_fields(world, userid, msgtype),
        *extra,
        ("MsgId", RawXml(msg_id)),
        ("AgentID", world.settings.agent_id),
    ]
    return fields, msg_id


def event_fields(world: World, userid: str, event: str, key: str) -> list[tuple[str, XmlValue]]:
    """Return a menu/app event's XML fields."""
    return [
        *base_fields(world, userid, "event"),
        ("Event", event),
        ("EventKey", key),
        ("AgentID", world.settings.agent_id),
    ]


def store_reply(world: World, userid: str, reply: dict[str, Any], task_id: str | None) -> None:
    """Put a decrypted passive reply in the sender's inbox, or apply an update_button to their card."""
    msgtype = str(reply.get("MsgType") or "")
    button = reply.get("Button")
    name = button.get("ReplaceName") if isinstance(button, dict) else None
    if msgtype == "update_button" and task_id and isinstance(name, str):
        messaging.replace_button_passively(world, userid, task_id, name)
        return
    msgid = "passive-" + callbacks.random_digits(16)
    record = messaging.new_record(world, userid, msgid, {"msgtype": msgtype}, passive=True)
    record["body"] = reply
    world.add_record(record)


def run_act(
    world: World,
    userid: str,
    fields: list[tuple[str, XmlValue]],
    body: dict[str, Any],
    info: dict[str, Any],
    task_id: str | None = None,
    outgoing: tuple[str, dict[str, Any]] | None = None,
) -> Response:
    """Seal the callback once, deliver it `replay` times, report the exchanges; outgoing is shown as sent on /phone."""
    url = world.callback_url
    if not url:
        raise ControlError("no callback_url configured (POST /sandbox/config)", 409)
    replay = body.get("replay", 1)
    if not isinstance(replay, int) or isinstance(replay, bool) or not 1 <= replay <= MAX_REPLAY:
        raise ControlError(f"replay must be an integer 1..{MAX_REPLAY}")
    xml = callbacks.build_xml(fields)
    sealed = callbacks.seal_callback(world, xml)
    created = next(int(v) for k, v in fields if k == "CreateTime")
    info = {
        **info,
        "create_time": created,
        "xml": xml,
        "timestamp": sealed.query["timestamp"],
        "nonce": sealed.query["nonce"],
    }

    sent = outbox.add_outgoing(world, userid, str(info["msg_id"]), *outgoing) if outgoing else None

    def job() -> dict[str, Any]:
        outs = [callbacks.deliver(world, sealed, url) for _ in range(replay)]
        if sent is not None:
            outbox.finish_outgoing(world, sent, [s for o in outs for s in o.statuses])
        for out in outs:
            if out.reply is not None:
                store_reply(world, userid, out.reply, task_id)
        replies = [o.reply for o in outs if o.reply is not None]
        return {
            "tries": sum(o.tries for o in outs),
            "statuses": [s for o in outs for s in o.statuses],
            "elapsed_ms": [e for o in outs for e in o.elapsed_ms],
            "reply": replies[0] if replies else None,
            "reply_error": next((o.reply_error for o in outs if o.reply_error), None),
            "deliveries": [o.as_json() for o in outs],
        }

    if body.get("wait", True) is False:
        threading.Thread(target=job, name="sandbox-callback", daemon=True).start()
        return jsonify({**info, "queued": True})
    return jsonify({**info, **job(), "queued": False})


def register_act_routes(bp: Blueprint, world: World) -> None:
    """Add say, link, image, click, enter and card_click to the /sandbox blueprint."""

    @bp.post("/say")
    def say() -> Response:
        body = payload()
        userid = field(body, "userid")
        text = field(body, "text")
        fields, msg_id = message_fields(world, userid, "text", [("Content", text)])
        return run_act(world, userid, fields, body, {"msg_id": msg_id}, outgoing=("text", {"content": text}))

    @bp.post("/group_say")
    def group_say() -> Response:
        """A member types text in an app group chat: shown to its members, never pushed to the app (as in WeCom)."""
        body = payload()
        try:
            done = messaging.say_in_appchat(world, field(body, "userid"), field(body, "chatid"), field(body, "text"))
        except ApiError as exc:
            raise ControlError(exc.errmsg) from exc
        return jsonify(done)

    @bp.post("/link")
    def link() -> Response:
        body = payload()
        userid = field(body, "userid")
        extra: list[tuple[str, XmlValue]] = [
            ("Title", field(body, "title", "")),
            ("Description", field(body, "description", "")),
            ("Url", field(body, "url")),
            ("PicUrl", field(body, "pic_url", "")),
        ]
        fields, msg_id = message_fields(world, userid, "link", extra)
        shown = {k.lower(): str(v) for k, v in extra}
        return run_act(world, userid, fields, body, {"msg_id": msg_id}, outgoing=("link", shown))

    @bp.post("/image")
    def image() -> Response:
        body, data = image_request()
        userid = field(body, "userid")
        png = data.startswith(b"\x89PNG")
        item = world.put_media("image", "image.png" if png else "image.jpg", "image/png" if png else "image/jpeg", data)
        pic_url = request.host_url + "sandbox/media/" + item.media_id
        extra: list[tuple[str, XmlValue]] = [("PicUrl", pic_url), ("MediaId", item.media_id)]
        fields, msg_id = message_fields(world, userid, "image", extra)
        return run_act(
            world,
            userid,
            fields,
            body,
            {"msg_id": msg_id, "media_id": item.media_id, "pic_url": pic_url},
            outgoing=("image", {"media_id": item.media_id, "pic_url": pic_url}),
        )

    @bp.post("/click")
    def click() -> Response:
        body = payload()
        userid, key = field(body, "userid"), field(body, "key")
        with world.lock:
            keys = menu_click_keys(world.menu)
        if keys is not None and key not in keys:
            raise ControlError(f"menu has no button with key {key!r}")
        return run_act(world, userid, event_fields(world, userid, "click", key), body, {})

    @bp.post("/enter")
    def enter() -> Response:
        body = payload()
        userid = field(body, "userid")
        return run_act(world, userid, event_fields(world, userid, "enter_agent", ""), body, {})

    @bp.post("/card_click")
    def card_click() -> Response:
        body = payload()
        userid, task_id, key = field(body, "userid"), field(body, "task_id"), field(body, "key")
        try:
            card_type, code = messaging.click_card(world, userid, task_id, key)
        except (ValueError, ApiError) as exc:
            raise ControlError(str(exc)) from exc
        fields = [
            *base_fields(world, userid, "event"),
            ("Event", "template_card_event"),
            ("EventKey", key),
            ("TaskId", task_id),
            ("CardType", card_type),
            ("ResponseCode", code),
            ("AgentID", world.settings.agent_id),
            ("SelectedItems", selected_items(body)),
        ]
        return run_act(world, userid, fields, body, {"response_code": code, "card_type": card_type}, task_id)


def image_request() -> tuple[dict[str, Any], bytes]:
    """Return the image act's fields and bytes: multipart (file "image", checked like media/upload) or JSON data_b64."""
    upload = request.files.get("image")
    if upload is not None:
        data = upload.read()
        try:
            check_upload("image", data)
        except ApiError as exc:
            raise ControlError(exc.errmsg) from exc
        return request.form.to_dict(), data
    body = payload()
    if not body.get("data_b64"):
        return body, TINY_PNG
    try:
        return body, base64.b64decode(field(body, "data_b64"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError("data_b64 is not valid base64") from exc


def selected_items(body: dict[str, Any]) -> RawXml:
    """Render {"selected": {question_key: [option_id, ...]}} as WeCom's SelectedItems XML."""
    selected = body.get("selected") or {}
    if not isinstance(selected, dict):
        raise ControlError("selected must map question_key to a list of option ids")
    parts = []
    for question, options in selected.items():
        ids = "".join(f"<OptionId>{callbacks.cdata(str(o))}</OptionId>" for o in options)
        parts.append(
            f"<SelectedItem><QuestionKey>{callbacks.cdata(str(question))}</QuestionKey>"
            f"<OptionIds>{ids}</OptionIds></SelectedItem>"
        )
    return RawXml("".join(parts))
