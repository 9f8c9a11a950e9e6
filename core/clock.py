"""The one clock: every "now" in Liaowang comes from here; LIAOWANG_NOW sets it for drills, tests move it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NOW_ENV = "LIAOWANG_NOW"
_SINCE_ENV = "LIAOWANG_NOW_SINCE"  # the real unix time at which LIAOWANG_NOW was true (children inherit it)
_offset = timedelta(0)
_frozen: datetime | None = None
_shift: timedelta | None = None


class ClockSettingError(ValueError):
    """LIAOWANG_NOW is not an ISO 8601 instant with an offset; the message says so in one line."""


def parse_instant(text: str, what: str = NOW_ENV) -> datetime:
    """Return text (ISO 8601 with an offset, e.g. 2031-02-10T09:00:00+08:00) as aware UTC, or raise."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        example = "2031-02-10T09:00:00+08:00"
        raise ClockSettingError(f"{what} 格式不对：{text!r}（应为带时区的 ISO 8601 时间，如 {example}）")
    return value.astimezone(UTC)


def _env_shift() -> timedelta:
    """Return how far LIAOWANG_NOW puts this process ahead of real time (zero when unset); fixed once read."""
    global _shift
    if _shift is None:
        text = os.environ.get(NOW_ENV, "")
        if not text:
            _shift = timedelta(0)
            return _shift
        since = os.environ.get(_SINCE_ENV)
        anchor = float(since) if since else time.time()
        os.environ[_SINCE_ENV] = repr(anchor)  # processes started from here run on the same clock
        _shift = parse_instant(text) - datetime.fromtimestamp(anchor, UTC)
    return _shift


def check_env() -> None:
    """Raise ClockSettingError unless LIAOWANG_NOW is unset or a valid instant (the CLI calls this first)."""
    text = os.environ.get(NOW_ENV, "")
    if text:
        parse_instant(text)
        _env_shift()


def shift_seconds() -> float:
    """Return how many seconds LIAOWANG_NOW puts this process ahead of real time (for the WeCom emulator)."""
    return _env_shift().total_seconds()


def now() -> datetime:
    """Return the current aware UTC time: real time (or LIAOWANG_NOW running on), or the tests' frozen time."""
    if _frozen is not None:
        return _frozen + _offset
    return datetime.now(UTC) + _env_shift() + _offset


def freeze(at: datetime) -> None:
    """Stop this process's clock at `at`; only advance() moves it then (tests only)."""
    global _frozen, _offset
    _frozen, _offset = as_utc(at), timedelta(0)


def advance(delta: timedelta) -> None:
    """Move this process's clock forward by delta (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Put this process's clock back to real time (shifted by LIAOWANG_NOW if set)."""
    global _offset, _frozen, _shift
    _offset, _frozen, _shift = timedelta(0), None, None


def as_utc(value: datetime) -> datetime:
    """Return value as aware UTC (naive values are taken to be UTC, as SQLite returns them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """Return value in Asia/Shanghai for display."""
    return as_utc(value).astimezone(LOCAL_TZ)


FORMS = {
    "time": "%H:%M",  # 14:05
    "table": "%Y-%m-%d %H:%M",  # 2026-11-26 14:05 (spreadsheets)
    "day": "%Y%m%d",  # 20261126 (编号)
    "iso_day": "%Y-%m-%d",  # 2026-11-26
    "month": "%Y-%m",  # 2026-11
}
# and the forms written out in Chinese official style (no leading zero on month and day):
#   "date": 11月26日 14:05 (another year: 2027年2月5日 08:00); "long": 2026年11月26日 14:05 (documents)


def _written(t: datetime, year: bool) -> str:
    """t as 11月26日 14:05, with the year (2027年2月5日 08:00) when asked; no leading zeros on month and day."""
    day = f"{t.year}年{t.month}月{t.day}日" if year else f"{t.month}月{t.day}日"
    return f"{day} {t.strftime(FORMS['time'])}"


def show(value: datetime | None, with_date: bool = False, form: str = "") -> str:
    """Format a time for people, in Asia/Shanghai, relative to now(): "14:05" on the same Beijing day, "12月7日 17:00"
    on another day this year, "2027年2月5日 08:00" in another year; with_date always names the day; or a FORMS name.

    This is the one formatter of times people see (messages, pages, documents); nothing else calls strftime.
    """
    if value is None:
        return "—"
    t = local(value)
    if form == "long":
        return _written(t, True)
    if form and form != "date":
        return t.strftime(FORMS[form])
    today = local(now())
    if not form and not with_date and t.date() == today.date():
        return t.strftime(FORMS["time"])
    return _written(t, t.year != today.year)
