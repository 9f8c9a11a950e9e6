"""Outages of Redis, the database or the disk: tell them from bugs, log one line per outage, back off boundedly."""

from __future__ import annotations

import errno
import logging
import threading
import time

import redis
from sqlalchemy import exc as sa_exc

DISK_FULL = ("database or disk is full", "no space left on device", "disk full")
READ_ONLY = ("readonly database", "read-only", "read only")


RAW_OUTAGES = ("OperationalError", "InterfaceError")  # the DB-API classes of a lost connection or a full disk


def _raw_driver_outage(exc: BaseException) -> bool:
    """A driver's own outage error, raised where the driver is used without SQLAlchemy (the inbox's group commit)."""
    module = type(exc).__module__.split(".")[0]
    return module in ("sqlite3", "psycopg", "psycopg2") and type(exc).__name__ in RAW_OUTAGES


def dependency(exc: BaseException) -> str | None:
    """Return what went away ("Redis", "数据库", "磁盘") if exc is an outage rather than a bug, else None."""
    if isinstance(exc, redis.exceptions.RedisError):
        return "Redis"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return "磁盘"
    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError | sa_exc.ProgrammingError):
        return None  # what was asked is wrong (a value too long or out of range): a bug, not an outage
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError) or _raw_driver_outage(exc):
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


_lock = threading.Lock()
_open: dict[str, tuple[float, set[str]]] = {}  # dependency → (since, the loops of this process failing on it)


def _begin(what: str, loop: str, log: logging.Logger, exc: BaseException) -> None:
    """Count loop as failing on what; the first loop of the process to fail logs the one line."""
    with _lock:
        entry = _open.get(what)
        if entry is None:
            _open[what] = (time.monotonic(), {loop})
            log.warning("%s：%s不可用（%s），自动重试中", loop, what, describe(exc))
        else:
            entry[1].add(loop)


def _end(loop: str, log: logging.Logger) -> None:
    """loop, which had met the outage of a dependency, works again: the outage ends for the process (one line); a loop
    still failing on it afterwards starts a new one."""
    with _lock:
        for what, (since, loops) in list(_open.items()):
            if loop in loops:
                del _open[what]
                log.warning("%s：%s已恢复（中断 %.1f 秒）", loop, what, time.monotonic() - since)


class Outage:
    """One loop's view of its dependencies. A lost Redis, database or disk is logged once per process when the first
    loop meets it and once when a loop that met it works again (whatever the number of loops, threads and retries),
    with the traceback at debug level only; a bug is logged with its traceback once per run of failures. failed()
    returns the next wait (doubling up to cap seconds)."""

    def __init__(self, loop: str, log: logging.Logger, first: float = 0.25, cap: float = 4.0) -> None:
        self.loop, self.log, self.first, self.cap = loop, log, first, cap
        self.since: float | None = None
        self.bug = False
        self.delay = first

    def failed(self, exc: BaseException) -> float:
        """Note a failure; return how long to wait before trying again (doubling up to cap seconds)."""
        what = dependency(exc)
        if self.since is None:
            self.since, self.delay = time.monotonic(), self.first
            if what is None:
                self.bug = True
                self.log.exception("%s出错，稍后重试", self.loop)
        else:
            self.delay = min(self.cap, self.delay * 2)
        if what is not None:
            _begin(what, self.loop, self.log, exc)
            self.log.debug("%s：%s", self.loop, describe(exc), exc_info=exc)
        return self.delay

    def ok(self) -> None:
        """Note a success: log the recovery once (per process, for a dependency) if there was an outage."""
        if _open:
            _end(self.loop, self.log)
        if self.since is not None:
            if self.bug:
                self.log.warning("%s：已恢复（中断 %.1f 秒）", self.loop, time.monotonic() - self.since)
            self.since, self.delay, self.bug = None, self.first, False
