"""The composition root: the one place that connects the layers of a process (web, worker, command line).

The layers import one way (bot/handlers → workflow → models → core; jobs → workflow): what a lower layer needs
from a higher one is handed to it here, once per process, instead of being imported — how outbox rows reach the
queue (jobs.queueing), what handles a stored callback (handlers.runner into jobs.inbox), and who hears of an
item's audit events (workflow.people.appchat's group line). tests/unit/test_architecture.py keeps the imports so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.runtime import Runtime, set_runtime

if TYPE_CHECKING:
    from flask import Flask


def wire(rt: Runtime, queue: bool = True) -> Runtime:
    """Make rt this process's Runtime and connect the layers; queue=False leaves outbox rows for the sweep (CLI)."""
    from core.config import ConfigError
    from handlers import runner
    from jobs import inbox
    from jobs.queueing import enqueue_deliveries, run_deferred
    from models.clocktable import check_policy, rows_from_config
    from workflow.engine import audit, outbox
    from workflow.people import appchat

    try:  # a deployment's own clocks join the clock table; every configured clock is declared, every one timed
        rows_from_config(rt.config.raw.get("policy", {}).get("clocks", {}))
        check_policy(rt.config.policy)
    except ValueError as exc:
        raise ConfigError(f"[policy] {exc}") from None
    set_runtime(rt)
    audit.subscribe(appchat.on_event)
    inbox.set_handler(runner)
    if queue:
        outbox.set_notifier(lambda ids, urgent: enqueue_deliveries(rt.queue, ids, urgent))
        outbox.set_job_runner(lambda jobs: run_deferred(rt.queue, jobs))
    return rt


def web_app(rt: Runtime) -> Flask:
    """Wire the process for rt and build its web app (WeCom callback, /h5 pages, health and metrics); the document
    templates are checked first (ConfigError naming the file and field)."""
    from bot.app import create_app
    from workflow.record import archive, documents

    documents.check(rt.config)
    archive.check(rt.config)
    return create_app(wire(rt))


def run_worker(rt: Runtime, burst: bool = False, consumers: int = 2) -> None:
    """Wire the process for rt and work the inbox, the clocks, the sweep and the queue until stopped (after checking
    the document templates)."""
    from jobs.worker import run_worker as work
    from workflow.record import archive, documents

    documents.check(rt.config)
    archive.check(rt.config)
    work(wire(rt), burst=burst, consumers=consumers)
