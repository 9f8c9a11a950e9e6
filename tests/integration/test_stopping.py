"""Ctrl-C stops everything: the demo and `liaowang web` leave no process and no bound port (real processes)."""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from sandbox.client import SandboxClient
from tests.integration.test_processes import ROOT, _free_port, child_env, wait_healthz, write_config


def _marked(mark: str) -> set[int]:
    """Return the live processes (zombies excluded) whose environment carries this test's mark."""
    needle = f"LIAOWANG_TEST_MARK={mark}".encode()
    found = set()
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in env.read_bytes().split(b"\0") and " Z " not in (env.parent / "stat").read_text():
                found.add(int(env.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _gone(mark: str, ports: tuple[int, ...], timeout: float = 15) -> None:
    """Fail unless every marked process has exited and every port is free within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _marked(mark) and all(_port_free(p) for p in ports):
            return
        time.sleep(0.1)  # polling for processes to exit, with a deadline
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120] for pid in _marked(mark)}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    busy = [p for p in ports if not _port_free(p)]
    raise AssertionError(f"left behind: processes {left}, ports {busy}")


class Demo:
    """`liaowang demo` started as a terminal starts a foreground job: the leader of its own process group."""

    def __init__(self, tmp: Path) -> None:
        self.mark, self.data = uuid.uuid4().hex, tmp
        self.port, self.sport = _free_port(), _free_port()
        env = child_env(LIAOWANG_TEST_MARK=self.mark)
        env.pop("LIAOWANG_CONFIG", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "demo",
                "--no-browser",
                "--port",
                str(self.port),
                "--sandbox-port",
                str(self.sport),
                "--data-dir",
                str(tmp / "demo"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._seen:
                self.lines.append(raw.decode(errors="replace"))
                self._seen.notify_all()

    def wait_line(self, words: str, timeout: float = 60) -> None:
        """Wait until the demo printed a line containing words."""
        with self._seen:
            if not self._seen.wait_for(
                lambda: any(words in ln for ln in self.lines) or self.proc.poll() is not None, timeout
            ):
                raise AssertionError(f"the demo never printed {words!r}:\n{''.join(self.lines)}")
        assert any(words in ln for ln in self.lines), "".join(self.lines)

    def ctrl_c(self, times: int = 1) -> None:
        """Do what a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
        for _ in range(times):
            os.killpg(self.proc.pid, signal.SIGINT)

    def stopped(self) -> str:
        """Wait for the demo to exit and leave nothing behind; return what it printed."""
        self.proc.wait(20)
        _gone(self.mark, (self.port, self.sport))
        return "".join(self.lines)


@pytest.fixture()
def start_demo(tmp_path: Path) -> Iterator[Callable[[], Demo]]:
    """Start demos in tmp_path; whatever a failing test left running is killed afterwards."""
    started: list[Demo] = []

    def start() -> Demo:
        started.append(Demo(tmp_path / f"d{len(started)}"))
        return started[-1]

    yield start
    for demo in started:
        for pid in _marked(demo.mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _open_like_a_browser(url: str) -> requests.Response:
    """Open url as a desktop browser does (cookies, redirects, HTML wanted); log in as 陈七 where asked who."""
    browser = requests.Session()
    browser.trust_env = False
    browser.headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
    page = browser.get(url, timeout=10)
    if "以谁的身份打开" in page.text:
        pick = re.search(r'href="([^"]*userid=chenqi[^"]*)"', page.text)
        assert pick is not None, page.text
        page = browser.get(urljoin(page.url, html.unescape(pick.group(1))), timeout=10)
    return page


def test_ctrl_c_while_idle_stops_every_process_and_frees_the_ports(start_demo: Callable[[], Demo]) -> None:
    demo = start_demo()
    demo.wait_line("瞭望演示已启动")
    urls = set(re.findall(r"http://127\.0\.0\.1:\d+[\w/?=&.%-]*", "".join(demo.lines)))
    assert len(urls) >= 5, urls
    for url in sorted(urls):  # every address the demo prints opens in a plain desktop browser, in Chinese
        page = _open_like_a_browser(url)
        assert page.status_code == 200, f"{url} → {page.status_code} {page.text[:200]}"
        assert re.search(r"[\u4e00-\u9fff]", page.text), f"{url} shows no Chinese: {page.text[:200]}"
    board = _open_like_a_browser(f"http://127.0.0.1:{demo.port}/h5/board")
    assert "舆情看板" in board.text, board.text[:300]
    demo.ctrl_c()
    out = demo.stopped()
    assert demo.proc.returncode == 0
    assert "演示已停止" in out


@pytest.mark.parametrize("moment", ["准备数据库", "启动内置 Redis", "应用菜单已创建"])
def test_ctrl_c_during_start_up_stops_what_was_started(start_demo: Callable[[], Demo], moment: str) -> None:
    demo = start_demo()
    demo.wait_line(moment)
    demo.ctrl_c()
    out = demo.stopped()
    assert "演示已停止" in out


def test_ctrl_c_under_load_and_twice_in_a_row_still_stops_everything(start_demo: Callable[[], Demo]) -> None:
    demo = start_demo()
    demo.wait_line("瞭望演示已启动")
    emu = SandboxClient(f"http://127.0.0.1:{demo.sport}")
    for i in range(20):
        emu.say("zhangsan", f"上报 停止测试 {i} https://example.cn/stop/{i}", wait=False)
    demo.ctrl_c(times=2)  # the second press arrives while the first is still being handled
    demo.stopped()


def test_a_second_demo_on_a_busy_port_says_so_in_one_line_and_exits(start_demo: Callable[[], Demo]) -> None:
    first = start_demo()
    first.wait_line("瞭望演示已启动")
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "demo",
            "--no-browser",
            "--port",
            str(first.port),
            "--sandbox-port",
            str(_free_port()),
            "--data-dir",
            str(first.data / "other"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode != 0
    assert f"端口 {first.port}" in second.stderr
    assert "--port" in second.stderr
    assert "Connection in use" not in second.stderr + second.stdout
    first.ctrl_c()
    first.stopped()


def test_liaowang_web_ends_on_one_sigterm_and_on_repeated_group_sigint(tmp_path: Path, redis_url: str) -> None:
    for how in ("SIGTERM", "SIGINT×3 to the group"):
        mark, port = uuid.uuid4().hex, _free_port()
        cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'w.db'}", redis_url, port)
        env = child_env(cfg, LIAOWANG_TEST_MARK=mark)
        web = subprocess.Popen(
            [sys.executable, "-m", "cli", "web", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wait_healthz(port, web)
        if how == "SIGTERM":
            web.send_signal(signal.SIGTERM)
        else:
            for _ in range(3):
                os.killpg(web.pid, signal.SIGINT)
        web.wait(15)
        _gone(mark, (port,))


def test_liaowang_web_on_a_busy_port_says_so_and_exits_non_zero(tmp_path: Path, redis_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'w.db'}", redis_url, port)
        out = subprocess.run(
            [sys.executable, "-m", "cli", "web", "--port", str(port)],
            cwd=ROOT,
            env=child_env(cfg),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"端口 {port}（127.0.0.1）已被占用：可能是上次启动的服务还没停，请先停掉它，或用 --port 换一个端口。"
    )
