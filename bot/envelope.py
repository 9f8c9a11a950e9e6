"""Open one WeCom callback request: size cap, safe XML, signature, AES, parse — or the HTTP refusal to answer."""

from __future__ import annotations

from flask import Request, Response

from bot.crypto import BadPayload, BadSignature, CallbackCrypto, WrongCorp
from bot.incoming import BadXml, Incoming, parse_incoming, safe_fields


def refuse(status: int, text: str) -> Response:
    """Return status with one Chinese line: WeCom reads only the status, a person who looks reads the line."""
    return Response(f"{text}\n", status=status, mimetype="text/plain")


def params(request: Request) -> tuple[str, str, str]:
    """Return (msg_signature, timestamp, nonce) from the query string, or raise BadXml if one is missing."""
    sig, ts, nonce = (request.args.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
    if not (sig and ts and nonce):
        raise BadXml("missing msg_signature/timestamp/nonce")
    return sig, ts, nonce


def open_callback(request: Request, crypto: CallbackCrypto, max_body: int) -> tuple[Incoming, str] | Response:
    """Return (message, nonce) for a genuine callback, else the refusal: 413 too large, 403 forged/other corp, 400."""
    if request.content_length is not None and request.content_length > max_body:
        return refuse(413, "消息太大，已拒收。")
    body = request.stream.read(max_body + 1)
    if len(body) > max_body:
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
    return msg, nonce
