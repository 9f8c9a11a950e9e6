"""Killing the worker mid-run and flushing Redis loses no threshold and duplicates none (real processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import select

from core import clock
from core.db import make_engine
from models.clock import Clock, ClockFiring
from sandbox.client import SandboxClient
from sandbox.render import describe
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG
from tests.integration.test_outages import _until
from tests.integration.test_processes import ROOT, _free_port, child_env, liaowang, wait_healthz, write_config

FAST = """
[policy]
start = "dispatched"
escalate_after = "2s"
escalate_every = "2s"
escalate_max = 3
[policy.clocks.first_report]
general = { due = "1h" }
[policy.clocks.written_report]
general = { due = "3h" }
"""


def _spawn(cfg: Path, *args: str, now: datetime | None = None) -> subprocess.Popen[bytes]:
    # the process starts its clock at the test's clock, or at `now` (time passed while it was down)
    env = child_env(cfg, now.isoformat() if now else "")
    log = open(cfg.parent / f"{args[0]}.log", "ab")  # noqa: SIM115 - the child owns it; read back on failure
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, cwd=ROOT, stdout=log, stderr=log)


def _ours(cfg: Path, keep: set[int]) -> set[int]:
    """Return the live processes started with this test's LIAOWANG_CONFIG, except keep and their children."""
    marker = f"LIAOWANG_CONFIG={cfg}".encode()
    found = set()
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in env.read_bytes().split(b"\0"):
                pid = int(env.parent.name)
                ppid = int((env.parent / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if pid not in keep and ppid not in keep:
                    found.add(pid)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _no_orphans(cfg: Path, keep: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (left := _ours(cfg, keep)) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for a process to exit, with a deadline
    assert not left, f"processes left behind by the killed worker: {left}"


def _fired(database_url: str, clock_id: int, name: str) -> bool:
    """Whether the clock's threshold name has fired (as the worker recorded it)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            q = select(ClockFiring.name).where(ClockFiring.clock_id == clock_id, ClockFiring.name == name)
            return conn.scalar(q) is not None
    finally:
        engine.dispose()


def test_kill_worker_and_flush_redis(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url, port, extra=FAST)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people([{"userid": u, "name": u} for u in ("zhangsan", "chenqi", "wangwu", "lisi", "liujiu", "zhouba")])
    emu.set_callback(f"http://127.0.0.1:{port}/wecom/callback")
    web, worker = _spawn(cfg, "web", "--port", str(port), "--workers", "1"), _spawn(cfg, "worker")
    try:
        wait_healthz(port, web)
        since = emu.cursor()
        emu.say("zhangsan", "上报 崩溃恢复测试")
        code = describe(emu.wait_for("zhangsan", since, timeout=20)[-1]).split("编号 ")[1].split("。")[0]
        since = emu.cursor()
        emu.say("chenqi", f"交办 {code} 执法一队 一般")
        emu.wait_for("wangwu", since, timeout=20, predicate=lambda r: r["msgtype"] == "template_card")
        worker.send_signal(signal.SIGKILL)  # mid-run: every threshold of the hour-long clock is still ahead
        worker.wait(10)
        _no_orphans(cfg, keep={web.pid})  # RQ's forked scheduler must not outlive its worker
        redis.Redis.from_url(redis_url).flushall()  # and every scheduled job is gone with Redis
        engine = make_engine(database_url)
        with engine.connect() as conn:
            assert not conn.scalars(select(ClockFiring.name)).all(), "nothing fired before the kill"
            first = conn.execute(select(Clock.id, Clock.due_at).where(Clock.kind == "first_report")).one()
            due = clock.as_utc(first.due_at)
        engine.dispose()
        # the worker comes back 3 s before the due time: nudge and warning are overdue, the rest still ahead
        worker = _spawn(cfg, "worker", now=due - timedelta(seconds=3))
        try:  # deadlines for a loaded CI machine, not sleeps: each returns as soon as its effect is there
            emu.wait_for("liujiu", since, timeout=90, predicate=lambda r: "第 2 级" in str(r["body"]))
            _until(lambda: _fired(database_url, first.id, "level3"), 90, "level 3 fired")
        except (TimeoutError, AssertionError):
            logs = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the escalation did not run to level 3; worker log:\n{logs}") from None
    finally:
        for p in (web, worker):
            p.terminate()
            p.wait(15)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        names = sorted(conn.scalars(select(ClockFiring.name).where(ClockFiring.clock_id == first.id)).all())
        others = conn.scalars(select(ClockFiring.name).where(ClockFiring.clock_id != first.id)).all()
    engine.dispose()
    assert names == ["due", "level2", "level3", "nudge", "warn"], "every threshold fired exactly once"
    assert not others, "the other clocks (hours away) fired nothing"
    wangwu = [describe(r) for r in emu.inbox("wangwu")]
    assert sum("提醒" in t for t in wangwu) == 0, "the reminder that passed while the worker was down stays silent"
    assert sum("即将超时" in t for t in wangwu) == 1, "the latest past threshold speaks for both"
    assert sum("的首报已于" in t for t in wangwu) == 1
    assert sum("第 1 级" in str(r["body"]) for r in emu.inbox("lisi")) == 1
    assert sum("第 2 级" in str(r["body"]) for r in emu.inbox("liujiu")) == 1
    assert not [r for r in emu.inbox("liujiu") if "第 3 级" in str(r["body"])], "one 督办 card per person per clock"
