"""Logs: plain text by default, one JSON object per line with `[log] format = "json"`, carrying the request id.

Log lines name ids (编号, row ids, dedupe keys, request ids), never what people wrote: message text stays out of
every line at info level and above.
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
FIELDS = ("item", "row", "key", "userid", "job")  # passed with extra={...}
# Libraries whose INFO lines say nothing an operator needs: alembic names its dialect on every migration check
# (each /readyz), fontTools reports every font subset (bulletin charts, archive PDFs), matplotlib its font cache.
# They still speak at WARNING and above; our own loggers keep the configured level.
QUIET = ("alembic", "fontTools", "matplotlib", "PIL", "fpdf")


def new_request_id(given: str | None) -> str:
    """The caller's X-Request-Id when it is a plain token, else a fresh one."""
    if given and len(given) <= 64 and all(c.isalnum() or c in "-_." for c in given):
        return given
    return secrets.token_hex(8)


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id and the ids given as extra."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := getattr(record, "request_id", None):
            out["request_id"] = rid
        for name in FIELDS:
            if (value := getattr(record, name, None)) is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def quiet_libraries() -> None:
    """Raise the third-party loggers of QUIET to WARNING; ours keep the root level."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure(raw: dict[str, Any]) -> None:
    """Apply [log] format ("text" or "json") and level to the root logger's handlers; quiet chatty libraries."""
    section = raw.get("log", {})
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    level = str(section.get("level", "info")).upper()
    root.setLevel(level)
    if level != "DEBUG":
        quiet_libraries()
    else:  # debugging: the libraries speak again, at the root's level
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.NOTSET)
    if str(section.get("format", "text")) == "json":
        for handler in root.handlers:
            handler.setFormatter(JsonFormatter())
            if not any(isinstance(f, _Context) for f in handler.filters):
                handler.addFilter(_Context())
