"""The emulator's Flask app factory and a threaded werkzeug server that can be shut down."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.api import make_api_blueprint
from sandbox.control import make_control_blueprint
from sandbox.errors import ApiError, ControlError
from sandbox.mp import make_mp_api_blueprint, make_mp_control_blueprint, make_mp_phone_blueprint
from sandbox.mp_state import MpSide
from sandbox.oauth import make_oauth_blueprint
from sandbox.phone import make_phone_blueprint
from sandbox.settings import EmulatorSettings
from sandbox.state import World

WORLD_KEY = "sandbox_world"
MP_KEY = "sandbox_mp"
POLL_INTERVAL = 0.1


def create_emulator_app(settings: EmulatorSettings) -> Flask:
    """Build the emulator WSGI app: /cgi-bin (WeCom API), /connect (OAuth), /sandbox (control), /phone (browser UI)."""
    app = Flask("sandbox", static_folder=None)
    world = World(settings)
    app.extensions[WORLD_KEY] = world
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(make_api_blueprint(world))
    app.register_blueprint(make_oauth_blueprint(world))
    app.register_blueprint(make_control_blueprint(world))
    app.register_blueprint(make_phone_blueprint(world))
    mp = MpSide(now=world.now)  # the bureau's 公众号 (sandbox/mp.py)
    app.extensions[MP_KEY] = mp
    for make in (make_mp_api_blueprint, make_mp_control_blueprint, make_mp_phone_blueprint):
        app.register_blueprint(make(mp))

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return jsonify(exc.as_json())

    @app.errorhandler(ControlError)
    def control_error(exc: ControlError) -> tuple[Response, int]:
        return jsonify({"error": exc.message}), exc.status

    @app.get("/")
    def index() -> Response | dict[str, Any]:
        wants = request.accept_mimetypes.best_match(["application/json", "text/html"])
        if wants == "text/html":  # a person in a browser: a Chinese page with the way on
            return Response(
                render_template(
                    "index.html",
                    corp_id=settings.corp_id,
                    agent_id=settings.agent_id,
                    app_name=settings.app_name,
                    notice=settings.notice,
                ),
                mimetype="text/html",
            )
        return {"emulator": "wecom", "corp_id": settings.corp_id, "agent_id": settings.agent_id}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        """Unknown paths and wrong methods outside the API: a Chinese line for people."""
        if request.path.startswith("/cgi-bin/"):
            return exc.get_response()
        status = exc.code or 500
        known = {404: "模拟器里没有这个网址。", 405: "这个网址不支持这种请求方式。"}
        text = known.get(status, f"请求没有成功（{status}）。")
        return Response(f"{text}\n", status=status, mimetype="text/plain")

    return app


def world_of(app: Flask) -> World:
    """Return the World behind an emulator app."""
    world: World = app.extensions[WORLD_KEY]
    return world


class EmulatorServer:
    """A running emulator: url, port, app, world and shutdown()."""

    def __init__(self, server: BaseWSGIServer, app: Flask) -> None:
        self._server = server
        self.app = app
        self.world = world_of(app)
        self.mp: MpSide = app.extensions[MP_KEY]
        self.host = str(server.host)
        self.port = int(server.port)
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL,), name="wecom-emulator", daemon=True
        )
        self._thread.start()

    def wait(self) -> None:
        """Block until the server stops (for running the emulator in the foreground)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve(host: str, port: int, settings: EmulatorSettings) -> EmulatorServer:
    """Start the emulator on host:port (0 = any free port) in a background thread and return it."""
    app = create_emulator_app(settings)
    return EmulatorServer(make_server(host, port, app, threaded=True), app)
