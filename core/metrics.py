"""Prometheus metrics: counters and a histogram shared by every process of a host, plus gauges read at scrape time.

Each web and worker process calls `setup()` once. Counters and the lateness histogram are written by
prometheus-client's multiprocess mode into one directory per deployment and host (`[metrics] dir`, by default
`<[app] data_dir>/metrics/<hostname>`), so a scrape of any web process (`/metrics`) or of a worker's own port
(`[metrics] worker_port`) sums every live and finished process of that host. Files are never deleted while running
(a counter must not go down); one set is added per process start. Gauges that describe shared state (inbox,
outbox, clocks, live workers) are read from the database and Redis at scrape time, so every scrape agrees whichever
process answers it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
WORKER_KEY = "liaowang:worker:"  # liaowang:worker:<host>:<pid>, refreshed by each worker's sweep loop
GAUGE_HELP = {
    "liaowang_inbox_pending": "Received callbacks not yet handled.",
    "liaowang_inbox_lag_seconds": "Age of the oldest callback not yet handled (0 when none).",
    "liaowang_outbox_pending": "Messages waiting to be sent to WeCom (pending or being sent).",
    "liaowang_clocks_open": "Clocks (时限) still running.",
    "liaowang_worker_up": "Worker processes that refreshed their heartbeat within three sweep intervals.",
    "liaowang_calendar_official_until_seconds": (
        "Unix time (00:00 Beijing) of the last day with an official or configured holiday schedule; "
        "later days use the statutory holidays."
    ),
}


@dataclass
class _Metrics:
    callbacks: Any
    wecom_errors: Any
    outbox_failed: Any
    lateness: Any
    shared: bool  # values live in the multiprocess directory (prometheus_client was first imported after setup)


_m: _Metrics | None = None


def default_dir(data_dir: Path) -> Path:
    """The multiprocess directory when [metrics] dir is not set: the deployment's data dir, one folder per host
    (a data dir shared between hosts never mixes two hosts' process ids)."""
    return data_dir / "metrics" / socket.gethostname()


def configure(raw: dict[str, Any], data_dir: Path) -> None:
    """setup() with [metrics] dir, or the deployment's default directory on this host."""
    chosen = str(raw.get("metrics", {}).get("dir") or "")
    setup(Path(chosen) if chosen else default_dir(data_dir))


def worker_port(raw: dict[str, Any]) -> int:
    """[metrics] worker_port: where a worker serves its own /metrics (0: it does not)."""
    return int(raw.get("metrics", {}).get("worker_port", 0) or 0)


def setup(directory: Path) -> None:
    """Turn metrics on for this process, writing into directory (created if missing)."""
    global _m
    if _m is not None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # read when prometheus_client is first imported
    from prometheus_client import Counter, Histogram, values

    shared = values.ValueClass is not values.MutexValue
    if not shared:
        log.warning("metrics: prometheus_client was imported before setup; this process's counters stay its own")

    _m = _Metrics(
        callbacks=Counter("liaowang_callbacks", "Callbacks received, by result.", ["result"]),
        wecom_errors=Counter("liaowang_wecom_errors", "WeCom API calls that failed, by errcode.", ["errcode"]),
        outbox_failed=Counter("liaowang_outbox_failed", "Outbox messages given up on."),
        lateness=Histogram(
            "liaowang_clock_lateness_seconds",
            "How late a clock threshold fired after it fell due.",
            buckets=LATENESS_BUCKETS,
        ),  # fmt: skip
        shared=shared,
    )


def callback(result: str) -> None:
    """Count one callback by its result (stored, duplicate, outsider, refused, error)."""
    if _m is not None:
        _m.callbacks.labels(result).inc()


def wecom_error(errcode: int | None) -> None:
    """Count one failed WeCom call by errcode ("http" for network and HTTP failures)."""
    if _m is not None:
        _m.wecom_errors.labels("http" if errcode is None else str(errcode)).inc()


def outbox_failed() -> None:
    """Count one outbox message given up on."""
    if _m is not None:
        _m.outbox_failed.inc()


def lateness(seconds: float) -> None:
    """Observe how late one clock threshold fired."""
    if _m is not None:
        _m.lateness.observe(max(0.0, seconds))


def heartbeat(redis_conn: Any, ttl: float) -> None:
    """Mark this worker process alive for ttl seconds (what liaowang_worker_up counts)."""
    redis_conn.set(f"{WORKER_KEY}{socket.gethostname()}:{os.getpid()}", "1", ex=max(1, int(ttl)))


def farewell(redis_conn: Any) -> None:
    """Remove this worker's heartbeat at a clean stop."""
    redis_conn.delete(f"{WORKER_KEY}{socket.gethostname()}:{os.getpid()}")


def workers_up(redis_conn: Any) -> int:
    """Return how many worker processes have a live heartbeat."""
    return sum(1 for _ in redis_conn.scan_iter(match=f"{WORKER_KEY}*", count=500))


class _Scraped:
    """A prometheus collector that reads the shared gauges (a dict of name → value) at every scrape."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        for name, value in self._read().items():
            yield GaugeMetricFamily(name, GAUGE_HELP.get(name, name), value=value)


def registry(read: Callable[[], dict[str, float]]) -> Any:
    """Return a registry of this host's counters (all processes) and the gauges that read() returns."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    reg = CollectorRegistry()
    if _m is not None and _m.shared:
        MultiProcessCollector(reg)
    elif _m is not None:
        for own in (_m.callbacks, _m.wecom_errors, _m.outbox_failed, _m.lateness):
            reg.register(own)
    reg.register(_Scraped(read))
    return reg


def render(read: Callable[[], dict[str, float]]) -> tuple[bytes, str]:
    """Return the text exposition of registry(read) and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry(read)), CONTENT_TYPE_LATEST


def serve(port: int, read: Callable[[], dict[str, float]], host: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve registry(read) on host:port in a daemon thread (a worker's own /metrics)."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=host, registry=registry(read))
    except OSError as exc:  # another worker of this host has the port: it serves the same host-wide totals
        log.info("metrics port %s not opened (%s): another worker on this host serves it", port, exc.strerror)
        return
    log.info("metrics served on %s:%s", host, port)
