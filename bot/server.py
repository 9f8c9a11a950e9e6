"""Run the web app under gunicorn (gthread) from Python, as `liaowang web` and the benchmarks do."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from core.config import Config


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, loader: Any, options: dict[str, Any]) -> None:
        self._loader, self._options = loader, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._loader()


def serve_gunicorn(cfg: Config, host: str, port: int, workers: int = 2, threads: int = 8,
                   factory: Any = None) -> None:
    """Serve create_app(Runtime(cfg)) (or factory()) with gunicorn until stopped."""
    def loader() -> Any:
        if factory is not None:
            return factory()
        from bot.app import create_app
        from core.runtime import Runtime

        return create_app(Runtime(cfg))

    _Gunicorn(loader, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                       "worker_class": "gthread", "timeout": 30, "accesslog": None,
                       "loglevel": "warning"}).run()
