"""GET/POST /wecom/callback: verify, decrypt, parse, store once in the durable inbox, answer at once."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Blueprint, Response, current_app, request
from wechatpy.enterprise.replies import TextReply

from bot.crypto import BadPayload, BadSignature, CallbackCrypto
from bot.incoming import BadXml, Incoming, parse_incoming, safe_fields
from core import clock
from core.runtime import Runtime

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


def _store(msg: Incoming) -> bool:
    """Insert the callback into the durable inbox; return False if it was already there (a WeCom retry)."""
    writer = current_app.extensions["liaowang_inbox"]
    return bool(writer.store(msg.dedupe_key, msg.userid, dict(msg.__dict__), clock.now()))


def _process(msg: Incoming, nonce: str) -> Response:
    """Refuse outsiders with a passive reply (nothing stored); store the rest for the worker, answer at once."""
    if msg.userid not in current_app.extensions["liaowang_members"]:
        return _passive(msg, OUTSIDER, nonce)
    if not _store(msg):
        log.info("callback %s was already stored (a WeCom retry)", msg.dedupe_key)
    return Response("", status=200)


def _passive(msg: Incoming, text: str, nonce: str) -> Response:
    """Answer with an encrypted passive reply (used where nothing may be recorded)."""
    reply = TextReply(source=_rt().config.wecom.corp_id, target=msg.userid, content=text)
    xml = _crypto().encrypt_reply(reply.render(), secrets.token_hex(8), str(int(time.time())))
    return Response(xml, status=200, mimetype="text/xml")
