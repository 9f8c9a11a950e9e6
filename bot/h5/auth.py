"""Who opened an H5 page: WeCom OAuth2 (snsapi_base) into Flask's signed session cookie, and the CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, Request, current_app, redirect, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.config import Config
from core.runtime import Runtime
from core.wecom import WecomError
from models import Person
from workflow.people import org
from workflow.views import pages

log = logging.getLogger(__name__)

LIFETIME = timedelta(hours=8)
COOKIE = "liaowang_h5"
AUTH_FAILED = "身份验证失败，请从企业微信里重新打开。"
EXPIRED = "登录已过期，请从企业微信里重新打开本页面（已填写的内容需要重新提交）。"


def rt() -> Runtime:
    """Return the Runtime the app was built for."""
    found: Runtime = current_app.extensions["liaowang"]
    return found


def session_secret(config: Config) -> str:
    """Return [web] secret_key, else a stable key derived by HMAC-SHA256 from [wecom] secret and token."""
    if config.secret_key:
        return config.secret_key
    msg = b"liaowang h5 session key\x00" + config.wecom.token.encode()
    return hmac.new(config.wecom.secret.encode(), msg, hashlib.sha256).hexdigest()


class H5Sessions(SecureCookieSessionInterface):
    """Sessions only under /h5 (the cookie's path): the callback and health checks never build a signer or a session
    (measured in bench/callback.py: a signer per request was 3–5 % of a callback's CPU)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Open the signed cookie session for an H5 page; a null session elsewhere."""
        if not request.path.startswith("/h5"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def configure(app: Flask, config: Config) -> None:
    """Set the app's session signing key and cookie flags (HttpOnly, SameSite=Lax, Secure on https, path /h5)."""
    app.secret_key = session_secret(config)
    app.session_interface = H5Sessions()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
        SESSION_COOKIE_PATH="/h5",
        PERMANENT_SESSION_LIFETIME=LIFETIME,
    )


def to_oauth() -> Response:
    """Return the 302 to WeCom's authorize URL that comes back to this page's path."""
    return redirect(pages.oauth_url(rt().config, request.path), code=302)


def login_from_code() -> tuple[bool, str | None]:
    """Handle a return from WeCom (?code=…): (False, None) if none; else (True, userid or None if refused).

    Any previous login is dropped first; a refused code stores nothing.
    """
    if "code" not in request.args and "state" not in request.args:
        return False, None
    session.clear()
    code = request.args.get("code", "")
    if not code or len(code) > 512:
        return True, None
    try:
        userid = rt().api.userid_from_code(code)
    except WecomError as exc:
        log.info("H5 login refused: WeCom errcode %s", exc.errcode)
        return True, None
    with rt().sessions() as s:
        if org.person(s, userid) is None:
            log.info("H5 login refused: %s is not an active member", userid)
            return True, None
    session["uid"] = userid
    session["csrf"] = secrets.token_urlsafe(32)
    return True, userid


def current_person(s: Session) -> Person | None:
    """Return the active person logged in to this browser session, or None (a deactivated person is logged out)."""
    uid = session.get("uid")
    if not isinstance(uid, str) or not uid:
        return None
    person = org.person(s, uid)
    if person is None:
        session.clear()
    return person


def csrf_token() -> str:
    """Return this session's CSRF token (made at login)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(sent: str | None) -> bool:
    """Return True if sent equals this session's CSRF token (constant-time compare)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(token.encode(), sent.encode())


def logged_in(view: Callable[[Session, Person], Response]) -> Response:
    """Run view(session, person) for the logged-in person; handle ?code=, or send the browser to OAuth."""
    from bot.h5.web import message  # the page helpers sit above the login (web imports nothing of auth)

    returned, userid = login_from_code()
    if returned:
        return redirect(request.path, code=302) if userid else message(AUTH_FAILED, 403)
    with rt().sessions() as s:
        person = current_person(s)
        return to_oauth() if person is None else view(s, person)
