"""/metrics answers only the configured networks or the bearer token; a worker's metrics port stays on this machine."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, wait_healthz, write_config

TOKEN = "scrape-token-of-the-monitoring"


def _outside_address() -> str:
    """This machine's non-loopback IPv4 address (a connection to it comes from it), or skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            pytest.skip("no non-loopback interface")
        address = str(s.getsockname()[0])
    if address.startswith("127."):
        pytest.skip("no non-loopback interface")
    return address


@contextmanager
def _running(cfg: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "cli", *args], env=child_env(cfg), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _get(url: str, **headers: str) -> int:
    return requests.get(url, headers=headers, timeout=10).status_code


def test_metrics_answers_allowed_networks_and_the_token_only(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    outside, port = _outside_address(), _free_port()
    extra = f'[metrics]\nallow = ["127.0.0.0/8", "198.51.100.0/24"]\ntoken = "{TOKEN}"'
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, port, extra=extra)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    with _running(cfg, "web", "--host", "0.0.0.0", "--port", str(port), "--workers", "1") as web:  # noqa: S104
        wait_healthz(port, web)
        here, there = f"http://127.0.0.1:{port}/metrics", f"http://{outside}:{port}/metrics"
        assert _get(here) == 200
        assert "liaowang_inbox_pending" in requests.get(here, timeout=10).text
        assert _get(there) == 403, "a client outside the allowed networks is refused"
        assert _get(there, Authorization=f"Bearer {TOKEN}") == 200, "the token opens it from anywhere"
        assert _get(there, Authorization="Bearer guessed") == 403
        assert _get(here, Authorization="Bearer guessed") == 403, "a wrong token is refused, not ignored"
        assert _get(f"http://{outside}:{port}/healthz") == 200, "only /metrics is guarded"
        # through a reverse proxy on this machine: the last X-Forwarded-For entry is the client the proxy saw
        assert _get(here, **{"X-Forwarded-For": "198.51.100.7"}) == 200
        assert _get(here, **{"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}) == 403, "an internet client via nginx"
        assert _get(here, **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}) == 200, "what the client forged is moot"
        assert _get(there, **{"X-Forwarded-For": "127.0.0.1"}) == 403, "a forged header never widens access"


def test_by_default_loopback_reads_metrics_and_the_worker_port_binds_loopback_only(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    outside, port, worker_port = _outside_address(), _free_port(), _free_port()
    cfg = write_config(
        tmp_path, emulator.url, database_url, redis_url, port, extra=f"[metrics]\nworker_port = {worker_port}"
    )
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    with (
        _running(cfg, "web", "--port", str(port), "--workers", "1") as web,
        _running(cfg, "worker") as worker,
    ):
        wait_healthz(port, web)
        assert _get(f"http://127.0.0.1:{port}/metrics") == 200, "loopback is in the default networks"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(f"http://127.0.0.1:{worker_port}/metrics") == 200
                break
            except requests.ConnectionError:
                assert worker.poll() is None, "the worker died"
                assert time.monotonic() < deadline, "the worker's metrics port never opened"
                time.sleep(0.2)  # waiting for another process to bind, not timing anything
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{outside}:{worker_port}/metrics", timeout=5)
