"""The WeCom phone in the browser: /phone (pick people, show their phones) and /phone/feed; phones act via /sandbox."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, get_template_attribute, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState
from jinja2 import ChainableUndefined

from sandbox import outbox
from sandbox.errors import ControlError
from sandbox.phone_view import PhoneView, articles, media_url
from sandbox.state import Record, World

MAX_PHONES = 12
MAX_WAIT = 10.0


def chosen_userids() -> list[str]:
    """Return the ?u= userids (repeatable or comma-separated), without blanks or repeats, at most MAX_PHONES."""
    found = [u.strip() for arg in request.args.getlist("u") for u in arg.split(",")]
    return list(dict.fromkeys(u for u in found if u))[:MAX_PHONES]


def menu_sig(world: World) -> str:
    """Return a short fingerprint of the app menu ("none" without one), so that phones notice a new menu."""
    with world.lock:
        if world.menu is None:
            return "none"
        return hashlib.sha1(json.dumps(world.menu, sort_keys=True).encode()).hexdigest()[:12]


def view_for(world: World, userid: str) -> PhoneView:
    """Return the rendering helpers of userid's phone, served from this request's host."""
    with world.lock:
        names = {u: str(p.get("name") or u) for u, p in world.people.items()}
    return PhoneView(userid, request.host_url, world.settings.app_name, names)


def conversations(world: World, userid: str) -> list[dict[str, str]]:
    """Return the phone's conversations: the app, then each group chat userid is in or got a message from."""
    with world.lock:
        chats = {c["chatid"]: c["name"] for c in world.appchats.values() if userid in c["userlist"]}
        for r in world.inbox:
            if r["userid"] == userid and r.get("chatid"):
                chats.setdefault(r["chatid"], "")
    return [
        {"chat": "", "name": world.settings.app_name},
        *({"chat": chatid, "name": name or "群聊"} for chatid, name in chats.items()),
    ]


def phone_context(world: World, userid: str, records: list[Record]) -> dict[str, Any]:
    """Return what the page needs to draw userid's phone from their records (oldest first)."""
    with world.lock:
        person = dict(world.people.get(userid) or {})
        menu = json.loads(json.dumps(world.menu)) if world.menu else None
    mine = sorted((r for r in records if r["userid"] == userid), key=lambda r: r["created_seq"])
    return {
        "userid": userid,
        "person": person,
        "name": person.get("name") or userid,
        "member": bool(person),
        "view": view_for(world, userid),
        "records": mine,
        "convs": conversations(world, userid),
        "menu": menu,
    }


def feed_entry(world: World, userid: str, records: list[Record], menu_known: str | None) -> dict[str, Any]:
    """Return one phone's part of the feed: its new or changed messages as HTML, conversations, maybe the menu."""
    view, now = view_for(world, userid), world.now()
    message = get_template_attribute("phone_message.html", "message")
    mine = [r for r in records if r["userid"] == userid]
    entry: dict[str, Any] = {
        "messages": [
            {
                "key": r["created_seq"],
                "seq": r["seq"],
                "msgid": r["msgid"],
                "msgtype": r["msgtype"],
                "chat": r.get("chatid") or "",
                "html": str(message(r, view, now)),
            }
            for r in mine
        ],
        "convs": conversations(world, userid),
    }
    if menu_known != menu_sig(world):
        with world.lock:
            menu = json.loads(json.dumps(world.menu)) if world.menu else None
        entry["menu_html"] = str(get_template_attribute("phone_menu.html", "menu_bar")(menu, view))
        entry["has_menu"] = menu is not None
    return entry


def make_phone_blueprint(world: World) -> Blueprint:
    """Build the /phone blueprint (pages, feed and its static files) bound to world."""
    bp = Blueprint("phone", __name__, url_prefix="/phone", static_folder="static", static_url_path="/static")
    bp.add_app_template_global(media_url, "media_url")
    bp.add_app_template_global(articles, "articles")

    def media_name(media_id: object) -> str:
        """The uploaded file's name as the phone shows it (WeCom shows the name and size), or 文件 once expired."""
        with world.lock:
            item = world.media.get(str(media_id or ""))
        return f"{item.filename}（{max(1, len(item.data) // 1024)} KB）" if item else "文件（已过期）"

    bp.add_app_template_global(media_name, "media_name")

    @bp.record_once
    def lenient_templates(state: BlueprintSetupState) -> None:
        state.app.jinja_env.undefined = ChainableUndefined  # message JSON has optional nested parts

    @bp.get("", strict_slashes=False)
    def phones() -> str:
        userids = chosen_userids()
        if not userids:
            with world.lock:
                people = [dict(p) for p in world.people.values()]
            return render_template(
                "phone_chooser.html", people=people, app_name=world.settings.app_name, notice=world.settings.notice
            )
        with world.lock:
            cursor = world.seq
            records = outbox.phone_records(world, userids, 0)
        return render_template(
            "phone_page.html",
            phones=[phone_context(world, u, records) for u in userids],
            cursor=cursor,
            menu_sig=menu_sig(world),
            now=world.now(),
            app_name=world.settings.app_name,
            notice=world.settings.notice,
        )

    @bp.get("/feed")
    def feed() -> Response:
        userids = chosen_userids()
        if not userids:
            raise ControlError("u (a userid, repeatable) is required")
        try:
            since = int(request.args.get("since", 0))
            timeout = min(max(float(request.args.get("timeout", 0)), 0.0), MAX_WAIT)
        except ValueError as exc:
            raise ControlError("since must be an integer and timeout a number") from exc
        records, cursor, reset = outbox.wait_phone_records(world, userids, since, timeout)
        known = request.args.get("menu")
        return jsonify(
            {
                "cursor": cursor,
                "reset": reset,
                "menu_sig": menu_sig(world),
                "phones": {u: feed_entry(world, u, records, known) for u in userids},
            }
        )

    return bp
