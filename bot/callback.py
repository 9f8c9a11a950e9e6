"""GET/POST /wecom/callback: verify, decrypt, dedupe, route, commit — well inside WeCom's 5 seconds."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from wechatpy.enterprise.replies import TextReply

from bot.conversation import Conversations
from bot.crypto import BadPayload, BadSignature, CallbackCrypto
from bot.incoming import BadXml, Incoming, parse_incoming, safe_fields
from core import clock
from core.runtime import Runtime
from handlers.context import Ctx
from handlers.router import route
from models import ProcessedCallback
from workflow import org, render
from workflow.errors import Refusal
from workflow.outbox import emit

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)

OUTSIDER = "您好，您还不在瞭望系统的组织名单中，暂时无法使用。如需开通，请联系领导小组办公室。"


def _rt() -> Runtime:
    return current_app.extensions["liaowang"]


def _crypto() -> CallbackCrypto:
    return current_app.extensions["liaowang_crypto"]


def _params() -> tuple[str, str, str]:
    sig, ts, nonce = (request.args.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
    if not (sig and ts and nonce):
        raise BadXml("missing msg_signature/timestamp/nonce")
    return sig, ts, nonce


@bp.get("/wecom/callback")
def verify_url() -> Response:
    """URL verification: answer the decrypted echostr as the bare body."""
    try:
        sig, ts, nonce = _params()
        echo = request.args.get("echostr", "")
        if not echo:
            return Response("missing echostr", status=400)
        plain = _crypto().verify_url(sig, ts, nonce, echo)
    except BadXml:
        return Response("missing parameters", status=400)
    except BadSignature:
        return Response("forbidden", status=403)
    except BadPayload:
        return Response("forbidden", status=403)
    return Response(plain, status=200, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive() -> Response:
    """Receive one encrypted message or event; the same callback twice has one effect."""
    limit = _rt().config.max_body
    if request.content_length is not None and request.content_length > limit:
        return Response("too large", status=413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return Response("too large", status=413)
    try:
        sig, ts, nonce = _params()
        outer = safe_fields(body)
        if not outer.get("Encrypt"):
            raise BadXml("no Encrypt")
        plain = _crypto().decrypt(sig, ts, nonce, outer["Encrypt"])
        msg = parse_incoming(plain)
    except BadSignature:
        return Response("forbidden", status=403)
    except BadPayload as exc:
        return Response("forbidden", status=403 if "corp" in str(exc) else 400)
    except BadXml:
        return Response("bad request", status=400)
    if msg.to_corp and msg.to_corp != _rt().config.wecom.corp_id:
        return Response("forbidden", status=403)
    return _process(msg, nonce)


def _process(msg: Incoming, nonce: str) -> Response:
    rt, now = _rt(), clock.now()
    try:
        with rt.sessions() as session, session.begin():
            if session.get(ProcessedCallback, msg.dedupe_key) is not None:
                return Response("", status=200)
            person = org.person(session, msg.userid)
            if person is None:
                return _passive(msg, OUTSIDER, nonce)
            session.add(ProcessedCallback(key=msg.dedupe_key, received_at=now))
            session.flush()
            reply = _run(session, person, msg, now, rt)
            if reply:
                emit(session, [person.userid], render.text(reply), f"reply:{msg.dedupe_key}", now)
    except IntegrityError:
        log.info("duplicate callback %s raced and was dropped", msg.dedupe_key)
    return Response("", status=200)


def _run(session, person, msg: Incoming, now, rt: Runtime) -> str | None:  # type: ignore[no-untyped-def]
    """Run the handler in a savepoint: a Refusal undoes its changes and becomes the reply."""
    ctx = Ctx(session=session, person=person, msg=msg, now=now,
              conv=Conversations(rt.redis, rt.config.conversation_timeout), config=rt.config)
    try:
        with session.begin_nested():
            return route(ctx)
    except Refusal as exc:
        return exc.message


def _passive(msg: Incoming, text: str, nonce: str) -> Response:
    """Answer with an encrypted passive reply (used where nothing may be recorded)."""
    reply = TextReply(source=_rt().config.wecom.corp_id, target=msg.userid, content=text)
    xml = _crypto().encrypt_reply(reply.render(), secrets.token_hex(8), str(int(time.time())))
    return Response(xml, status=200, mimetype="text/xml")
