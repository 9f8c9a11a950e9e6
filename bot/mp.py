"""GET/POST /mp/callback: the bureau's 公众号 in safe (encrypted) mode (docs/intake.md, 公众号).

GET is WeChat's server-URL check: `signature` over (token, timestamp, nonce) → the plain echostr. POST carries one
encrypted message (`msg_signature` over token, timestamp, nonce and Encrypt; `encrypt_type=aes`); it is checked,
decrypted with wechatpy's WeChatCrypto, parsed with wechatpy.parse_message and recorded in ONE transaction with
the item it becomes or joins (workflow.incident.citizen), keyed by MsgId so WeChat's retries have one effect; the
answer is an encrypted passive reply naming the 编号, well within WeChat's 5 s. Nothing is stored for a refusal
(403 bad signature or stale timestamp, 400 not a message, 413 too large); a 500 (the database is down) makes WeChat
try again.
"""

from __future__ import annotations

import logging
import secrets

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import IntegrityError
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException, WeChatException
from wechatpy.messages import BaseMessage, ImageMessage, LinkMessage, TextMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.envelope import refuse
from bot.incoming import BadXml, safe_fields
from core import clock
from core.config import MpConfig
from core.outage import dependency
from core.runtime import Runtime
from core.text import clean_text
from workflow.engine.errors import Refusal
from workflow.incident import citizen
from workflow.incident import links as linkmod

log = logging.getLogger(__name__)
bp = Blueprint("mp", __name__)


def init_app(app: Flask, rt: Runtime) -> None:
    """Register /mp/callback when [mp] is configured (the channel is off otherwise)."""
    cfg = rt.config.mp
    if cfg is None:
        return
    app.extensions["liaowang_mp"] = (cfg, WeChatCrypto(cfg.token, cfg.encoding_aes_key, cfg.app_id))
    app.register_blueprint(bp)


def _mp() -> tuple[MpConfig, WeChatCrypto]:
    found: tuple[MpConfig, WeChatCrypto] = current_app.extensions["liaowang_mp"]
    return found


def _fresh(timestamp: str) -> bool:
    """True if the signed timestamp is unix seconds within [web] callback_window of now."""
    rt: Runtime = current_app.extensions["liaowang"]
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - clock.now().timestamp()) <= rt.config.callback_window


@bp.get("/mp/callback")
def verify_url() -> Response:
    """WeChat's server-URL check: answer the echostr when `signature` is right (a bare GET: what this is)."""
    if not request.args:
        return refuse(
            200, "这是瞭望接收局微信公众号消息的地址：微信把市民的留言加密后发到这里，在浏览器里打开它没有作用。"
        )
    cfg, _crypto = _mp()
    sig, ts, nonce, echo = (request.args.get(k, "") for k in ("signature", "timestamp", "nonce", "echostr"))
    if not (sig and ts and nonce and echo):
        return refuse(400, "缺少 signature、timestamp、nonce 或 echostr 参数。")
    try:
        check_signature(cfg.token, sig, ts, nonce)
    except InvalidSignatureException:
        return refuse(403, "签名不对，已拒收。")
    return Response(echo, status=200, mimetype="text/plain")


def _said(msg: BaseMessage) -> citizen.Said:
    """The citizen's message as the workflow takes it: a key WeChat repeats on a retry, the text, its links."""
    kind = str(msg.type)
    event = str(getattr(msg, "event", "") or "")
    key = str(msg.id) if getattr(msg, "id", None) else f"{msg.source}:{int(msg.time)}:{event}"[:96]
    if kind == "event":
        return citizen.Said(key=key, openid=str(msg.source), kind=f"event:{event}")
    if isinstance(msg, TextMessage):
        text = clean_text(str(msg.content or ""), None).strip()
        return citizen.Said(key=key, openid=str(msg.source), kind=kind, text=text, links=linkmod.find_links(text))
    if isinstance(msg, ImageMessage):
        url = str(msg.image or "")
        return citizen.Said(key=key, openid=str(msg.source), kind=kind, text=f"市民发来一张图片：{url}", links=[])
    if isinstance(msg, LinkMessage):
        title, about, url = (clean_text(str(v or ""), None).strip() for v in (msg.title, msg.description, msg.url))
        links = linkmod.find_links(url)[:1]
        text = "\n".join(x for x in (title, about, url) if x)
        return citizen.Said(
            key=key, openid=str(msg.source), kind=kind, text=text, links=links,
            link_titles={links[0]: title} if links and title else {},
        )  # fmt: skip
    return citizen.Said(key=key, openid=str(msg.source), kind=kind)


def _open(body: bytes) -> BaseMessage | Response:
    """The checked and decrypted message of a POST, or the refusal to answer."""
    _cfg, crypto = _mp()
    args = request.args
    sig, ts, nonce = (args.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
    if args.get("encrypt_type") != "aes" or not (sig and ts and nonce):
        return refuse(400, "只接受安全模式（encrypt_type=aes）的消息：请在公众号后台把消息加解密方式设为“安全模式”。")
    try:
        outer = safe_fields(body)
        if not outer.get("Encrypt"):
            raise BadXml("no Encrypt")
        inner = crypto.decrypt_message({"Encrypt": outer["Encrypt"]}, sig, ts, nonce)
        msg = parse_message(inner)
    except (InvalidSignatureException, InvalidAppIdException):  # signed with another token, or for another account
        return refuse(403, "签名不对，已拒收。")
    except (BadXml, WeChatException, ValueError, KeyError):
        return refuse(400, "消息格式不对，已拒收。")
    if not _fresh(ts):
        return refuse(403, "时间戳与服务器时间相差太多，已拒收。")
    return msg


@bp.post("/mp/callback")
def receive() -> Response:
    """One citizen's message: record it once with its item and answer with the encrypted passive reply."""
    rt: Runtime = current_app.extensions["liaowang"]
    body = request.stream.read(rt.config.max_body + 1)
    if len(body) > rt.config.max_body:
        return refuse(413, "消息太大，已拒收。")
    msg = _open(body)
    if isinstance(msg, Response):
        return msg
    said = _said(msg)
    try:
        reply = _record(rt, said)
    except Refusal as exc:  # nothing was recorded: the citizen is told why (a message too long)
        reply = exc.message
    except Exception as exc:  # noqa: BLE001 - nothing was stored: 500 makes WeChat send it again
        if dependency(exc) is None:
            log.exception("公众号消息未能保存（答 500，微信会重试）")
        else:
            log.warning("公众号消息未能保存（答 500，微信会重试）：%s", type(exc).__name__)
        return refuse(500, "暂时无法保存这条消息，微信会重试。")
    log.info("mp message recorded", extra={"key": said.key})  # ids only: what a citizen wrote never goes in a log
    if not reply:
        return Response("success", status=200, mimetype="text/plain")
    return _passive(msg, reply)


def _record(rt: Runtime, said: citizen.Said) -> str:
    """Record said in one transaction; a retry racing the first delivery gets the first one's answer."""
    try:
        with rt.sessions() as s, s.begin():
            return citizen.receive(s, rt.config, said, clock.now())
    except IntegrityError:
        with rt.sessions() as s, s.begin():
            return citizen.receive(s, rt.config, said, clock.now())


def _passive(msg: BaseMessage, text: str) -> Response:
    """The encrypted passive reply (safe mode) carrying text to the citizen."""
    _cfg, crypto = _mp()
    now = str(int(clock.now().timestamp()))
    reply = TextReply(message=msg, content=text, time=int(now))
    xml = crypto.encrypt_message(reply.render(), secrets.token_hex(8), now)
    return Response(xml, status=200, mimetype="text/xml")
