"""Subprocess entry: serve Liaowang or the baseline under gunicorn; argv[1] is a JSON settings object."""

from __future__ import annotations

import json
import sys
from typing import Any


def main(settings: dict[str, Any]) -> None:
    """Serve settings["app"] ("liaowang", "bare" or "baseline") with the config file settings["config"]."""
    from bot.server import serve_gunicorn
    from core.config import load_config

    cfg = load_config(settings["config"])

    def factory() -> Any:
        w = cfg.wecom
        if settings["app"] == "bare":
            from bench.bare import create_bare_app

            return create_bare_app(w.token, w.encoding_aes_key, w.corp_id)
        if settings["app"] == "baseline":
            from bench.baseline import create_baseline_app

            return create_baseline_app(
                w.token, w.encoding_aes_key, w.corp_id, w.agent_id, cfg.max_body, cfg.callback_window
            )
        from core.runtime import Runtime
        from wiring import web_app

        return web_app(Runtime(cfg))

    serve_gunicorn(factory, "127.0.0.1", int(settings["port"]), int(settings["workers"]), int(settings["threads"]))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
