"""The Flask app factory."""

from __future__ import annotations

from flask import Flask

from bot.crypto import CallbackCrypto
from bot.h5 import init_app as init_h5
from bot.inboxwriter import InboxWriter
from bot.members import Members
from core.runtime import Runtime, set_runtime
from jobs.queueing import enqueue_deliveries, run_deferred
from workflow import outbox
from workflow.files import MAX_REQUEST_BYTES


def create_app(rt: Runtime) -> Flask:
    """Build the web app for a Runtime: WeCom callback, /h5 pages, health check; outbox rows are enqueued on commit."""
    app = Flask(__name__)
    # H5 uploads carry several files of up to 20 MB; the callback still refuses bodies over [web] max_body itself.
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions["liaowang"] = rt
    cfg = rt.config.wecom
    app.extensions["liaowang_crypto"] = CallbackCrypto(cfg.token, cfg.encoding_aes_key, cfg.corp_id)
    set_runtime(rt)
    outbox.set_notifier(lambda ids, urgent: enqueue_deliveries(rt.queue, ids, urgent))
    outbox.set_job_runner(lambda jobs: run_deferred(rt.queue, jobs))

    from bot.callback import bp

    app.extensions["liaowang_members"] = Members(rt.engine)
    app.extensions["liaowang_inbox"] = InboxWriter(rt.engine)

    app.register_blueprint(bp)
    init_h5(app, rt.config)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
