"""The benchmark baseline: a Flask app that only verifies, decrypts and parses WeCom callbacks."""

from __future__ import annotations

from flask import Flask, Response, request

from bot.crypto import CallbackCrypto
from bot.envelope import open_callback


def create_baseline_app(token: str, aes_key: str, corp_id: str, max_body: int = 64 * 1024) -> Flask:
    """Build an app whose POST /wecom/callback does Liaowang's front half (cap, verify, decrypt, parse) only."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body * 8
    crypto = CallbackCrypto(token, aes_key, corp_id)

    @app.post("/wecom/callback")
    def receive() -> Response:
        opened = open_callback(request, crypto, max_body)
        return opened if isinstance(opened, Response) else Response("", status=200)

    return app
