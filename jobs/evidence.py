"""Capture the web pages of new items' links (网页取证) and store what came back by hash.

`capture_evidence(id)` does one attempt at one link: claim it (one worker only), run the limited browser process
(core.capture) outside any transaction, store the PNG/HTML/PDF (core.storage, by sha256), record the result. A bad
page ends in a recorded failure (取证失败：原因), never an exception, so it stops neither the item nor other links.
`evidence_loop` runs in the worker process beside RQ (its own thread, one capture at a time per worker): a capture
takes up to [evidence] timeout seconds and must not hold up replies and notices on the RQ queues. The captures
waiting are rows in the database, so nothing is lost with Redis, and a worker killed mid-capture leaves a claim that
expires (workflow.record.evidence.stale_after).
"""

from __future__ import annotations

import logging
import threading

from core import clock
from core.capture import Result, capture
from core.outage import Outage
from core.runtime import Runtime, runtime
from core.storage import store
from models.evidence import EvidenceKind
from workflow.record import evidence

log = logging.getLogger(__name__)
POLL = 2.0  # seconds between looks for waiting captures


def capture_evidence(capture_id: int) -> str:
    """One attempt at capture_id; return "stored", "failed", "retry" (tried again later) or "skip"."""
    rt = runtime()
    settings = evidence.settings_of(rt.config)
    with rt.sessions() as s, s.begin():
        url = evidence.claim(s, settings, capture_id, clock.now())
    if url is None:
        return "skip"
    try:
        result = capture(url, settings)
    except Exception as exc:  # noqa: BLE001 - the runner itself failed (no browser, no disk): recorded, retried
        log.exception("evidence capture %s could not run", capture_id)
        result = Result(ok=False, kind="crash", reason=f"取证程序出错（{type(exc).__name__}）")
    now = clock.now()
    if result.ok:
        kept = [
            evidence.Kept(EvidenceKind(kind), *store(rt.config.storage_dir, data), len(data))
            for kind, data in result.files.items()
        ]
        with rt.sessions() as s, s.begin():
            evidence.stored(s, capture_id, result, kept, now)
        log.info("evidence %s stored: %s (%d files)", capture_id, url, len(kept))
        return "stored"
    with rt.sessions() as s, s.begin():
        final = evidence.failed(s, settings, capture_id, result, now)
    log.warning("evidence %s not captured (%s): %s", capture_id, url, result.reason)
    return "failed" if final else "retry"


def capture_due(rt: Runtime | None = None, limit: int = 20) -> dict[int, str]:
    """Run every capture whose time has come, one after another; return each one's outcome by id."""
    rt = rt or runtime()
    settings = evidence.settings_of(rt.config)
    with rt.sessions() as s:
        ids = evidence.due(s, settings, clock.now(), limit)
    return {cid: capture_evidence(cid) for cid in ids}


def announce(rt: Runtime) -> bool:
    """Say at start-up whether pages are captured; return whether they are."""
    settings = evidence.settings_of(rt.config)
    if settings.enabled:
        log.info(
            "网页取证已开启：新条目的链接由 %s 取证（总时限 %g 秒，上限 %g MB）",
            settings.chromium,
            settings.timeout,
            settings.max_mb,
        )
    else:
        log.info("网页取证已关闭（[evidence] enabled = false，适用于不能访问互联网的部署）：新条目的链接不会自动取证")
    return settings.enabled


def evidence_loop(rt: Runtime, stop: threading.Event) -> None:
    """Capture waiting links until stopped; an outage of the database is waited out (one line per outage)."""
    outage, wait = Outage("网页取证", log), 0.0
    while not stop.wait(wait):
        try:
            done = capture_due(rt, limit=5)
            outage.ok()
            wait = 0.0 if done else POLL
        except Exception as exc:  # noqa: BLE001 - the next round retries
            wait = outage.failed(exc)
