"""The benchmark baseline: a Flask app that only verifies, decrypts and parses WeCom callbacks."""

from __future__ import annotations

from flask import Flask, Response, request

from bot.crypto import BadPayload, BadSignature, CallbackCrypto
from bot.incoming import BadXml, parse_incoming, safe_fields


def create_baseline_app(token: str, aes_key: str, corp_id: str, max_body: int = 64 * 1024) -> Flask:
    """Build an app whose POST /wecom/callback does Liaowang's front half (cap, verify, decrypt, parse) only."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body * 8
    crypto = CallbackCrypto(token, aes_key, corp_id)

    @app.post("/wecom/callback")
    def receive() -> Response:
        if request.content_length is not None and request.content_length > max_body:
            return Response("too large", status=413)
        body = request.stream.read(max_body + 1)
        if len(body) > max_body:
            return Response("too large", status=413)
        sig, ts, nonce = (request.args.get(k, "") for k in ("msg_signature", "timestamp", "nonce"))
        try:
            if not (sig and ts and nonce):
                raise BadXml("missing msg_signature/timestamp/nonce")
            outer = safe_fields(body)
            if not outer.get("Encrypt"):
                raise BadXml("no Encrypt")
            msg = parse_incoming(crypto.decrypt(sig, ts, nonce, outer["Encrypt"]))
        except BadSignature:
            return Response("forbidden", status=403)
        except BadPayload as exc:
            return Response("forbidden", status=403 if "corp" in str(exc) else 400)
        except BadXml:
            return Response("bad request", status=400)
        if msg.to_corp and msg.to_corp != corp_id:
            return Response("forbidden", status=403)
        return Response("", status=200)

    return app
