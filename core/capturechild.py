"""The capture child (网页取证): open one page in headless Chromium and write its PNG, HTML and PDF to a folder.

Run only by core.capture, as `python -m core.capturechild` in its own process group under resource limits, with the
request as JSON on stdin; it prints one JSON result line. Every request of the browser (the page, each redirect,
every sub-resource, https tunnels) goes through a small proxy in this process that resolves the host itself, refuses
private, loopback, link-local and other non-public addresses (unless allowed) and connects to the address it checked,
so a redirect or a DNS answer cannot lead the browser inside. The proxy also stops the whole page at the byte budget.
It imports nothing of Liaowang's (core may not import upward, and the child must start fast).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import resource
import selectors
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REFUSED_HEADER = "X-Liaowang-Refused"  # the proxy's own answer: a private address refused
ERROR_HEADER = "X-Liaowang-Proxy-Error"  # the proxy's own answer: the host could not be resolved or reached
HEAD_LIMIT = 64 * 1024
VIEWPORT: Any = {"width": 1280, "height": 900}  # playwright's ViewportSize
MAX_HEIGHT = 12000  # px of a full-page screenshot; a taller page is cut there (noted)
MAX_PDF_PAGES = 40
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class Guard:
    """Which addresses the browser may reach, the bytes it may receive, and what was refused or cut."""

    allow: list[Network]
    budget: int
    received: int = 0
    cut: bool = False
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def public(self, ip: Address) -> bool:
        """Whether ip may be reached: a global unicast address, or one inside an allowed network."""
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        ip = mapped or ip
        if any(ip.version == n.version and ip in n for n in self.allow):
            return True
        return ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified

    def resolve(self, host: str, port: int) -> tuple[str | None, str, bool]:
        """(an address of host that may be reached, "", False) or (None, why not, whether it was refused as private)."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            return None, f"域名无法解析（{host}）", False
        addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        bad = [a for a in addrs if not self.public(a)]
        if bad or not addrs:
            shown = host if str(bad[0]) == host else f"{host}，即 {bad[0]}"
            return None, f"内网或本机地址（{shown}）", True
        return str(addrs[0]), "", False

    def spend(self, n: int) -> bool:
        """Count n bytes received; False once the page is over budget (everything is cut from then on)."""
        with self.lock:
            self.received += n
            if self.received > self.budget:
                self.cut = True
            return not self.cut

    def refuse(self, what: str) -> None:
        """Remember one refused request (the result lists them)."""
        with self.lock:
            if len(self.refused) < 50:
                self.refused.append(what)


def _read_head(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """(the request head up to the blank line, the bytes after it) or None for a bad or oversized request."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(8192)
        if not chunk or len(buf) > HEAD_LIMIT:
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def _pipe(a: socket.socket, b: socket.socket, guard: Guard) -> None:
    """Copy both ways until either side closes or the page is over budget (bytes from b count)."""
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select(timeout=30):
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                data = src.recv(65536)
                if not data:
                    return
                if src is b and not guard.spend(len(data)):
                    return
                key.data.sendall(data)
    finally:
        sel.close()


class _Proxy(socketserver.BaseRequestHandler):
    """One browser connection: CONNECT host:port (https) or an absolute http:// request, checked, then piped."""

    guard: Guard

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(30)
        got = _read_head(conn)
        if got is None:
            return
        head, rest = got
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", "", ""])[:3]
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host, port, path = host.strip("[]"), int(port_text or 443), ""
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                return _answer(conn, 502, ERROR_HEADER, "只允许 http/https")
            host, port = parts.hostname, parts.port or 80
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if self.guard.cut:
            return _answer(conn, 502, ERROR_HEADER, "超过大小上限")
        addr, why, private = self.guard.resolve(host, port)
        if addr is None:
            return self._refuse(conn, host, why) if private else _answer(conn, 502, ERROR_HEADER, why)
        try:
            upstream = socket.create_connection((addr, port), timeout=15)
        except OSError as exc:
            return _answer(conn, 502, ERROR_HEADER, f"连接失败（{host}：{type(exc).__name__}）")
        with upstream:
            if method == "CONNECT":
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                keep = [h for h in lines[1:] if h.split(":")[0].strip().lower() not in _HOP]
                upstream.sendall(
                    "\r\n".join([f"{method} {path} HTTP/1.1", *keep, "Connection: close", "", ""]).encode("latin-1")
                )
            if rest:
                upstream.sendall(rest)
            _pipe(conn, upstream, self.guard)

    def _refuse(self, conn: socket.socket, host: str, why: str) -> None:
        self.guard.refuse(why)
        _answer(conn, 403, REFUSED_HEADER, why)


def _answer(conn: socket.socket, status: int, header: str, why: str) -> None:
    """Answer the browser for the proxy itself; the reason travels hex-encoded in header (headers are latin-1)."""
    body = f"liaowang capture proxy: {status}".encode()
    conn.sendall(
        f"HTTP/1.1 {status} {'Forbidden' if status == 403 else 'Bad Gateway'}\r\nContent-Type: text/plain\r\n"
        f"{header}: {why.encode('utf-8').hex()}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


NET_ERRORS = (  # Chromium's error → (kind, what the office reads); refusals and downloads are not tried again
    ("ERR_UNSAFE_REDIRECT", "refused", "网页跳转到了不允许打开的地址（只取证 http/https 网页）"),
    ("ERR_UNSAFE_PORT", "refused", "网址的端口不允许访问"),
    ("Download is starting", "download", "链接是文件下载，不是网页"),
    ("ERR_TOO_MANY_REDIRECTS", "refused", "网页跳转次数过多"),
    ("ERR_CERT_", "network", "网站的安全证书无效"),
    ("ERR_SSL_", "network", "与网站建立加密连接失败"),
    ("ERR_TUNNEL_CONNECTION_FAILED", "network", "无法打开网页（域名无法解析或连接失败）"),
    ("ERR_NAME_NOT_RESOLVED", "network", "无法打开网页（域名无法解析）"),
    ("ERR_CONNECTION_REFUSED", "network", "网站拒绝连接"),
    ("ERR_CONNECTION_RESET", "network", "连接被网站中断"),
    ("ERR_EMPTY_RESPONSE", "network", "网站没有返回内容"),
    ("ERR_INTERNET_DISCONNECTED", "network", "取证的服务器无法访问互联网"),
)
_HOP = {"proxy-connection", "connection", "keep-alive", "proxy-authorization", "te", "upgrade"}


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_proxy(guard: Guard) -> int:
    """Serve the checking proxy on a free loopback port in daemon threads; return the port."""
    handler = type("Handler", (_Proxy,), {"guard": guard})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_address[1])


def _fail(kind: str, reason: str, guard: Guard, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "reason": reason, "refused": guard.refused, "cut": guard.cut, **extra}


def _height(page: Any) -> int:
    script = "Math.max(document.documentElement ? document.documentElement.scrollHeight : 0, document.body ? document.body.scrollHeight : 0)"  # noqa: E501
    return int(page.evaluate(script) or VIEWPORT["height"])


def _shots(page: Any, out: Path, req: dict[str, Any], guard: Guard, notes: list[str]) -> dict[str, str]:
    """Write page.html, page.png and page.pdf as far as each succeeds; return {kind: file name}."""
    files: dict[str, str] = {}
    limit = int(req["max_bytes"])
    try:
        html = page.content().encode("utf-8")
        if len(html) > limit:
            html = html[:limit]
            notes.append("html_cut")
        (out / "page.html").write_bytes(html)
        files["html"] = "page.html"
    except Exception as exc:  # noqa: BLE001 - one part failing must not lose the others
        notes.append(f"html_failed:{type(exc).__name__}")
    try:
        height = _height(page)
        clip = None
        if height > MAX_HEIGHT:
            clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_HEIGHT}
            notes.append("png_cut")
        page.screenshot(path=str(out / "page.png"), full_page=True, clip=clip, type="png", timeout=15000)
        files["png"] = "page.png"
    except Exception as exc:  # noqa: BLE001
        notes.append(f"png_failed:{type(exc).__name__}")
    try:
        page.emulate_media(media="screen")
        page.pdf(path=str(out / "page.pdf"), format="A4", print_background=True, page_ranges=f"1-{MAX_PDF_PAGES}")
        files["pdf"] = "page.pdf"
    except Exception as exc:  # noqa: BLE001
        notes.append(f"pdf_failed:{type(exc).__name__}")
    return files


def capture(req: dict[str, Any]) -> dict[str, Any]:
    """Open req["url"] through the checking proxy and write the captures under req["out"]; return the result."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    out = Path(req["out"])
    guard = Guard(allow=[ipaddress.ip_network(n, strict=False) for n in req["allow"]], budget=int(req["max_bytes"]))
    port = start_proxy(guard)
    load_ms = int(float(req["load_timeout"]) * 1000)
    notes: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=req["chromium"],
            headless=True,
            proxy={"server": f"http://127.0.0.1:{port}"},
            chromium_sandbox=bool(req.get("sandbox", True)) and os.geteuid() != 0,
            args=[
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-domain-reliability",
                "--no-pings",
            ],
        )
        context = browser.new_context(
            viewport=VIEWPORT,
            accept_downloads=False,
            service_workers="block",
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page, started = context.new_page(), time.monotonic()
        try:
            resp = page.goto(req["url"], wait_until="commit", timeout=load_ms)
        except PlaywrightTimeout:
            return _fail("timeout", f"{req['load_timeout']:g} 秒内网页没有回应", guard)
        except PlaywrightError as exc:
            if guard.refused:
                return _fail("refused", f"网址或其跳转指向{guard.refused[-1]}，已拒绝", guard)
            message = str(exc).splitlines()[0]
            known = next(((k, why) for code, k, why in NET_ERRORS if code in message), None)
            if known is not None:
                return _fail(known[0], known[1], guard)
            return _fail("network", f"无法打开网页（{message.removeprefix('Page.goto: ')[:100]}）", guard)
        if resp is not None and (why := resp.headers.get(REFUSED_HEADER.lower())):
            return _fail("refused", f"网址或其跳转指向{bytes.fromhex(why).decode('utf-8')}，已拒绝", guard)
        if resp is not None and (why := resp.headers.get(ERROR_HEADER.lower())):
            return _fail("network", f"无法打开网页（{bytes.fromhex(why).decode('utf-8')}）", guard)
        remaining = max(1000, load_ms - int((time.monotonic() - started) * 1000))
        try:
            page.wait_for_load_state("load", timeout=remaining)
            with contextlib.suppress(PlaywrightError):
                page.wait_for_load_state("networkidle", timeout=2000)
        except PlaywrightError:
            notes.append("not_loaded")
        files = _shots(page, out, req, guard, notes)
        result = {
            "ok": bool(files),
            "kind": "" if files else "empty",
            "reason": "" if files else "网页打开了，但截图、HTML 与 PDF 都没能保存",
            "final_url": page.url[:2000],
            "status": resp.status if resp is not None else 0,
            "title": (page.title() or "")[:200],
            "files": files,
            "notes": notes,
            "refused": guard.refused,
            "cut": guard.cut,
            "received": guard.received,
        }
        with contextlib.suppress(Exception):
            browser.close()
        return result


def limit(values: dict[str, int]) -> None:
    """Set the resource limits the parent asked for (soft = hard, so nothing below may raise them)."""
    for name, value in values.items():
        which = getattr(resource, name)
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def main() -> None:
    """Read the request from stdin, limit this process (and so its browser), capture, print one JSON result line."""
    req = json.loads(sys.stdin.read())
    limit(req.get("limits", {}))
    try:
        result = capture(req)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which records it on the item
        result = {
            "ok": False,
            "kind": "crash",
            "reason": f"浏览器出错（{type(exc).__name__}）",
            "detail": str(exc)[:300],
        }
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    os._exit(0)  # the proxy's threads and a stuck browser must not hold the process


if __name__ == "__main__":
    main()
