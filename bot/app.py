"""The Flask app factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, request

from bot.crypto import CallbackCrypto
from bot.h5 import init_app as init_h5
from bot.inboxwriter import InboxWriter
from bot.intake import init_app as init_intake
from bot.members import Members
from bot.mp import init_app as init_mp
from core import logs, metrics, wake
from core.outage import Outage, dependency
from core.runtime import Runtime
from core.version import version
from workflow.views import gauges


def readiness(rt: Runtime) -> dict[str, tuple[bool, str]]:
    """(ok, what was found) for the database, Redis and the migrations."""
    from sqlalchemy import text

    from migrations import current, head

    out: dict[str, tuple[bool, str]] = {}
    try:
        with rt.engine.connect() as c:
            c.execute(text("SELECT 1"))
            at, newest = current(c), head()
        out["database"] = (True, "ok")
        out["migrations"] = _schema(at, newest)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; its class is enough
        out["database"] = (False, type(exc).__name__)
        out["migrations"] = (False, "unknown (no database)")
    try:
        rt.redis.ping()
        out["redis"] = (True, "ok")
    except Exception as exc:  # noqa: BLE001
        out["redis"] = (False, type(exc).__name__)
    return out


def _schema(at: str | None, newest: str) -> tuple[bool, str]:
    """(ok, said) for the database's schema revision: ready at this code's newest, and also when the database is at
    a revision this code does not know (a newer release ran `db upgrade` first: the rolling upgrade of
    docs/upgrade.md, whose compatibility promise lets this web serve until it is restarted)."""
    if at == newest:
        return True, f"at {at}, newest {newest}"
    if at is not None and not _known(at):
        return True, f"at {at}, newer than this release ({newest}): restart this process on the new release"
    return False, f"at {at}, newest {newest}: run liaowang db upgrade"


def _known(revision: str) -> bool:
    """True if revision is one of this code's migrations."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from migrations import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision) is not None
    except CommandError:
        return False


PAGES = Outage("网页", logging.getLogger("bot.app"))


def _quiet_outages(app: Flask) -> None:
    """A request failing because Redis, the database or the disk is gone logs one line per outage (core.outage), not
    Flask's traceback per 500; anything else is logged as Flask does."""
    flask_log = app.log_exception

    def log_exception(exc_info: Any) -> None:
        exc = exc_info[1] if exc_info else None
        if exc is not None and dependency(exc) is not None:
            PAGES.failed(exc)
            return
        flask_log(exc_info)

    app.log_exception = log_exception  # type: ignore[method-assign]


def create_app(rt: Runtime) -> Flask:
    """Build the web app for a Runtime: WeCom callback, /h5 pages, health check (wiring.web_app wires first)."""
    app = Flask(__name__)
    # H5 uploads carry several files of up to 20 MB ([web] max_request_mb in all); the callback still refuses bodies
    # over [web] max_body itself.
    app.config["MAX_CONTENT_LENGTH"] = rt.config.max_request_mb * 1024 * 1024
    app.extensions["liaowang"] = rt
    cfg = rt.config.wecom
    app.extensions["liaowang_crypto"] = CallbackCrypto(cfg.token, cfg.encoding_aes_key, cfg.corp_id)

    from bot.callback import bp

    app.extensions["liaowang_members"] = Members(rt.engine)
    app.extensions["liaowang_inbox"] = InboxWriter(rt.engine, lambda users: wake.ring(rt.redis, wake.INBOX, users))

    logs.configure(rt.config.raw)
    metrics.configure(rt.config.raw, rt.config.data_dir)
    metrics_access = metrics.access(rt.config.raw)

    @app.before_request
    def _request_id() -> None:
        g.request_id = logs.new_request_id(request.headers.get("X-Request-Id"))
        logs.REQUEST_ID.set(g.request_id)

    @app.after_request
    def _echo_request_id(resp: Response) -> Response:
        resp.headers["X-Request-Id"] = g.get("request_id", "")
        if resp.status_code < 500 and request.path not in ("/healthz", "/readyz", "/metrics"):
            PAGES.ok()  # a page worked again: the outage it met (if any) ends for this process
        return resp

    app.register_blueprint(bp)
    init_intake(app, rt)
    init_mp(app, rt)
    init_h5(app, rt.config)
    _quiet_outages(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is alive (nothing else is checked: use /readyz for that)."""
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics_page() -> Response:
        """Prometheus text exposition: this host's counters (every process) and the shared gauges; 403 to a client
        outside [metrics] allow without the [metrics] token."""
        h = request.headers
        if not metrics.allowed(metrics_access, request.remote_addr, h.get("X-Forwarded-For"), h.get("Authorization")):
            return Response("forbidden\n", status=403, mimetype="text/plain")
        body, content_type = metrics.render(lambda: gauges.read(rt))
        return Response(body, mimetype=None, content_type=content_type)

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        """Ready to serve: the database answers, Redis answers, the schema is current; else 503 naming the part."""
        checks = readiness(rt)
        failing = [name for name, (ok, _said) in checks.items() if not ok]
        body = {"status": "ready" if not failing else "not ready", "failing": failing, "version": version(),
                "checks": {name: said for name, (_ok, said) in checks.items()}}  # fmt: skip
        return body, 503 if failing else 200

    return app
