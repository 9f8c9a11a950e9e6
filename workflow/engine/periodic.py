"""The timers that are not item clocks (patrol rounds, guided-reply tasks, follow-up check-ins, period notices, the
calendar notice): each module declares its own periodic task here with `@periodic.task`, next to the rows it
owns; the worker's sweep (jobs/sweep.py) runs whatever is declared, knowing no kind of timer itself.

A task takes (session, config, now), runs in its own transaction and must be idempotent (unique rows or outbox
keys), so a second worker or a replayed sweep changes nothing; `raced` is what the log says when another worker
got there first.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from core.config import Config

Run = Callable[[Session, Config, datetime], Any]


@dataclass(frozen=True)
class Task:
    """One periodic task: its name, its order in a sweep, what it runs and the log line for a lost race."""

    name: str
    order: int
    run: Run
    raced: str


TASKS: dict[str, Task] = {}


def task(order: int, raced: str) -> Callable[[Run], Run]:
    """Declare the decorated function (session, config, now) a periodic task run by every sweep, in order."""

    def declare(fn: Run) -> Run:
        name = f"{fn.__module__}.{fn.__qualname__}"
        TASKS[name] = Task(name, order, fn, raced)
        return fn

    return declare


@cache
def _load() -> None:
    """Import every workflow module once, so each declares its tasks (importing does no I/O)."""
    import workflow

    for mod in pkgutil.walk_packages(workflow.__path__, "workflow."):
        importlib.import_module(mod.name)


def tasks() -> list[Task]:
    """Return every declared periodic task, in sweep order."""
    _load()
    return sorted(TASKS.values(), key=lambda t: (t.order, t.name))
