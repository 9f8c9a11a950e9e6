"""The Flask app factory."""

from __future__ import annotations

from flask import Flask

from bot.crypto import CallbackCrypto
from bot.inboxwriter import InboxWriter
from bot.members import Members
from core.runtime import Runtime, set_runtime
from jobs.queueing import enqueue_deliveries, run_deferred
from workflow import outbox


def create_app(rt: Runtime) -> Flask:
    """Build the web app for a Runtime: the WeCom callback and a health check; outbox rows get enqueued on commit."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = rt.config.max_body * 8
    app.extensions["liaowang"] = rt
    cfg = rt.config.wecom
    app.extensions["liaowang_crypto"] = CallbackCrypto(cfg.token, cfg.encoding_aes_key, cfg.corp_id)
    set_runtime(rt)
    outbox.set_notifier(lambda ids: enqueue_deliveries(rt.queue, ids))
    outbox.set_job_runner(lambda jobs: run_deferred(rt.queue, jobs))

    from bot.callback import bp

    app.extensions["liaowang_members"] = Members(rt.engine)
    app.extensions["liaowang_inbox"] = InboxWriter(rt.engine)

    app.register_blueprint(bp)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
