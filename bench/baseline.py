"""The benchmark baseline: a Flask app that only verifies, decrypts and parses WeCom callbacks."""

from __future__ import annotations

from flask import Flask, Response, request

from bot.crypto import CallbackCrypto
from bot.envelope import Guard, open_callback


def create_baseline_app(
    token: str, aes_key: str, corp_id: str, agent_id: int, max_body: int = 64 * 1024, window: float = 600.0
) -> Flask:
    """Build an app whose POST /wecom/callback does Liaowang's front half (cap, verify, decrypt, parse, checks) only."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body * 8
    crypto, guard = CallbackCrypto(token, aes_key, corp_id), Guard(max_body, window, agent_id)

    @app.post("/wecom/callback")
    def receive() -> Response:
        opened = open_callback(request, crypto, guard)
        return opened if isinstance(opened, Response) else Response("", status=200)

    return app
