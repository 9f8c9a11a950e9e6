"""Prometheus metrics: counters and a histogram shared by every process of a host, plus gauges read at scrape time.

Each web and worker process calls `setup()` once. Counters and the lateness histogram are written by
prometheus-client's multiprocess mode into one directory per deployment and host (`[metrics] dir`, by default
`<[app] data_dir>/metrics/<hostname>`), so a scrape of any web process (`/metrics`) or of a worker's own port
(`[metrics] worker_port`) sums every live and finished process of that host. A starting process folds the files of
finished ones into one merged file per kind (`tidy`; a counter never goes down), so files do not pile up. Web
`/metrics` answers only `[metrics] allow` networks or the `[metrics] token` (`access`, `allowed`). Gauges that
describe shared state (inbox, outbox, clocks, live workers) are read from the database and Redis at scrape time, so
every scrape agrees whichever process answers it.
"""

from __future__ import annotations

import hmac
import ipaddress
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
BUILD_INFO = "liaowang_build_info"
GAUGE_HELP = {
    "liaowang_inbox_pending": "Received callbacks not yet handled.",
    "liaowang_inbox_lag_seconds": "Age of the oldest callback not yet handled (0 when none).",
    "liaowang_outbox_pending": "Messages waiting to be sent to WeCom (pending or being sent).",
    "liaowang_clocks_open": "Clocks (时限) still running.",
    "liaowang_worker_up": "Worker processes that refreshed their heartbeat within three sweep intervals.",
    "liaowang_database_up": "1 when this scrape could read the database, 0 when it could not (its gauges are absent).",
    "liaowang_redis_up": "1 when this scrape could read Redis, 0 when it could not (liaowang_worker_up is absent).",
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
    pickups: Any
    shared: bool  # values live in the multiprocess directory (prometheus_client was first imported after setup)


_m: _Metrics | None = None
_CALLBACKS: dict[str, Any] = {}  # liaowang_callbacks' child per result, looked up once


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


DEFAULT_ALLOW = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Access:
    """Who may read /metrics: clients in these networks, or anyone presenting the bearer token (when set)."""

    networks: tuple[Network, ...]
    token: str = ""


def access(raw: dict[str, Any]) -> Access:
    """[metrics] allow (default loopback and private ranges) and [metrics] token; ConfigError on a bad network."""
    from core.config import ConfigError

    sec = raw.get("metrics", {})
    given = sec.get("allow", list(DEFAULT_ALLOW))
    nets = [given] if isinstance(given, str) else list(given)
    try:
        networks = tuple(ipaddress.ip_network(str(n), strict=False) for n in nets)
    except ValueError as exc:
        raise ConfigError(f"[metrics] allow 里有不是网段的值：{exc}") from None
    return Access(networks=networks, token=str(sec.get("token") or ""))


def _inside(acc: Access, address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return any((mapped or ip) in net for net in acc.networks)


def allowed(acc: Access, remote: str | None, forwarded_for: str | None, authorization: str | None) -> bool:
    """True for the right bearer token, or when the peer and the client its proxy saw (the last X-Forwarded-For
    entry, which a client cannot forge through the proxy) are both in the allowed networks."""
    if acc.token and authorization and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), acc.token.encode())
    if not _inside(acc, remote):
        return False
    return not forwarded_for or _inside(acc, forwarded_for.split(",")[-1])


def worker_host(raw: dict[str, Any]) -> str:
    """[metrics] worker_host: the address a worker's metrics port binds to (default 127.0.0.1, this machine only)."""
    return str(raw.get("metrics", {}).get("worker_host") or "127.0.0.1")


def _pid_of(path: Path) -> int | None:
    """The process id in a multiprocess file name (counter_123.db, gauge_livesum_123.db), None for merged files."""
    tail = path.stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _merge_into(directory: Path, kind: str, files: list[Path]) -> None:
    """Add the values of files (one kind: counter, histogram) into <kind>_merged.db, then delete them."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key
    from prometheus_client.multiprocess import MultiProcessCollector

    merged = directory / f"{kind}_merged.db"
    sources = [*files, merged] if merged.exists() else files
    tmp = directory / f".{kind}_merged.{os.getpid()}.tmp"
    out = MmapedDict(str(tmp))
    try:
        for metric in MultiProcessCollector.merge([str(f) for f in sources], accumulate=False):
            for sample in metric.samples:
                key = mmap_key(metric.name, sample.name, list(sample.labels), list(sample.labels.values()),
                               metric.documentation)  # fmt: skip
                out.write_value(key, sample.value, 0.0)
    finally:
        out.close()
    tmp.replace(merged)  # the sum is in place before the parts go: a scrape never sees a counter go down
    for f in files:
        f.unlink(missing_ok=True)


def tidy(directory: Path) -> int:
    """Fold the counter and histogram files of this host's dead processes into one merged file per kind and remove
    their live-gauge files (prometheus-client's multiprocess rules: totals never go down); return files removed.
    Run once at process start under a lock, so concurrent starts do not merge twice."""
    import fcntl

    from prometheus_client import multiprocess

    removed = 0
    with (directory / ".tidy.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dead: dict[str, list[Path]] = {}
        for f in sorted(directory.glob("*.db")):
            pid = _pid_of(f)
            if pid is None or pid == os.getpid() or _alive(pid):
                continue
            if f.name.startswith("gauge_"):
                multiprocess.mark_process_dead(pid, str(directory))
                removed += 0 if f.exists() else 1
            elif f.name.startswith(("counter_", "histogram_", "summary_")):
                dead.setdefault(f.name.split("_", 1)[0], []).append(f)
        for kind, files in dead.items():
            _merge_into(directory, kind, files)
            removed += len(files)
    return removed


def setup(directory: Path) -> None:
    """Turn metrics on for this process, writing into directory (created if missing; dead processes' files are
    folded together first, see tidy)."""
    global _m
    if _m is not None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # read when prometheus_client is first imported
    try:
        tidy(directory)
    except (OSError, ValueError) as exc:  # a damaged file: counting goes on, the folder is left as it is
        log.warning("metrics: files of finished processes not merged (%s)", exc)
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
        pickups=Counter(
            "liaowang_inbox_pickups", "Inbox looks that found callbacks to handle, by what woke the consumer.", ["why"]
        ),
        shared=shared,
    )


def callback(result: str) -> None:
    """Count one callback by its result (stored, duplicate, outsider, refused, error)."""
    if _m is not None:
        child = _CALLBACKS.get(result)
        if child is None:  # labels() takes a lock and builds a key: once per result, not per callback
            child = _CALLBACKS[result] = _m.callbacks.labels(result)
        child.inc()


def wecom_error(errcode: int | None) -> None:
    """Count one failed WeCom call by errcode ("http" for network and HTTP failures)."""
    if _m is not None:
        _m.wecom_errors.labels("http" if errcode is None else str(errcode)).inc()


def outbox_failed() -> None:
    """Count one outbox message given up on."""
    if _m is not None:
        _m.outbox_failed.inc()


def pickup(why: str) -> None:
    """Count one inbox look that found work, by why the consumer looked (signal, fallback, due, more, start)."""
    if _m is not None:
        _m.pickups.labels(why).inc()


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
        yield build_info()


def build_info() -> Any:
    """liaowang_build_info{version="…"} 1: which release this process runs (core.version)."""
    from prometheus_client.core import GaugeMetricFamily

    from core.version import version

    info = GaugeMetricFamily(BUILD_INFO, "The running Liaowang release (always 1).", labels=["version"])
    info.add_metric([version()], 1)
    return info


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


def serve(port: int, read: Callable[[], dict[str, float]], host: str = "127.0.0.1") -> None:
    """Serve registry(read) on host:port in a daemon thread (a worker's own /metrics)."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=host, registry=registry(read))
    except OSError as exc:  # another worker of this host has the port: it serves the same host-wide totals
        log.info("metrics port %s not opened (%s): another worker on this host serves it", port, exc.strerror)
        return
    log.info("metrics served on %s:%s", host, port)
