"""The one clock: every "now" in Liaowang comes from here, and tests can move it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Return the current aware UTC time, shifted by the test offset (and LIAOWANG_CLOCK_OFFSET seconds)."""
    env = os.environ.get("LIAOWANG_CLOCK_OFFSET")
    extra = timedelta(seconds=float(env)) if env else timedelta(0)
    return (_frozen or datetime.now(UTC)) + _offset + extra


def freeze(at: datetime | None = None) -> None:
    """Stop this process's clock at `at` (default: now); only advance() moves it then (tests only)."""
    global _frozen
    _frozen = at or datetime.now(UTC)


def advance(delta: timedelta) -> None:
    """Move this process's clock forward by delta (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Put this process's clock back to real time."""
    global _offset, _frozen
    _offset, _frozen = timedelta(0), None


def as_utc(value: datetime) -> datetime:
    """Return value as aware UTC (naive values are taken to be UTC, as SQLite returns them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """Return value in Asia/Shanghai for display."""
    return as_utc(value).astimezone(LOCAL_TZ)


def show(value: datetime | None, with_date: bool = False) -> str:
    """Format a time for people: "14:05" or "11月26日 14:05" in Asia/Shanghai."""
    if value is None:
        return "—"
    t = local(value)
    return t.strftime("%m月%d日 %H:%M").lstrip("0") if with_date else t.strftime("%H:%M")
