"""OAuth2 in-app login: the emulated WeCom browser's authorize redirect and getuserinfo."""

from __future__ import annotations

import hashlib
import html
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.state import OAUTH_CODE_TTL, OAuthCode, World

SCOPES = ("snsapi_base", "snsapi_privateinfo")
USER_COOKIE = "sandbox_user"


def error_page(message: str, status: int = 400) -> Response:
    """Return a small HTML error page like WeCom's in-app browser shows."""
    body = f'<!doctype html><meta charset="utf-8"><title>企业微信 · 网页授权出错</title><p>{html.escape(message)}</p>\n'
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def with_query(url: str, **params: str) -> str:
    """Append query parameters to url, keeping the ones it has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def openid_for(corp_id: str, userid: str) -> str:
    """Return a stable openid for a person outside the directory."""
    return "o" + hashlib.sha256(f"{corp_id}:{userid}".encode()).hexdigest()[:27]


def make_oauth_blueprint(world: World) -> Blueprint:
    """Build the /connect/oauth2/authorize blueprint (the WeCom client's side of OAuth2)."""
    bp = Blueprint("wecom_oauth", __name__)

    @bp.get("/connect/oauth2/authorize")
    def authorize() -> Response:
        args = request.args
        if args.get("appid") != world.settings.corp_id:
            return error_page("appid 参数错误 (invalid appid)")
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri.startswith(("http://", "https://")):
            return error_page("redirect_uri 参数错误 (invalid redirect_uri)")
        if args.get("response_type") != "code":
            return error_page("response_type 参数错误，应为 code (invalid response_type)")
        scope = args.get("scope") or ""
        if scope not in SCOPES:
            return error_page("scope 参数错误 (invalid scope)")
        agentid = args.get("agentid")
        if (agentid or scope == "snsapi_privateinfo") and agentid != str(world.settings.agent_id):
            return error_page("agentid 参数错误 (invalid agentid)")
        userid = args.get("as_user") or request.cookies.get(USER_COOKIE)
        if not userid:  # a desktop browser, not a phone: let the person choose who they are
            with world.lock:
                people = [dict(p) for p in world.people.values()]
            return Response(
                render_template(
                    "oauth_login.html", people=people, next=request.full_path, notice=world.settings.notice
                ),
                status=200,
                mimetype="text/html",
            )
        code = secrets.token_urlsafe(32)
        with world.lock:
            world.oauth_codes[code] = OAuthCode(code, userid, scope, world.now())
        params = {"code": code}
        if "state" in args:
            params["state"] = args["state"]
        return redirect(with_query(redirect_uri, **params), code=302)

    return bp


def take_code(world: World, code: str | None) -> OAuthCode:
    """Consume a single-use, unexpired OAuth code or refuse with 40029."""
    with world.lock:
        found = world.oauth_codes.pop(code or "", None)
        if found is None or world.now() - found.issued_at >= OAUTH_CODE_TTL:
            raise ApiError(errors.INVALID_CODE, "invalid code")
        return found


def register_userinfo_routes(bp: Blueprint, world: World) -> None:
    """Add auth/getuserinfo and the older user/getuserinfo to the /cgi-bin blueprint."""

    def userinfo() -> Response:
        found = take_code(world, request.args.get("code"))
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if world.is_member(found.userid):
            answer.update(userid=found.userid, UserId=found.userid, DeviceId="")
            if found.scope == "snsapi_privateinfo":
                answer.update(user_ticket=secrets.token_urlsafe(32), expires_in=1800)
        else:
            openid = openid_for(world.settings.corp_id, found.userid)
            answer.update(openid=openid, OpenId=openid, DeviceId="")
        return jsonify(answer)

    bp.add_url_rule("/auth/getuserinfo", "auth_getuserinfo", userinfo, methods=["GET"])
    bp.add_url_rule("/user/getuserinfo", "user_getuserinfo", userinfo, methods=["GET"])
