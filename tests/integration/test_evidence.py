"""网页取证 (issue 25 item 3): every link of a new item is opened in a separate, limited headless Chromium and kept as
a full-page PNG, the HTML and a PDF with sha256 and fetch time; the case file shows them, the archive package holds
them. Pages come from a tiny HTTP server of the test's own on loopback (allowed by config, as a test must); every
other private address stays refused: a redirect to 10.0.0.1, a picture on 169.254.169.254."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import re
import threading
import unicodedata
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from core import capture as capmod
from core.config import ConfigError, config_from_dict
from jobs.archive import build_archive
from jobs.evidence import announce, capture_due, evidence_loop
from models import Item
from models.evidence import Capture, CaptureState
from tests.browser.conftest import chromium_path
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_casefile import text_of
from tests.integration.test_intake import SOURCES, body_of, push
from tests.integration.test_record import POLICY, archived

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="网页取证测试跳过：找不到 Chromium（Debian 的 chromium 软件包）"
)
TALL = 2600  # px: taller than the 900 px window, so a full-page screenshot is needed to see the bottom block
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>取证测试页</title></head>
<body style="margin:0;background:#ffffff">
<div style="height:300px;background:#ff0000"></div>
<h1>网传某商户被执法人员推搡</h1><p>原帖正文：现场视频已被转发。</p>
<img src="http://169.254.169.254/latest/meta-data/photo.png" alt="">
<div style="height:{TALL - 700}px"></div>
<div style="height:200px;background:#0000ff"></div>
</body></html>""".encode()
HUGE = 30 * 1024 * 1024
LIMITS = {"timeout": 25, "load_timeout": 4, "max_mb": 2, "attempts": 1}


class Site:
    """The test's web server: a normal page, redirects to private and file: targets, a 30 MB page, a page that
    never answers, and one that never stops loading. Held responses end when the test does (stop)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                route = getattr(site, "page_" + self.path.strip("/").replace("-", "_").split("?")[0], None)
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the capture cut the page off
                    route(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _head(h: BaseHTTPRequestHandler, length: int | None, status: int = 200, **headers: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Connection", "close")
        if length is not None:
            h.send_header("Content-Length", str(length))
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.end_headers()

    def page_page(self, h: BaseHTTPRequestHandler) -> None:
        self._head(h, len(PAGE))
        h.wfile.write(PAGE)

    def page_to_private(self, h: BaseHTTPRequestHandler) -> None:
        self._head(h, 0, 302, Location="http://10.0.0.1/admin")

    def page_to_metadata(self, h: BaseHTTPRequestHandler) -> None:
        self._head(h, 0, 302, Location="http://169.254.169.254/latest/meta-data/")

    def page_to_file(self, h: BaseHTTPRequestHandler) -> None:
        self._head(h, 0, 302, Location="file:///etc/passwd")

    def page_huge(self, h: BaseHTTPRequestHandler) -> None:
        """30 MB of HTML, announced as such."""
        self._head(h, HUGE)
        h.wfile.write('<!doctype html><html><head><meta charset="utf-8"><title>超大页面</title></head><body>'.encode())
        line = ("<p>" + "超大页面的一行文字。" * 20 + "</p>\n").encode()
        sent = 0
        while sent < HUGE - 100 and not self.stop.is_set():
            h.wfile.write(line)
            sent += len(line)

    def page_slow(self, h: BaseHTTPRequestHandler) -> None:
        """Answers nothing until the test ends."""
        self.stop.wait(60)

    def page_endless(self, h: BaseHTTPRequestHandler) -> None:
        """Shows its text at once, then never finishes: a line every 0.2 s, without end."""
        self._head(h, None)
        h.wfile.write('<!doctype html><html><head><meta charset="utf-8"><title>没完没了</title></head><body>'.encode())
        h.wfile.write("<h1>一直在加载的页面</h1>".encode())
        h.wfile.flush()
        while not self.stop.wait(0.2):
            h.wfile.write(b"<span>.</span>\n")
            h.wfile.flush()


@pytest.fixture()
def site() -> Iterator[Site]:
    """The test's own web server on loopback."""
    s = Site()
    yield s
    s.close()


def evidence_cfg(**more: Any) -> dict[str, Any]:
    """[evidence] on, loopback allowed (the test's server is there), short limits."""
    return {"evidence": {"enabled": True, "allow_private": ["127.0.0.0/8"], "chromium": CHROMIUM, **LIMITS, **more}}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """H5 pages and 网页取证 on."""
    return make_stack(pages=True, extra=evidence_cfg())


def report(st: Stack, *urls: str) -> str:
    """zhangsan reports an item with these links; return its 编号."""
    st.say("zhangsan", "上报 网传某商户被执法人员推搡 " + " ".join(urls))
    found = re.search(r"YQ-\d{8}-\d{3}", st.reply("zhangsan"))
    assert found, st.reply("zhangsan")
    return found.group(0)


def captures_of(st: Stack, code: str) -> list[Capture]:
    with st.rt.sessions() as s:
        item = s.scalars(select(Item).where(Item.code == code)).one()
        rows = list(s.scalars(select(Capture).where(Capture.item_id == item.id).order_by(Capture.id)))
        for r in rows:
            _ = list(r.files)
        s.expunge_all()
        return rows


def stored_bytes(st: Stack, name: str) -> bytes:
    return (st.rt.config.storage_dir / name).read_bytes()


def case_file(st: Stack, code: str) -> tuple[Browser, str, str]:
    """The office's case file page: (browser, html, text as read)."""
    office = Browser(st)
    page = office.login("chenqi", f"/h5/item/{code}")
    assert page.status_code == 200
    return office, page.text, text_of(page.text)


def test_a_reported_page_is_kept_as_png_html_and_pdf_with_hashes_shown_and_downloadable(st: Stack, site: Site) -> None:
    code = report(st, f"{site.url}/page")
    [pending] = captures_of(st, code)
    assert pending.state == CaptureState.pending, "asked for when the link was recorded"
    _, _, text = case_file(st, code)
    assert "正在取证，请稍后刷新" in text

    outcome = capture_due(st.rt)
    assert list(outcome.values()) == ["stored"]
    [cap] = captures_of(st, code)
    assert cap.state == CaptureState.stored
    assert cap.page_title == "取证测试页"
    assert cap.fetched_at is not None
    assert "已拒绝 1 个指向内网或本机地址的子资源" in (cap.notes or ""), "the 169.254.169.254 picture was refused"
    files = {f.kind: f for f in cap.files}
    assert set(files) == {"png", "html", "pdf"}
    for f in files.values():
        data = stored_bytes(st, f.stored_name)
        assert hashlib.sha256(data).hexdigest() == f.sha256
        assert f.size == len(data)
        assert f.fetched_at == cap.fetched_at
    html = stored_bytes(st, files["html"].stored_name).decode()
    assert "网传某商户被执法人员推搡" in html
    png = Image.open(io.BytesIO(stored_bytes(st, files["png"].stored_name))).convert("RGB")
    assert png.width == 1280
    assert png.height >= TALL - 100, "the whole page, not just the 900 px window"
    assert png.getpixel((640, 150)) == (255, 0, 0), "the red block at the top"
    assert png.getpixel((640, png.height - 100)) == (0, 0, 255), "the blue block at the very bottom"
    pdf = stored_bytes(st, files["pdf"].stored_name)
    assert pdf.startswith(b"%PDF-")
    words = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "网传某商户被执法人员推搡" in unicodedata.normalize("NFKC", words), "the PDF has the page's text"

    office, page, text = case_file(st, code)
    shown = text.split("\n网页取证\n", 1)[1].split("\n处置经过\n", 1)[0]
    assert f"{site.url}/page" in shown
    assert "已取证" in shown
    assert "取证时间" in shown
    assert "《取证测试页》" in shown
    for f in files.values():
        assert f"sha256 {f.sha256}" in shown
    links = re.findall(r'href="([^"]*/evidence/\d+)"', page)
    assert len(set(links)) == 3
    got = {office.get(link).headers["Content-Type"].split(";")[0]: office.get(link) for link in set(links)}
    assert got["image/png"].content == stored_bytes(st, files["png"].stored_name)
    assert "inline" in got["image/png"].headers["Content-Disposition"]
    html_dl = got["application/octet-stream"]
    assert html_dl.content == stored_bytes(st, files["html"].stored_name)
    assert "attachment" in html_dl.headers["Content-Disposition"], "a captured page never runs in our origin"
    assert "attachment" in got["application/pdf"].headers["Content-Disposition"]
    assert Browser(st).login("sunshi", f"/h5/item/{code}").status_code == 403
    assert capture_due(st.rt) == {}, "a stored capture is not taken again"


def test_a_redirect_to_a_private_address_is_refused_and_the_office_reads_why(st: Stack, site: Site) -> None:
    code = report(st, f"{site.url}/to-private", f"{site.url}/to-metadata", f"{site.url}/to-file")
    outcome = capture_due(st.rt)
    assert sorted(outcome.values()) == ["failed", "failed", "failed"], "one bad page never stops the others"
    caps = captures_of(st, code)
    assert all(c.state == CaptureState.failed and not c.files for c in caps)
    assert "10.0.0.1" in (caps[0].error or "")
    assert "已拒绝" in (caps[0].error or "")
    assert "169.254.169.254" in (caps[1].error or "")
    _, _, text = case_file(st, code)
    assert "取证失败：网址或其跳转指向内网或本机地址（10.0.0.1），已拒绝" in text
    assert "取证失败：网址或其跳转指向内网或本机地址（169.254.169.254），已拒绝" in text
    assert "取证失败：网页跳转到了不允许打开的地址（只取证 http/https 网页）" in text, "the redirect to file:"
    assert text.count("取证失败：") == 3
    with st.rt.sessions() as s:
        item = s.scalars(select(Item).where(Item.code == code)).one()
        assert item.state == "reported", "a failed capture never blocks the item"
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    assert "已交办" in st.reply("chenqi") or code in st.reply("chenqi")


def test_a_30_mb_page_is_cut_at_the_limit_and_kept(make_stack, site: Site) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(pages=True, extra=evidence_cfg(max_mb=1, timeout=50))  # laying out 1 MB of text takes a while
    code = report(st, f"{site.url}/huge")
    assert list(capture_due(st.rt).values()) == ["stored"]
    [cap] = captures_of(st, code)
    files = {f.kind: f for f in cap.files}
    assert "html" in files
    assert files["html"].size <= 1024 * 1024
    assert "网页内容超过大小上限，超出部分未下载" in (cap.notes or "")
    assert "超大页面的一行文字" in stored_bytes(st, files["html"].stored_name).decode("utf-8", "replace")
    _, _, text = case_file(st, code)
    assert "超过大小上限" in text


def test_a_page_that_never_answers_fails_on_time_and_one_that_never_stops_loading_is_kept_as_it_was(
    st: Stack, site: Site
) -> None:
    code = report(st, f"{site.url}/slow", f"{site.url}/endless")
    outcome = capture_due(st.rt)
    slow, endless = captures_of(st, code)
    assert outcome == {slow.id: "failed", endless.id: "stored"}
    assert slow.error == "4 秒内网页没有回应"
    assert {f.kind for f in endless.files} >= {"png", "html"}
    assert "网页在时限内未加载完毕，按时限到达时的内容取证" in (endless.notes or "")
    html = next(f for f in endless.files if f.kind == "html")
    assert "一直在加载的页面" in stored_bytes(st, html.stored_name).decode()
    _, _, text = case_file(st, code)
    assert "取证失败：4 秒内网页没有回应" in text


def _capture_processes() -> dict[int, str]:
    """The browser processes of captures running now (their profile is under a liaowang-capture- folder): limits."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"liaowang-capture-" in (proc / "cmdline").read_bytes():
                found[int(proc.name)] = (proc / "limits").read_text()
        except OSError:
            continue  # it ended meanwhile
    return found


def test_a_hung_capture_runs_limited_and_is_killed_whole_at_the_total_time_limit(site: Site) -> None:
    settings = capmod.Settings(
        enabled=True, timeout=8, load_timeout=7.9, max_mb=2, memory_mb=777, chromium=str(CHROMIUM),
        allow_private=("127.0.0.0/8",),
    )  # fmt: skip
    done: list[capmod.Result] = []
    worker = threading.Thread(target=lambda: done.append(capmod.capture(f"{site.url}/slow", settings)))
    worker.start()
    seen: dict[int, str] = {}
    while worker.is_alive() and not seen:  # the browser is up within a few seconds; the page never answers
        seen = {pid: lim for pid, lim in _capture_processes().items() if str(777 * 1024 * 1024) in lim}
        worker.join(0.1)
    worker.join()
    assert seen, "the browser ran under the capture's limits"
    for lim in seen.values():
        assert re.search(rf"Max data size\s+{777 * 1024 * 1024}\s+{777 * 1024 * 1024}", lim)
        assert re.search(r"Max open files\s+1024\s+1024", lim)
        assert re.search(r"Max core file size\s+0\s+0", lim)
    [got] = done
    assert (got.ok, got.kind) == (False, "killed")
    assert got.reason == "取证超过总时限 8 秒，已中止"
    assert got.transient, "a time-out may be tried again"
    assert not set(seen) & set(_capture_processes()), "the whole process group is gone, browser included"


def test_only_http_and_https_are_opened(site: Site) -> None:
    settings = capmod.Settings(enabled=True, chromium=str(CHROMIUM))
    for url, word in (("file:///etc/passwd", "file"), ("ftp://example.com/a.txt", "ftp"), ("javascript:alert(1)", "")):
        got = capmod.capture(url, settings)
        assert (got.ok, got.kind, got.transient) == (False, "scheme", False)
        assert got.reason.startswith("只取证 http/https 网页")
        assert word in got.reason
    got = capmod.capture(f"{site.url}/page", settings)  # loopback, not allowed here
    assert (got.ok, got.kind) == (False, "refused")
    assert "127.0.0.1" in got.reason
    port = site.url.rsplit(":", 1)[1]
    got = capmod.capture(f"http://localhost:{port}/page", settings)  # a name that resolves to loopback
    assert (got.ok, got.kind, got.transient) == (False, "refused", False)
    assert "localhost，即 127.0.0.1" in got.reason
    got = capmod.capture("https://169.254.169.254/latest/meta-data/", settings)  # an https tunnel is checked too
    assert (got.ok, got.kind) == (False, "refused")
    assert "169.254.169.254" in got.reason


def test_a_pushed_item_gets_its_link_captured_too(make_stack, site: Site) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra={"intake": {"sources": SOURCES}, **evidence_cfg()})
    resp = push(st, body_of(url=f"{site.url}/page"))
    assert resp.status_code == 201
    code = resp.json()["code"]
    assert list(capture_due(st.rt).values()) == ["stored"]
    [cap] = captures_of(st, code)
    assert {f.kind for f in cap.files} == {"png", "html", "pdf"}


def test_failures_worth_retrying_are_tried_again_a_bounded_number_of_times(make_stack, site: Site) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra=evidence_cfg(attempts=2))
    code = report(st, f"{site.url}/slow")
    assert list(capture_due(st.rt).values()) == ["retry"]
    [cap] = captures_of(st, code)
    assert (cap.state, cap.attempts) == (CaptureState.pending, 1)
    assert capture_due(st.rt) == {}, "not before its time"
    st.later(61)
    assert list(capture_due(st.rt).values()) == ["failed"]
    [cap] = captures_of(st, code)
    assert (cap.state, cap.attempts) == (CaptureState.failed, 2)
    st.later(3600)
    assert capture_due(st.rt) == {}, "given up: attempts are bounded"


def test_with_evidence_off_nothing_is_captured(make_stack, site: Site) -> None:  # type: ignore[no-untyped-def]
    st = make_stack()
    code = report(st, f"{site.url}/page")
    assert captures_of(st, code) == []
    assert capture_due(st.rt) == {}


def test_the_archive_package_holds_the_captures_with_their_hashes(make_stack, site: Site) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(pages=True, extra={"policy": POLICY, **evidence_cfg()})
    code = archived(st, f"网传某商户被执法人员推搡 {site.url}/page")
    assert list(capture_due(st.rt).values()) == ["stored"]
    with st.rt.sessions() as s:
        item_id = s.scalars(select(Item.id).where(Item.code == code)).one()
    build_archive(item_id)
    got = Browser(st)
    got.login("chenqi", f"/h5/item/{code}")
    package = zipfile.ZipFile(io.BytesIO(got.get(f"/h5/item/{code}/archive.zip").content))
    manifest = json.loads(package.read("manifest.json"))
    kept = [e for e in manifest["files"] if e["origin"] == "网页取证"]
    assert sorted(e["path"] for e in kept) == sorted(
        f"网页取证/{code}-网页取证1-{name}" for name in ("整页截图.png", "网页源码.html", "PDF.pdf")
    )
    for e in kept:
        data = package.read(e["path"])
        assert hashlib.sha256(data).hexdigest() == e["sha256"] == e["captured_sha256"]
        assert e["url"] == f"{site.url}/page"
        assert e["fetched_at"].endswith("+08:00")
    assert not manifest["missing"]


def test_the_evidence_settings_are_checked_and_settable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"wecom": {"corp_id": "x", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "a" * 43}}
    assert capmod.settings(config_from_dict(base).raw).enabled is False, "off unless a deployment turns it on"
    monkeypatch.setenv("LIAOWANG_EVIDENCE_ENABLED", "true")
    monkeypatch.setenv("LIAOWANG_EVIDENCE_MAX_MB", "3")
    monkeypatch.setenv("LIAOWANG_EVIDENCE_ALLOW_PRIVATE", '["127.0.0.0/8"]')
    got = capmod.settings(config_from_dict(base).raw)
    assert (got.enabled, got.max_mb, got.allow_private) == (True, 3, ("127.0.0.0/8",))
    monkeypatch.setenv("LIAOWANG_EVIDENCE_ALLOW_PRIVATE", "内网")
    with pytest.raises(ConfigError, match="allow_private"):
        config_from_dict(base)
    monkeypatch.delenv("LIAOWANG_EVIDENCE_ALLOW_PRIVATE")
    monkeypatch.setenv("LIAOWANG_EVIDENCE_LOAD_TIMEOUT", "90")
    with pytest.raises(ConfigError, match="load_timeout < timeout"):
        config_from_dict(base)


def test_the_worker_loop_captures_by_itself_and_says_at_start_up_whether_it_is_on(
    make_stack,  # type: ignore[no-untyped-def]
    site: Site,
    caplog: pytest.LogCaptureFixture,
) -> None:
    off = make_stack()
    with caplog.at_level(logging.INFO, logger="jobs.evidence"):
        assert announce(off.rt) is False
    assert "网页取证已关闭" in caplog.text
    off.close()
    st = make_stack(extra=evidence_cfg())
    with caplog.at_level(logging.INFO, logger="jobs.evidence"):
        assert announce(st.rt) is True
    assert "网页取证已开启" in caplog.text
    code = report(st, f"{site.url}/page")
    stop = threading.Event()
    loop = threading.Thread(target=evidence_loop, args=(st.rt, stop), daemon=True)
    loop.start()
    try:
        for _ in range(600):  # the loop's own polling; the test waits on its result, up to a minute
            if captures_of(st, code)[0].state != CaptureState.pending:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        loop.join(timeout=60)
    assert captures_of(st, code)[0].state == CaptureState.stored
