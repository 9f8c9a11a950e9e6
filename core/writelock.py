"""Serialise SQLite write transactions across threads and processes with a lock that wakes waiters at once.

SQLite's own busy handler sleeps in growing steps (up to 100 ms) while another writer holds the lock, which
turns contention into long tail latency. A thread lock plus a POSIX record lock (lockf) on a file beside the
database makes writers queue and wake immediately instead; BEGIN IMMEDIATE then never has to wait.

A record lock belongs to the process: it dies with it, even by SIGKILL, and a forked child (RQ forks its
scheduler) never holds it. An flock would belong to the open file, which the child inherits: a worker killed
while writing then left the lock held by its orphaned scheduler for ever (seen in the crash test).
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from pathlib import Path


class WriteLock:
    """A per-database lock held from BEGIN to COMMIT/ROLLBACK."""

    def __init__(self, db_path: str) -> None:
        self._path = Path(db_path + ".writelock")
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._held = threading.local()
        hook = weakref.WeakMethod(self._after_fork)  # a forgotten lock must not be kept alive by the hook
        os.register_at_fork(after_in_child=lambda: (m := hook()) and m())

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's file and thread state (the parent's lock is not ours)."""
        if self._fd is not None:
            os.close(self._fd)  # closing drops only this process's record locks, and the child holds none
        self._fd, self._pid = None, 0
        self._thread_lock = threading.Lock()
        self._held = threading.local()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own open file
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        """Take the lock for this thread's transaction."""
        if getattr(self._held, "on", False):
            return
        self._thread_lock.acquire()
        try:
            fcntl.lockf(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        self._held.on = True

    def release(self) -> None:
        """Give the lock back (a no-op if this thread does not hold it)."""
        if not getattr(self._held, "on", False):
            return
        self._held.on = False
        fcntl.lockf(self._file(), fcntl.LOCK_UN)
        self._thread_lock.release()
