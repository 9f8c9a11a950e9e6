"""Open one WeCom callback request: size cap, safe XML, signature, AES, parse — or the HTTP refusal to answer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request, Response

from bot.crypto import BadPayload, BadSignature, CallbackCrypto, WrongCorp
from bot.incoming import BadXml, Incoming, parse_incoming, safe_fields
from core import clock


def refuse(status: int, text: str) -> Response:
    """Return status with one Chinese line: WeCom reads only the status, a person who looks reads the line."""
    return Response(f"{text}\n", status=status, mimetype="text/plain")


def params(request: Request) -> tuple[str, str, str]:
    """Return (msg_signature, timestamp, nonce) from the query string, or raise BadXml if one is missing."""
    sig, ts, nonce = (request.args.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
    if not (sig and ts and nonce):
        raise BadXml("missing msg_signature/timestamp/nonce")
    return sig, ts, nonce


@dataclass(frozen=True)
class Guard:
    """What a genuine callback must satisfy besides its signature: size, age and our AgentID."""

    max_body: int
    window: float  # seconds the signed timestamp may differ from now (WeCom retries within seconds)
    agent_id: int


AGENTLESS_EVENTS = frozenset({"change_contact", "batch_job_result"})  # contact-book events carry no AgentID


def open_callback(request: Request, crypto: CallbackCrypto, guard: Guard) -> tuple[Incoming, str] | Response:
    """Return (message, nonce) for a genuine callback, else the refusal: 413 too large, 403 forged/stale/foreign, 400.

    Nothing is stored for a refused callback; the caller stores the message only after this returns it.
    """
    if request.content_length is not None and request.content_length > guard.max_body:
        return refuse(413, "消息太大，已拒收。")
    body = request.stream.read(guard.max_body + 1)
    if len(body) > guard.max_body:
        return refuse(413, "消息太大，已拒收。")
    try:
        sig, ts, nonce = params(request)
        outer = safe_fields(body)
        if not outer.get("Encrypt"):
            raise BadXml("no Encrypt")
        msg = parse_incoming(crypto.decrypt(sig, ts, nonce, outer["Encrypt"]))
    except (BadSignature, WrongCorp):
        return refuse(403, "签名或企业不对，已拒收。")
    except (BadPayload, BadXml):
        return refuse(400, "消息格式不对，已拒收。")
    if msg.to_corp and msg.to_corp != crypto.corp_id:
        return refuse(403, "签名或企业不对，已拒收。")
    if not _fresh(ts, guard.window):
        return refuse(403, "时间戳超出允许范围（过旧或来自未来），已拒收。")
    if msg.agent_id != guard.agent_id and not (msg.agent_id == 0 and msg.event in AGENTLESS_EVENTS):
        return refuse(403, "不是发给本应用的消息（AgentID 不符），已拒收。")
    return msg, nonce


def _fresh(timestamp: str, window: float) -> bool:
    """Return True if the signed timestamp (unix seconds) is within window seconds of the one clock."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs(clock.now().timestamp() - sent) <= window
