"""Shared benchmark plumbing: credentials, sealed callbacks, a lean keep-alive HTTP client, subprocesses."""

from __future__ import annotations

import itertools
import math
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot.crypto import signature

HOST = "127.0.0.1"
CREDS = {
    "corp_id": "wwbench0123456789a",
    "agent_id": 1000042,
    "secret": "bench-secret-0123456789abcdef",
    "token": "BenchTok3n",
    "encoding_aes_key": "BenchAesKey0123456789abcdefghijklmnopqrstuv",
}
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Sealer:
    """Builds encrypted, signed text-message callbacks exactly as WeCom posts them."""

    def __init__(self) -> None:
        key = WeChatCrypto(CREDS["token"], CREDS["encoding_aes_key"], CREDS["corp_id"]).key
        self._prp, self._next = PrpCrypto(key), 0
        self.prefix = str(10**11 + secrets.randbelow(9 * 10**11))  # MsgId = prefix + 6 digits, unique per run

    def parts(self, userid: str, text: str, n: int, ts: int | None = None) -> tuple[str, bytes]:
        """Return (path with the signed query, body) of message number n from userid, signed at ts (default now)."""
        corp, nonce = CREDS["corp_id"], str(secrets.randbelow(9 * 10**9) + 10**9)
        ts_s = str(int(time.time()) if ts is None else ts)
        inner = (
            f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]>"
            f"</FromUserName><CreateTime>{ts_s}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{self.prefix}{n:06d}</MsgId>"
            f"<AgentID>{CREDS['agent_id']}</AgentID></xml>"
        )
        encrypt = self._prp.encrypt(inner, corp)
        encrypt = encrypt.decode() if isinstance(encrypt, bytes) else encrypt
        sig = signature(str(CREDS["token"]), ts_s, nonce, encrypt)
        body = (
            f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><AgentID><![CDATA[{CREDS['agent_id']}]]>"
            f"</AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ).encode()
        return f"/wecom/callback?msg_signature={sig}&timestamp={ts_s}&nonce={nonce}", body

    def request(self, userid: str, text: str, n: int) -> bytes:
        """Return the whole HTTP request (bytes) for message number n from userid."""
        path, body = self.parts(userid, text, n)
        head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    def numbers(self, count: int) -> range:
        """Reserve count new message numbers (MsgIds new in this run) and return them."""
        start, self._next = self._next, self._next + count
        if self._next > 10**6:
            raise ValueError("at most a million callbacks per run")
        return range(start, start + count)

    def many(self, userids: list[str], text: str, count: int) -> list[tuple[str, bytes]]:
        """Return count (userid, request) pairs, senders taken in turn, with MsgIds new in this run."""
        return [(u, self.request(u, text, n)) for n, u in zip(self.numbers(count), itertools.cycle(userids))]


class Conn:
    """One keep-alive HTTP/1.1 connection that sends pre-built requests and reads Content-Length replies."""

    def __init__(self, port: int) -> None:
        self.port, self.sock, self.buf = port, None, b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((HOST, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = sock, b""
        return sock

    def close(self) -> None:
        """Close the socket if open."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def send(self, data: bytes) -> int:
        """Send one request and return the HTTP status; reconnect once if the server closed the connection."""
        for attempt in (0, 1):
            fresh = self.sock is None
            sock = self.sock or self._connect()
            try:
                sock.sendall(data)
                return self._read(sock)
            except (ConnectionError, OSError):
                self.close()
                if fresh or attempt:
                    raise
        raise ConnectionError("unreachable")

    def _read(self, sock: socket.socket) -> int:
        buf = self.buf
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("server closed the connection")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.lower().split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next((int(x.split(b":", 1)[1]) for x in lines if x.startswith(b"content-length:")), 0)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("server closed the connection mid-body")
            rest += chunk
        self.buf = rest[length:]
        if b"connection: close" in lines:
            self.close()
        return status


@dataclass
class Run:
    """What one load run measured."""

    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    exhausted: bool = False

    @property
    def ok(self) -> int:
        """Requests answered 200."""
        return self.statuses.get("200", 0)

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.ok / self.elapsed if self.elapsed else 0.0


def drive(port: int, requests: list[bytes], seconds: float, concurrency: int) -> Run:
    """Send requests over `concurrency` keep-alive connections until time or requests run out."""
    run, lock, counter = Run(), threading.Lock(), itertools.count()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        conn, lat, st = Conn(port), [], Counter()
        try:
            while time.perf_counter() < deadline:
                i = next(counter)
                if i >= len(requests):
                    run.exhausted = True
                    break
                t0 = time.perf_counter()
                try:
                    code = str(conn.send(requests[i]))
                except OSError as exc:
                    code = type(exc).__name__
                lat.append(time.perf_counter() - t0)
                st[code] += 1
        finally:
            conn.close()
            with lock:
                run.latencies.extend(lat)
                run.statuses.update(st)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    run.elapsed = time.perf_counter() - start
    return run


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of values in milliseconds."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))] * 1000


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a Python subprocess from the project root with output going to log."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )


def run_cli(env: dict[str, str], *argv: str, timeout: float = 300) -> None:
    """Run a liaowang command to completion with env, or raise with what it printed."""
    out = subprocess.run(
        [sys.executable, "-m", "cli", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise RuntimeError(f"liaowang {' '.join(argv)} failed:\n{out.stdout}{out.stderr}")


FAR = timedelta(days=1)  # warning and due of every bench clock: only the nudge (提醒) fires during a run


def clock_row(
    item_id: int, unit_id: int, at: datetime, now: datetime, snap: dict[str, Any], kind: str, label: str
) -> dict[str, Any]:
    """A bench clock (general grade, owed by the lead unit) whose nudge falls due at `at` and nothing else in a run."""
    return {
        "item_id": item_id, "kind": kind, "label": label, "event": kind, "owner": "lead_unit",
        "owner_unit_id": unit_id, "grade": "general", "started_at": now, "nudge_at": at, "warn_at": at + FAR,
        "due_at": at + FAR, "state": "open", "level": 0, "next_name": "nudge", "next_at": at, "policy": snap,
        "extensions": 0,
    }  # fmt: skip


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """Terminate a subprocess (SIGTERM, then SIGKILL after timeout) and reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_http(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Wait until something answers HTTP on port, or fail with the tail of the subprocess log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/"):
                    return
        except OSError:
            time.sleep(0.1)  # polling for a server to come up, not timing anything
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"server on port {port} did not come up:\n{tail}")
