"""The /sandbox control blueprint: directory, inboxes, clock, tokens, faults, stats and URL check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, make_response, redirect, request

from sandbox import callbacks
from sandbox.acts import field, payload, register_act_routes
from sandbox.contacts import register_contact_control
from sandbox.errors import ApiError, ControlError
from sandbox.media import media_response
from sandbox.oauth import USER_COOKIE
from sandbox.state import Fault, World

MAX_WAIT = 10.0


def int_arg(name: str, default: int = 0) -> int:
    """Return an integer query argument or refuse with 400."""
    try:
        return int(request.args.get(name, default))
    except ValueError as exc:
        raise ControlError(f"{name} must be an integer") from exc


def parse_fault(body: dict[str, Any]) -> Fault:
    """Build a Fault from {"path", "errcode"|"http_status"|"delay"|"page", "times"?, "errmsg"?, "when"?, "rate"?}."""
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise ControlError('path is required (e.g. "message/send" or "*")')
    path = path.removeprefix("/").removeprefix("cgi-bin/").strip("/") or "*"
    times = body.get("times", 1)
    if not isinstance(times, int) or times < 1:
        raise ControlError("times must be a positive integer")
    fault = Fault(path=path, times=times, errmsg=body.get("errmsg"))
    try:
        if body.get("errcode") is not None:
            fault.errcode = int(body["errcode"])
        if body.get("http_status") is not None:
            fault.http_status = int(body["http_status"])
        if body.get("delay") is not None:
            fault.delay = float(body["delay"])
        if body.get("rate") is not None:
            fault.rate = float(body["rate"])
    except (TypeError, ValueError) as exc:
        raise ControlError("errcode/http_status must be integers, delay and rate numbers") from exc
    if body.get("page") is not None:
        if not isinstance(body["page"], str):
            raise ControlError("page must be the text of the HTML page to answer with")
        fault.page = body["page"]
    fault.when = str(body.get("when", "after"))
    if fault.when not in ("after", "before") or not 0 < fault.rate <= 1:
        raise ControlError('when must be "after" or "before", and rate in (0, 1]')
    if fault.errcode is None and fault.http_status is None and fault.delay <= 0 and fault.page is None:
        raise ControlError("a fault needs errcode, http_status, delay or page")
    return fault


def check_display_fields(person: dict[str, Any]) -> None:
    """Refuse a person whose optional unit (display name) is not a string or roles not a list of strings."""
    unit, roles = person.get("unit"), person.get("roles")
    if unit is not None and not isinstance(unit, str):
        raise ControlError("unit must be a string (the unit's display name)")
    if roles is not None and (not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)):
        raise ControlError("roles must be a list of role names")


def make_control_blueprint(world: World) -> Blueprint:
    """Build the /sandbox control blueprint bound to world."""
    bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")

    @bp.get("/people")
    def people_get() -> Response:
        with world.lock:
            return jsonify({"people": list(world.people.values())})

    @bp.post("/people")
    def people_set() -> Response:
        body = payload()
        people = body.get("people")
        if not isinstance(people, list) or not all(isinstance(p, dict) and p.get("userid") for p in people):
            raise ControlError("people must be a list of {userid, name, unit?, roles?, ...}")
        for person in people:
            check_display_fields(person)
        world.set_people(people, merge=bool(body.get("merge", False)))
        return people_get()

    @bp.get("/config")
    def config_get() -> Response:
        s = world.settings
        return jsonify(
            {
                "callback_url": world.callback_url,
                "corp_id": s.corp_id,
                "agent_id": s.agent_id,
                "callback_timeout": s.callback_timeout,
                "callback_tries": s.callback_tries,
                "app_name": s.app_name,
                "notice": s.notice,
                "visibility_root": s.visibility_root,
                "visible_parties": list(world.visible_parties),
                "contact_full_fields": world.contact_full_fields,
                "redirect_domain": s.redirect_domain,
            }
        )

    @bp.post("/config")
    def config_set() -> Response:
        body = payload()
        if "callback_url" in body:
            world.callback_url = body["callback_url"] or None
        if "app_name" in body:
            world.settings.app_name = field(body, "app_name")
        if "notice" in body:
            world.settings.notice = str(body["notice"] or "")[:200]
        if "visibility_root" in body:
            world.settings.visibility_root = bool(body["visibility_root"])
        if "visible_parties" in body:
            parties = body["visible_parties"]
            if not isinstance(parties, list) or not all(isinstance(p, int) for p in parties):
                raise ControlError("visible_parties must be a list of department ids")
            world.visible_parties = parties
        if "contact_full_fields" in body:
            world.contact_full_fields = bool(body["contact_full_fields"])
        if "redirect_domain" in body:
            world.settings.redirect_domain = str(body["redirect_domain"] or "")
        for key, kind in (("callback_timeout", float), ("callback_tries", int), ("verify_timeout", float)):
            if key in body:
                try:
                    setattr(world.settings, key, kind(body[key]))
                except (TypeError, ValueError) as exc:
                    raise ControlError(f"{key} must be a number") from exc
        return config_get()

    @bp.get("/login")
    def login() -> Response:
        userid = request.args.get("userid") or ""
        if not userid:
            raise ControlError("userid is required")
        following = request.args.get("next") or ""
        if following.startswith("/connect/oauth2/authorize?"):  # the login chooser: go back to the authorize step
            resp = redirect(following, code=302)
        else:
            resp = make_response(jsonify({"logged_in": userid}))
        resp.set_cookie(USER_COOKIE, userid, path="/", httponly=True, samesite="Lax")
        return resp

    @bp.get("/inbox")
    @bp.get("/inbox/<userid>")
    def inbox(userid: str | None = None) -> Response:
        return jsonify(world.records(userid, int_arg("since")))

    @bp.get("/wait")
    def wait() -> Response:
        try:
            timeout = min(max(float(request.args.get("timeout", MAX_WAIT)), 0.0), MAX_WAIT)
        except ValueError as exc:
            raise ControlError("timeout must be a number") from exc
        userid = request.args.get("userid") or None
        return jsonify(world.wait_records(userid, int_arg("since"), timeout))

    @bp.get("/stats")
    def stats() -> Response:
        return jsonify(world.stats())

    @bp.post("/clock")
    def clock() -> Response:
        body = payload()
        try:
            now = world.advance(float(body.get("advance", 0)))
        except (TypeError, ValueError) as exc:
            raise ControlError("advance must be a number of seconds") from exc
        return jsonify({"now": now, "offset": world.clock_offset})

    @bp.post("/tokens/expire")
    def tokens_expire() -> Response:
        body = request.get_json(silent=True) or {}
        count = world.expire_tokens(forget=bool(body.get("forget", False)))
        return jsonify({"expired": count})

    @bp.post("/media/expire")
    def media_expire() -> Response:
        return jsonify({"expired": world.expire_media()})

    @bp.post("/reset")
    def reset() -> Response:
        world.reset()
        return jsonify({"reset": True})

    @bp.get("/faults")
    def faults_get() -> Response:
        with world.lock:
            return jsonify({"faults": [f.as_json() for f in world.faults]})

    @bp.post("/faults")
    def faults_add() -> Response:
        world.add_fault(parse_fault(payload()))
        return faults_get()

    @bp.delete("/faults")
    def faults_clear() -> Response:
        world.clear_faults()
        return faults_get()

    @bp.route("/verify_url", methods=["GET", "POST"])
    def verify_url() -> Response:
        url = request.args.get("url") or world.callback_url
        if not url:
            raise ControlError("no callback_url configured (POST /sandbox/config)", 409)
        return jsonify(callbacks.verify_url(world, url))

    @bp.get("/media/<media_id>")
    def media_public(media_id: str) -> Response:
        try:
            item = world.get_media(media_id)
        except ApiError as exc:
            raise ControlError(exc.errmsg, 404) from exc
        return media_response(item)

    register_act_routes(bp, world)
    register_contact_control(bp, world)
    return bp
