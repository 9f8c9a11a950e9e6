"""Run the web app under gunicorn (gthread) from Python, as `liaowang web` and the benchmarks do."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

GRACEFUL_SECONDS = 5  # after this, gunicorn kills workers that have not finished their requests


class PortInUse(Exception):
    """The address is already bound by another process; the message says which and what to do."""


class QuitOnceThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, but a second SIGINT/SIGQUIT during shutdown is ignored.

    A terminal's Ctrl-C reaches the whole process group, and the master then sends SIGQUIT again; gthread's
    handle_quit re-entered ThreadPoolExecutor.shutdown from the signal handler and deadlocked on its lock.
    """

    _quitting = False

    def handle_quit(self, sig: int, frame: Any) -> None:
        """Shut down immediately, once."""
        if self._quitting:
            return
        self._quitting = True
        super().handle_quit(sig, frame)


class _Gunicorn(BaseApplication):
    def __init__(self, loader: Any, options: dict[str, Any]) -> None:
        self._loader, self._options = loader, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._loader()


def check_port(host: str, port: int, option: str = "--port") -> None:
    """Raise PortInUse (one Chinese sentence naming the port and the option to change it) if it is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn and werkzeug bind
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            why = "已被占用" if exc.errno == errno.EADDRINUSE else "无权使用"
            raise PortInUse(
                f"端口 {port}（{host}）{why}：可能是上次启动的服务还没停，请先停掉它，或用 {option} 换一个端口。"
            ) from None


def serve_gunicorn(factory: Callable[[], Any], host: str, port: int, workers: int = 2, threads: int = 8) -> None:
    """Serve the app factory() builds in each gunicorn process (wiring.web_app for Liaowang) until SIGTERM or SIGINT."""
    _Gunicorn(
        factory,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": f"{__name__}.QuitOnceThreadWorker",
            "timeout": 30,
            "graceful_timeout": GRACEFUL_SECONDS,
            "accesslog": None,
            "loglevel": "warning",
        },
    ).run()
