"""GET/POST /wecom/callback: verify, decrypt, parse, store once in the durable inbox, answer at once."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, request
from wechatpy.enterprise.replies import TextReply

from bot.crypto import BadPayload, BadSignature, CallbackCrypto
from bot.envelope import Guard, open_callback, params, refuse
from bot.incoming import BadXml, Incoming, is_contact_event
from core import clock, metrics
from core.outage import Outage, dependency
from core.runtime import Runtime

log = logging.getLogger(__name__)
STORING = Outage("网页（回调入库）", log)  # one line per outage and process, whatever the number of 500s
bp = Blueprint("wecom", __name__)

OUTSIDER = "您好，您还不在瞭望系统的组织名单中，暂时无法使用。如需开通，请联系领导小组办公室。"


def _rt() -> Runtime:
    rt: Runtime = current_app.extensions["liaowang"]
    return rt


def _crypto() -> CallbackCrypto:
    crypto: CallbackCrypto = current_app.extensions["liaowang_crypto"]
    return crypto


@bp.get("/wecom/callback")
def verify_url() -> Response:
    """URL verification: answer the decrypted echostr as the bare body (a bare GET from a browser: what this is)."""
    if not request.args:
        return refuse(
            200,
            "这是瞭望接收企业微信消息的回调地址：企业微信把加密的消息发到这里，"
            "在浏览器里打开它没有作用。请在企业微信里使用“瞭望”，或打开演示的手机界面。",
        )
    try:
        sig, ts, nonce = params(request)
        echo = request.args.get("echostr", "")
        if not echo:
            return refuse(400, "缺少 echostr 参数：这是企业微信验证回调地址用的。")
        plain = _crypto().verify_url(sig, ts, nonce, echo)
    except BadXml:
        return refuse(400, "缺少 msg_signature、timestamp 或 nonce 参数。")
    except (BadSignature, BadPayload):
        return refuse(403, "签名不对，已拒收。")
    return Response(plain, status=200, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive() -> Response:
    """Receive one encrypted message or event; the same callback twice has one effect."""
    ext = current_app.extensions  # looked up once: each proxy access costs (bench/callback.py --profile)
    cfg = ext["liaowang"].config
    req = request._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    writer = ext["liaowang_inbox"]
    writer.expect()  # a batch committing meanwhile waits for this one (bot/inboxwriter.py)
    try:
        guard = Guard(cfg.max_body, cfg.callback_window, cfg.wecom.agent_id)
        opened = open_callback(req, ext["liaowang_crypto"], guard)
        if isinstance(opened, Response):
            metrics.callback("refused")
            return opened
        msg, nonce = opened
        return _process(msg, nonce, ext)
    finally:
        writer.unexpect()


def _store(msg: Incoming, ext: dict[str, Any]) -> bool:
    """Insert the callback into the durable inbox; return False if it was already there (a WeCom retry)."""
    writer = ext["liaowang_inbox"]
    return bool(writer.store(msg.dedupe_key, msg.userid, dict(msg.__dict__), clock.now()))


def _process(msg: Incoming, nonce: str, ext: dict[str, Any]) -> Response:
    """Refuse outsiders with a passive reply (nothing stored); store the rest for the worker, answer at once."""
    try:
        if msg.userid not in ext["liaowang_members"] and not is_contact_event(msg):
            metrics.callback("outsider")
            return _passive(msg, OUTSIDER, nonce)
        new = _store(msg, ext)
    except Exception as exc:  # noqa: BLE001 - nothing was stored: 500 makes WeCom send it again
        metrics.callback("error")
        if dependency(exc) is None:
            log.exception("回调未能保存（答 500，企业微信会重试）")
        else:
            STORING.failed(exc)
        return refuse(500, "暂时无法保存这条消息，企业微信会重试。")
    STORING.ok()
    metrics.callback("stored" if new else "duplicate")
    if not new:
        log.info("callback %s was already stored (a WeCom retry)", msg.dedupe_key, extra={"key": msg.dedupe_key})
    else:  # ids only, never what the person wrote; at info level the metric alone counts it (a line costs ~60 µs)
        log.debug("callback stored", extra={"key": msg.dedupe_key, "userid": msg.userid})
    return Response("", status=200)


def _passive(msg: Incoming, text: str, nonce: str) -> Response:
    """Answer with an encrypted passive reply (used where nothing may be recorded)."""
    reply = TextReply(source=_rt().config.wecom.corp_id, target=msg.userid, content=text)
    xml = _crypto().encrypt_reply(reply.render(), secrets.token_hex(8), str(int(clock.now().timestamp())))
    return Response(xml, status=200, mimetype="text/xml")
