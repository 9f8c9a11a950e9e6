"""A rolling restart under load refuses nothing: two real `liaowang web` (gunicorn) processes behind a proxy,
restarted one at a time while the emulator sends callbacks with WeCom's three tries. Every callback is answered 200,
stored once and handled (docs/upgrade.md). The proxy is the shipped deploy/nginx/liaowang.conf run by a real nginx
(its upstream and `proxy_next_upstream … non_idempotent`, TLS left out) when nginx is installed, and always a tiny
round-robin proxy in Python that does the same (passes a refused or failed request to the other process).
"""

from __future__ import annotations

import itertools
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import make_engine
from models import ProcessedCallback
from models.state import InboxState
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, write_config

USERS = ("zhangsan", "chenqi", "wangwu")  # three senders keep both processes busy
REFUSE = {502, 503}


@dataclass
class Proxy:
    """A tiny round-robin reverse proxy: each request goes to the next upstream; a connection error, a timeout or a
    502/503 sends the same request to the other one (as nginx's proxy_next_upstream). Counts what it passed on."""

    upstreams: list[str]
    passed_on: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.upstreams)))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, content = proxy.forward(self.path, body, self.headers.get("Content-Type", ""))
                self.send_response(status)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        """POST to the upstreams in turn until one answers with something other than a refusal."""
        with self.lock:
            first = next(self._turn)
        status, content = 502, b"no upstream answered"
        for n in range(len(self.upstreams)):
            base = self.upstreams[(first + n) % len(self.upstreams)]
            try:
                with requests.Session() as http:
                    http.trust_env = False
                    r = http.post(base + path, data=body, headers={"Content-Type": content_type}, timeout=(2, 5))
                status, content = r.status_code, r.content
            except requests.RequestException:
                status = 502
            if status not in REFUSE:
                break
            with self.lock:
                self.passed_on += 1
        return status, content


@dataclass
class Nginx:
    """The shipped site (deploy/nginx/liaowang.conf) under a real nginx: plain HTTP on a free port, our upstreams."""

    upstreams: list[int]
    folder: Path

    def __post_init__(self) -> None:
        port = _free_port()
        site = (ROOT / "deploy/nginx/liaowang.conf").read_text(encoding="utf-8")
        site = site.split("\nserver {\n    listen 80;")[0]  # the http → https redirect block is not needed here
        site = re.sub(r"^\s*ssl_.*$", "", site, flags=re.M).replace(
            "listen 443 ssl http2;", f"listen 127.0.0.1:{port};"
        )
        for old, new in zip(("127.0.0.1:5000", "127.0.0.1:5001"), self.upstreams, strict=True):
            site = site.replace(f"server {old} ", f"server 127.0.0.1:{new} ")
        log = self.folder / "error.log"
        temp = " ".join(f"{k}_temp_path {self.folder / k};" for k in ("client_body", "proxy"))
        (self.folder / "nginx.conf").write_text(
            f"pid {self.folder / 'nginx.pid'};\nerror_log {log} warn;\ndaemon off;\nevents {{}}\n"
            f"http {{ access_log off; {temp}\n{site}\n}}\n",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                requests.get(self.url + "/metrics", timeout=1)  # answered by nginx itself (403), no upstream asked
                return
            except requests.RequestException:
                time.sleep(0.05)  # waiting for nginx to bind, not timing anything
        raise AssertionError("nginx did not start")

    def count(self) -> int:
        """Requests nginx passed to the other upstream (its error log names each failed attempt)."""
        text = (self.folder / "error.log").read_text(encoding="utf-8", errors="replace")
        failed = r"connect\(\) failed|recv\(\) failed|upstream prematurely closed|upstream timed out"
        return len(re.findall(failed, text))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Web:
    """One `liaowang web` process on its own port."""

    port: int
    cfg: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "web", "--port", str(self.port), "--workers", "1", "--threads", "4"],
            env=child_env(self.cfg), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def ready(self, deadline: float = 60) -> None:
        """Wait until /readyz answers 200 (gunicorn bound and the app can serve), or fail if the process died."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            assert self.proc is not None
            assert self.proc.poll() is None, "liaowang web exited"
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)  # polling for a process to come up, not timing anything
        raise AssertionError(f"liaowang web on {self.port} not ready")

    def stop(self) -> None:
        """SIGTERM (what systemctl restart sends) and wait for the graceful exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Load:
    """Threads that keep sending callbacks through the emulator (each one a new message with WeCom's 3 tries)."""

    emu: SandboxClient
    sent: list[tuple[str, list[int | str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, userid: str) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            done = self.emu.say(userid, f"查询 YQ-20000101-{n:03d}")
            with self.lock:
                self.sent.append((str(done["msg_id"]), list(done["statuses"])))

    def count(self) -> int:
        with self.lock:
            return len(self.sent)


@dataclass
class Front:
    """The proxy in front of the two web processes: its URL and how many requests it passed to the other one."""

    url: str
    passed_on: Callable[[], int]
    stop: Callable[[], None]


def _front(kind: str, ports: list[int], folder: Path) -> Front:
    if kind == "nginx":
        if shutil.which("nginx") is None:
            pytest.skip("nginx not installed (Debian: apt-get install nginx-light); the Python proxy variant runs")
        folder.mkdir()
        ng = Nginx(ports, folder)
        return Front(ng.url, ng.count, ng.stop)
    proxy = Proxy([f"http://127.0.0.1:{p}" for p in ports])
    return Front(proxy.url, lambda: proxy.passed_on, proxy.server.shutdown)


@pytest.fixture(params=["python-proxy", "nginx"])
def deployment(
    request: pytest.FixtureRequest, emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[SandboxClient, list[Web], Front]]:
    """Two web processes, one worker and the proxy in front, against a fresh database."""
    ports = [_free_port(), _free_port()]
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, ports[0])
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    webs = [Web(p, cfg) for p in ports]
    for w in webs:
        w.start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=child_env(cfg), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": u, "name": u} for u in (*USERS, "lisi")])
    proxy = Front("", int, lambda: None)
    try:
        for w in webs:
            w.ready()
        proxy = _front(str(request.param), ports, tmp_path / "nginx")
        emu.set_callback(f"{proxy.url}/wecom/callback")
        yield emu, webs, proxy
    finally:
        proxy.stop()
        for w in webs:
            w.stop()
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _inbox(database_url: str, keys: set[str]) -> tuple[int, int]:
    """(callbacks stored, of them handled) among the test's messages."""
    engine = make_engine(database_url)
    with Session(engine) as s:
        rows = s.execute(select(ProcessedCallback.payload, ProcessedCallback.state)).all()
    engine.dispose()
    ours = [(p, st) for p, st in rows if str((p or {}).get("MsgId", (p or {}).get("msg_id", ""))) in keys]
    return len(ours), sum(1 for _, st in ours if st == InboxState.done)


def test_restarting_the_web_processes_one_at_a_time_under_load_refuses_nothing(
    deployment: tuple[SandboxClient, list[Web], Front], database_url: str
) -> None:
    emu, webs, proxy = deployment
    load = Load(emu)
    threads = [threading.Thread(target=load.run, args=(u,), daemon=True) for u in USERS]
    for t in threads:
        t.start()
    during = []
    try:
        for web in webs:  # the upgrade order of docs/upgrade.md: one web, wait for /readyz, then the next
            before = load.count()
            web.stop()
            web.start()
            web.ready()
            during.append(load.count() - before)
        before = load.count()
        while load.count() < before + 10:  # a little load after both restarts, on the new processes
            time.sleep(0.05)  # waiting for the load threads' progress, not timing anything
    finally:
        load.stop.set()
        for t in threads:
            t.join(60)
    assert all(n > 0 for n in during), f"callbacks were sent while each web restarted: {during}"
    assert proxy.passed_on() > 0, "a restarting process was met, and the request passed to the other one"
    refused = [(msg, statuses) for msg, statuses in load.sent if statuses[-1] != 200]
    assert refused == [], f"callbacks WeCom would have given up on: {refused[:5]}"
    retried = sum(1 for _, statuses in load.sent if len(statuses) > 1)  # a slow answer on a busy machine: not a loss
    keys = {msg for msg, _ in load.sent}
    assert len(keys) == len(load.sent)
    end = (
        time.monotonic() + 600
    )  # the worker drains a few thousand messages; on a shared, busy machine that takes a while
    stored, handled = _inbox(database_url, keys)
    while handled < len(keys) and time.monotonic() < end:
        time.sleep(0.2)  # waiting for the worker to drain the inbox, not timing anything
        stored, handled = _inbox(database_url, keys)
    assert stored == len(keys), f"every callback stored exactly once: {stored} of {len(keys)}"
    assert handled == len(keys), f"and handled: {handled} of {len(keys)}"
    print(
        f"rolling restart: {len(keys)} callbacks, {during} during the two restarts, "
        f"{proxy.passed_on()} passed on, {retried} needed WeCom's retry"
    )
