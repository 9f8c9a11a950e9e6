"""WSGI entry point: `gunicorn wsgi:app` (reads $LIAOWANG_CONFIG when first imported by the server)."""

from __future__ import annotations

from core.runtime import runtime
from wiring import web_app


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """Build `app` lazily so importing this module does no I/O."""
    if name == "app":
        return web_app(runtime())
    raise AttributeError(name)
