"""The /cgi-bin blueprint: WeCom server API paths with WeCom's JSON answers, token checks and faults."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sandbox import errors, messaging
from sandbox.contacts import register_contact_routes
from sandbox.errors import ApiError, default_errmsg
from sandbox.media import register_media_routes
from sandbox.oauth import register_userinfo_routes
from sandbox.state import World


def read_json() -> dict[str, Any]:
    """Parse the request body as a JSON object whatever its Content-Type, else refuse with 47001."""
    try:
        body = json.loads(request.get_data() or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(errors.DATA_FORMAT_ERROR, "data format error") from exc
    if not isinstance(body, dict):
        raise ApiError(errors.DATA_FORMAT_ERROR, "data format error")
    return body


def api_name() -> str:
    """Return the API path below /cgi-bin/ of the current request (e.g. "message/send")."""
    return request.path.removeprefix("/cgi-bin/").strip("/")


def make_api_blueprint(world: World) -> Blueprint:
    """Build the /cgi-bin blueprint bound to world."""
    bp = Blueprint("wecom_api", __name__, url_prefix="/cgi-bin")

    @bp.before_request
    def guard() -> Response | None:
        api = api_name()
        world.count_call(api)
        fault = world.take_fault(api)
        if fault is not None:
            if fault.delay > 0 and fault.when == "before":  # lost on the way: WeCom never saw it
                time.sleep(fault.delay)
                return Response("injected gateway timeout\n", status=504)
            if fault.delay > 0:  # the call takes effect, the answer is late (applied after the view)
                g.fault_delay = fault.delay
            if fault.page is not None:  # a proxy in between answered instead of WeCom (the call never arrived)
                return Response(fault.page, status=fault.http_status or 200, mimetype="text/html")
            if fault.http_status is not None:
                return Response(f"injected HTTP {fault.http_status}\n", status=fault.http_status)
            if fault.errcode is not None:
                errmsg = fault.errmsg or default_errmsg(fault.errcode)
                return jsonify({"errcode": fault.errcode, "errmsg": errmsg})
        if api != "gettoken":
            world.check_token(request.args.get("access_token"))
        return None

    @bp.after_request
    def late_answer(resp: Response) -> Response:
        delay = g.pop("fault_delay", 0.0)
        if delay:
            time.sleep(delay)
        return resp

    @bp.get("/gettoken")
    def gettoken() -> Response:
        if request.args.get("corpid") != world.settings.corp_id:
            raise ApiError(errors.INVALID_CORPID, "invalid corpid")
        if request.args.get("corpsecret") != world.settings.secret:
            raise ApiError(errors.INVALID_SECRET, "invalid credential: corpsecret")
        token, expires_in = world.get_token()
        return jsonify({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in})

    @bp.post("/message/send")
    def message_send() -> Response:
        return jsonify(messaging.send_message(world, read_json()))

    @bp.post("/message/update_template_card")
    def update_template_card() -> Response:
        return jsonify(messaging.update_template_card(world, read_json()))

    @bp.post("/appchat/create")
    def appchat_create() -> Response:
        return jsonify(messaging.create_appchat(world, read_json()))

    @bp.post("/appchat/send")
    def appchat_send() -> Response:
        return jsonify(messaging.send_appchat(world, read_json()))

    @bp.get("/appchat/get")
    def appchat_get() -> Response:
        return jsonify(messaging.get_appchat(world, request.args.get("chatid")))

    @bp.get("/agent/get")
    def agent_get() -> Response:
        if request.args.get("agentid") != str(world.settings.agent_id):
            raise ApiError(errors.INVALID_AGENTID, "invalid agentid")
        with world.lock:
            root = world.settings.visibility_root
            users = [] if root else [{"userid": u} for u in sorted(world.people)]
            return jsonify(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "agentid": world.settings.agent_id,
                    "name": world.settings.app_name,
                    "allow_userinfos": {"user": users},
                    "allow_partys": {"partyid": [1] if root else list(world.visible_parties)},
                    "allow_tags": {"tagid": []},
                    "close": 0,
                    "redirect_domain": world.settings.redirect_domain,
                    "report_location_flag": 0,
                    "isreportenter": 1,
                    "home_url": "",
                }
            )

    register_media_routes(bp, world)
    register_contact_routes(bp, world)
    register_userinfo_routes(bp, world)

    @bp.route("/<path:rest>", methods=["GET", "POST"])
    def unknown(rest: str) -> Response:
        return jsonify({"errcode": errors.API_FORBIDDEN, "errmsg": f"api forbidden: {rest} is not emulated"})

    return bp
