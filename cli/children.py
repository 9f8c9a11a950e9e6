"""The demo's child processes, each in its own process group: stopped on the first Ctrl-C, killed on the second."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable

STOP_SECONDS = 8.0  # SIGTERM, then SIGKILL for whatever is still alive


class Interrupted(Exception):
    """The person pressed Ctrl-C (or the demo got SIGTERM) while it was starting or running."""


class Children:
    """Start processes in their own process groups and stop every one of them, whatever happens."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.signals = 0

    def install(self) -> None:
        """Count SIGINT/SIGTERM instead of raising: the first asks for a clean stop, the second forces it."""

        def count(_signum: int, _frame: object) -> None:
            self.signals += 1

        signal.signal(signal.SIGINT, count)
        signal.signal(signal.SIGTERM, count)

    def check(self) -> None:
        """Raise Interrupted if a stop was asked for (call between start-up steps and in waiting loops)."""
        if self.signals:
            raise Interrupted

    def start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start argv in a new session, so a terminal's Ctrl-C reaches only the demo, which then stops it."""
        self.check()
        proc = subprocess.Popen(argv, start_new_session=True)
        self.procs.append(proc)
        return proc

    def any_exited(self) -> bool:
        """Return True if one of the children has exited."""
        return any(p.poll() is not None for p in self.procs)

    def wait(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Sleep up to seconds in small steps, returning early when until() holds; raise Interrupted on Ctrl-C."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check()
            if until is not None and until():
                return
            time.sleep(0.1)

    def stop(self, on_force: Callable[[], None] | None = None) -> None:
        """SIGTERM every child's process group; SIGKILL what is left after STOP_SECONDS or on a further Ctrl-C."""
        asked = self.signals
        for p in self.procs:
            _signal_group(p, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and self.signals <= asked and self._alive():
            time.sleep(0.05)
        if self._alive() and on_force is not None:
            on_force()
        for p in self.procs:
            _signal_group(p, signal.SIGKILL)  # also reaches grandchildren (gunicorn's and RQ's workers)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)

    def _alive(self) -> bool:
        return any(_group_alive(p) for p in self.procs)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    proc.poll()  # reap the leader if it exited, so its group id is not reused under us


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """Return True while any process of proc's group lives (the leader may be gone, its workers not)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
