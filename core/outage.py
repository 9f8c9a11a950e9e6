"""Outages of Redis, the database or the disk: tell them from bugs, log one line per outage, back off boundedly."""

from __future__ import annotations

import errno
import logging
import time

import redis
from sqlalchemy import exc as sa_exc

DISK_FULL = ("database or disk is full", "no space left on device", "disk full")
READ_ONLY = ("readonly database", "read-only", "read only")


def dependency(exc: BaseException) -> str | None:
    """Return what went away ("Redis", "数据库", "磁盘") if exc is an outage rather than a bug, else None."""
    if isinstance(exc, redis.exceptions.RedisError):
        return "Redis"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return "磁盘"
    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError | sa_exc.ProgrammingError):
        return None  # what was asked is wrong (a value too long or out of range): a bug, not an outage
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError):
        text = str(getattr(exc, "orig", exc)).lower()
        return "磁盘" if any(m in text for m in DISK_FULL + READ_ONLY) else "数据库"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "网络"
    return None


def describe(exc: BaseException) -> str:
    """Return one line that names the error as it is (disk full, read-only, refused …), without a traceback."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if any(m in text.lower() for m in DISK_FULL):
        return f"磁盘已满（{text}）"
    if any(m in text.lower() for m in READ_ONLY):
        return f"只读（{text}）"
    return f"{type(orig).__name__}: {text}"[:300]


class Outage:
    """One loop's view of its dependencies: one log line when they fail, one when they are back; the next wait."""

    def __init__(self, loop: str, log: logging.Logger, first: float = 0.25, cap: float = 4.0) -> None:
        self.loop, self.log, self.first, self.cap = loop, log, first, cap
        self.since: float | None = None
        self.delay = first

    def failed(self, exc: BaseException) -> float:
        """Note a failure; return how long to wait before trying again (doubling up to cap seconds)."""
        what = dependency(exc)
        if self.since is None:
            self.since = time.monotonic()
            self.delay = self.first
            if what is None:
                self.log.exception("%s出错，稍后重试", self.loop)
            else:
                self.log.warning("%s：%s不可用（%s），自动重试中", self.loop, what, describe(exc))
        else:
            self.delay = min(self.cap, self.delay * 2)
        return self.delay

    def ok(self) -> None:
        """Note a success: log the recovery once if there was an outage."""
        if self.since is not None:
            self.log.warning("%s：已恢复（中断 %.1f 秒）", self.loop, time.monotonic() - self.since)
            self.since, self.delay = None, self.first
