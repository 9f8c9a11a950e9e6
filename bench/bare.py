"""The outsider's baseline: a bare Flask + wechatpy app that verifies, decrypts, parses and answers "success"."""

from __future__ import annotations

from flask import Flask, Response, request
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException


def create_bare_app(token: str, aes_key: str, corp_id: str) -> Flask:
    """Build an app whose POST /wecom/callback is wechatpy's decrypt_message + parse_message and nothing else."""
    app = Flask(__name__)
    crypto = WeChatCrypto(token, aes_key, corp_id)

    @app.post("/wecom/callback")
    def receive() -> Response:
        a = request.args
        try:
            xml = crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"], a["nonce"])
        except (InvalidSignatureException, WeChatException, KeyError):
            return Response("", status=403)
        parse_message(xml)
        return Response("success", status=200)

    return app
