"""Capture a web page as evidence (网页取证): [evidence] settings and the resource-limited browser process.

`capture(url, settings)` checks the link (http/https only), then runs core.capturechild in a new process group with
its own empty temporary HOME/profile and environment, under setrlimit limits the child sets on itself first (data
memory, CPU seconds, open files, file size, no core dumps; its browser inherits them) and a total wall-clock limit
after which the whole group is killed. The child's browser
reaches the network only through a proxy that refuses private/loopback/link-local addresses (also after a redirect and
for every sub-resource) unless `allow_private` lists them, and stops at `max_mb`. What comes back is read, checked
and returned as bytes; the caller stores it (core.storage) with its sha256. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("png", "html", "pdf")
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
CONTENT_TYPES = {"png": "image/png", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
TRANSIENT = ("timeout", "network", "crash", "killed", "empty")  # worth another attempt; refusals are final
NOTES = {
    "not_loaded": "网页在时限内未加载完毕，按时限到达时的内容取证",
    "html_cut": "HTML 超过大小上限，已截断",
    "png_cut": "网页过长，截图只保留上部",
    "cut": "网页内容超过大小上限，超出部分未下载",
}


@dataclass(frozen=True)
class Settings:
    """[evidence]: on or off, the time and size limits, the browser, and the private networks allowed (tests)."""

    enabled: bool = False
    timeout: float = 60.0  # seconds for the whole capture, browser start to the last file
    load_timeout: float = 30.0  # seconds for the page to answer and load; then it is captured as it is
    max_mb: float = 10.0  # bytes the page may download, and the largest HTML kept
    memory_mb: int = 1024  # RLIMIT_DATA of every process of the capture
    attempts: int = 3  # captures of one link in all (a refusal is never tried again)
    chromium: str = "/usr/bin/chromium"
    sandbox: bool = True  # Chromium's own sandbox (needs unprivileged user namespaces; never available to root)
    allow_private: tuple[str, ...] = ()

    @property
    def max_bytes(self) -> int:
        """max_mb in bytes."""
        return int(self.max_mb * 1024 * 1024)


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() not in ("0", "false", "no", "off", "")


def settings(raw: dict[str, Any]) -> Settings:
    """[evidence] of the configuration (environment already applied); raise ValueError naming the bad key."""
    sec = raw.get("evidence", {}) or {}
    allow = sec.get("allow_private", [])
    allow = [a.strip() for a in allow.split(",") if a.strip()] if isinstance(allow, str) else list(allow)
    try:
        for net in allow:
            ipaddress.ip_network(str(net), strict=False)
    except ValueError:
        raise ValueError(f'[evidence] allow_private 须是网段列表，如 ["127.0.0.0/8"]，现在是 {allow!r}') from None
    try:
        out = Settings(
            enabled=_flag(sec.get("enabled", False)),
            timeout=float(sec.get("timeout", 60)),
            load_timeout=float(sec.get("load_timeout", 30)),
            max_mb=float(sec.get("max_mb", 10)),
            memory_mb=int(sec.get("memory_mb", 1024)),
            attempts=int(sec.get("attempts", 3)),
            chromium=str(sec.get("chromium") or "/usr/bin/chromium"),
            sandbox=_flag(sec.get("sandbox", True)),
            allow_private=tuple(str(a) for a in allow),
        )
    except (TypeError, ValueError):
        raise ValueError("[evidence] timeout、load_timeout、max_mb、memory_mb、attempts 须是数字") from None
    if not (0 < out.load_timeout < out.timeout and out.max_mb > 0 and out.memory_mb >= 256 and out.attempts >= 1):
        raise ValueError("[evidence] 须 0 < load_timeout < timeout，max_mb > 0，memory_mb ≥ 256，attempts ≥ 1")
    return out


@dataclass
class Result:
    """One capture: the files by kind (png, html, pdf) or why there are none, and what the page said."""

    ok: bool
    kind: str = ""  # "" when ok; else refused, scheme, timeout, network, download, crash, killed, empty
    reason: str = ""  # Chinese, shown to the office as 取证失败：<reason>
    files: dict[str, bytes] = field(default_factory=dict)
    final_url: str = ""
    status: int = 0
    title: str = ""
    notes: list[str] = field(default_factory=list)  # Chinese remarks (cut, not fully loaded, refused parts)

    @property
    def transient(self) -> bool:
        """Whether trying again later may help."""
        return not self.ok and self.kind in TRANSIENT


def check_url(url: str) -> str | None:
    """Why url may not be captured (Chinese), or None: only http and https links with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return f"只取证 http/https 网页，不打开 {parts.scheme or '无协议'} 链接"
    if not parts.hostname:
        return "链接没有网址主机"
    return None


def limits(settings: Settings) -> dict[str, int]:
    """The setrlimit values the child sets on itself before anything else (so its browser inherits them)."""
    return {
        "RLIMIT_DATA": settings.memory_mb * 1024 * 1024,
        "RLIMIT_CPU": int(settings.timeout * 2) + 5,
        "RLIMIT_NOFILE": 1024,
        "RLIMIT_FSIZE": max(256 * 1024 * 1024, 4 * settings.max_bytes),
        "RLIMIT_CORE": 0,
    }


def _env(home: Path) -> dict[str, str]:
    """The child's whole environment: nothing of the parent's (no secrets, no proxies), its own HOME and temp."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _run(request: dict[str, Any], settings: Settings, home: Path) -> dict[str, Any]:
    """Run the child with request on stdin; kill its whole process group at the time limit."""
    proc = subprocess.Popen(  # noqa: S603 - our own module, our interpreter
        [sys.executable, "-m", "core.capturechild"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=home,
        env=_env(home),
        start_new_session=True,  # its own process group, killed as one
    )
    try:
        out, _ = proc.communicate(json.dumps(request).encode(), timeout=settings.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, home)
        return {"ok": False, "kind": "killed", "reason": f"取证超过总时限 {settings.timeout:g} 秒，已中止"}
    finally:
        _kill_group(proc, home)  # the browser's own children, should any outlive the child
    lines = out.decode("utf-8", "replace").strip().splitlines()
    try:
        return dict(json.loads(lines[-1]))
    except (IndexError, ValueError):
        return {"ok": False, "kind": "crash", "reason": f"取证进程异常退出（代码 {proc.returncode}）"}


def _kill_group(proc: subprocess.Popen[bytes], home: Path) -> None:
    """SIGKILL the capture: its process group and every process carrying its HOME (the browser puts itself and its
    crash handlers in sessions of their own); return once none is alive."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while (left := _members(home)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _members(home: Path) -> list[int]:
    """The living (not zombie) processes whose environment names this capture's HOME, from /proc."""
    mark, found = f"HOME={home}\0".encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (
                mark in (entry / "environ").read_bytes()
                and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
            ):
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # it ended meanwhile, or is not ours to read
    return found


def _read(out: Path, got: dict[str, Any], settings: Settings, notes: list[str]) -> dict[str, bytes]:
    """The files the child wrote, each checked by content and size (a PNG or PDF over the limit is dropped)."""
    files: dict[str, bytes] = {}
    cap = max(settings.max_bytes, 64 * 1024 * 1024)
    for kind, name in (got.get("files") or {}).items():
        path = out / Path(str(name)).name
        if kind not in KINDS or not path.is_file():
            continue
        if path.stat().st_size > (settings.max_bytes if kind == "html" else cap):
            notes.append(f"{kind.upper()} 超过大小上限，未保存")
            continue
        data = path.read_bytes()
        if kind in MAGIC and not data.startswith(MAGIC[kind]):
            notes.append(f"{kind.upper()} 文件不完整，未保存")
            continue
        files[kind] = data
    return files


def capture(url: str, settings: Settings) -> Result:
    """Capture url in a separate, limited browser process; return its files or why not (never raises for the page)."""
    if why := check_url(url):
        return Result(ok=False, kind="scheme", reason=why)
    home = Path(tempfile.mkdtemp(prefix="liaowang-capture-"))
    try:
        out = home / "out"
        out.mkdir()
        request = {
            "url": url.strip(),
            "out": str(out),
            "allow": list(settings.allow_private),
            "max_bytes": settings.max_bytes,
            "load_timeout": settings.load_timeout,
            "chromium": settings.chromium,
            "sandbox": settings.sandbox,
            "limits": limits(settings),
        }
        got = _run(request, settings, home)
        notes = [NOTES[n] for n in got.get("notes", []) if n in NOTES]
        if got.get("cut"):
            notes.append(NOTES["cut"])
        if got.get("ok") and (refused := got.get("refused")):
            notes.append(f"已拒绝 {len(refused)} 个指向内网或本机地址的子资源")
        files = _read(out, got, settings, notes) if got.get("ok") else {}
        if got.get("ok") and not files:
            return Result(ok=False, kind="empty", reason="网页打开了，但截图、HTML 与 PDF 都没能保存", notes=notes)
        return Result(
            ok=bool(got.get("ok")),
            kind=str(got.get("kind", "")),
            reason=str(got.get("reason", ""))[:180],
            files=files,
            final_url=str(got.get("final_url", ""))[:2000],
            status=int(got.get("status") or 0),
            title=str(got.get("title", ""))[:200],
            notes=notes,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
