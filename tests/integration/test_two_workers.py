"""Two real worker processes on one database and one Redis never send one reminder twice (and lose none); the sweep
never doubles a delivery job that is still waiting."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import redis
from rq import Queue, Worker
from sqlalchemy import func, insert, select

from cli.sandbox_cmd import directory
from core import clock
from core.db import make_engine
from core.policy import parse_policy
from jobs.queueing import URGENT
from models import Clock, ClockFiring, Item, OutboxMessage, Person, Unit
from models.state import OutboxState
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.harness import ORG, Stack
from tests.integration.test_processes import ROOT, child_env, liaowang, write_config
from workflow.engine.clocks import snapshot
from workflow.people.org import load_org_file

UNITS = 40  # one lead each; 5 reminders per lead stay well inside the per-person send budget (20 a minute)
CLOCKS = 200
AHEAD = timedelta(seconds=4)  # the shared instant, after both workers have started on the test's clock


def _org(tmp: Path) -> Path:
    """The demo organisation plus UNITS units with one lead each."""
    extra = "".join(
        f'\n[[units]]\nkey = "tw{i:02d}"\nname = "双机{i:02d}队"\nkind = "department"\nsupervisor = "lisi"\n'
        f'\n[[people]]\nuserid = "twlead{i:02d}"\nname = "双机队长{i:02d}"\nunit = "tw{i:02d}"\nroles = ["unit_lead"]\n'
        for i in range(UNITS)
    )
    path = tmp / "org.toml"
    path.write_text(ORG.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def _seed(database_url: str) -> dict[str, str]:
    """Insert CLOCKS items, each with an open clock whose reminder falls due at one shared instant; code -> lead."""
    at, now = clock.now() + AHEAD, clock.now()
    policy = parse_policy({})
    snap = snapshot(policy, policy.clocks["handling_report"])  # its reminder is a plain text: repeats would show
    engine = make_engine(database_url)
    expected: dict[str, str] = {}
    with engine.begin() as c:
        units = {k: uid for k, uid in c.execute(select(Unit.key, Unit.id).where(Unit.key.like("tw%")))}
        reporter = c.execute(select(Person.id).where(Person.userid == "zhangsan")).scalar_one()
        for i in range(CLOCKS):
            code = f"TW-{i:04d}"
            item_id = c.execute(
                insert(Item).returning(Item.id),
                {"code": code, "title": "双机提醒", "text": "测试", "source": "discovery", "grade": "general",
                 "state": "dispatched", "version": 1, "reporter_id": reporter, "reported_at": now,
                 "dispatched_at": now, "updated_at": now},
            ).scalar_one()  # fmt: skip
            c.execute(
                insert(Clock),
                {"item_id": item_id, "kind": "handling_report", "label": "处置报告", "event": "handling_report",
                 "owner": "lead_unit", "owner_unit_id": units[f"tw{i % UNITS:02d}"], "grade": "general",
                 "started_at": now, "nudge_at": at, "warn_at": at + timedelta(days=1), "due_at": at + timedelta(days=1),
                 "state": "open", "level": 0, "next_name": "nudge", "next_at": at, "policy": snap, "extensions": 0},
            )  # fmt: skip
            expected[code] = f"twlead{i % UNITS:02d}"
    engine.dispose()
    return expected


def _reminders(emu: SandboxClient) -> Counter[tuple[str, str]]:
    """(recipient, item code) of every 【提醒】 the emulated WeCom delivered."""
    got: Counter[tuple[str, str]] = Counter()
    for r in emu.inbox():
        body = json.dumps(r["body"], ensure_ascii=False)
        if "【提醒】" in body:
            got[(r["userid"], body.split("【提醒】", 1)[1].split("《", 1)[0])] += 1
    return got


def _until(check: Callable[[], bool], timeout: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(logs.glob("worker-*.log")))
            raise AssertionError(f"timed out waiting for {what}; worker logs:\n{tail}")
        time.sleep(0.1)  # polling a condition with a deadline, not timing anything


def test_two_workers_send_each_reminder_due_at_one_instant_exactly_once(
    emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    org = _org(tmp_path)
    assert liaowang(cfg, "org", "import", str(org)).returncode == 0
    emu = SandboxClient(emulator.url)
    emu.reset()
    emu.people(directory(load_org_file(org)))
    expected = _seed(database_url)
    conn = redis.Redis.from_url(redis_url)
    env = child_env(cfg)  # both start at the test's clock, which then runs on past the shared instant
    workers = []
    for i in range(2):
        log = open(tmp_path / f"worker-{i}.log", "wb")  # noqa: SIM115 - the child owns it; read back on failure
        workers.append(
            subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT, stdout=log, stderr=log)
        )
    engine = make_engine(database_url)
    try:
        _until(lambda: Worker.count(connection=conn) == 2, 30, "both workers to register", tmp_path)
        want = {(lead, code) for code, lead in expected.items()}
        _until(lambda: set(_reminders(emu)) >= want, 60, f"{CLOCKS} reminders", tmp_path)

        def settled() -> bool:  # every outbox row sent and both queues empty: nothing more can arrive
            with engine.connect() as c:
                unsent = c.scalar(select(func.count()).where(OutboxMessage.state != OutboxState.sent))
            busy = Queue("liaowang", connection=conn).count + Queue(URGENT, connection=conn).count
            return not unsent and not busy

        _until(settled, 30, "the outbox to settle", tmp_path)
        assert all(w.poll() is None for w in workers), "both workers are still up"
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
    got = _reminders(emu)
    assert set(got) == want, "no reminder lost, none to anyone else"
    assert [k for k, n in got.items() if n != 1] == [], "every reminder arrived exactly once"
    assert emu.stats()["duplicates_suppressed"] == 0, "WeCom was never even asked twice"
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(ClockFiring)) == CLOCKS, "each threshold fired once"
        rows = c.execute(select(OutboxMessage.idem_key).where(OutboxMessage.idem_key.like("clock:%"))).scalars().all()
    engine.dispose()
    assert len(rows) == len(set(rows)) == CLOCKS, "one outbox row per reminder"


def test_the_sweep_leaves_a_waiting_delivery_job_alone_and_enqueues_a_lost_one_again(stack: Stack) -> None:
    from jobs.sweep import sweep
    from workflow.engine.outbox import emit
    from workflow.views import render

    rt = stack.rt
    with rt.sessions() as s, s.begin():
        row = emit(s, ["zhangsan"], render.text("扫尾测试"), "test:sweep-waiting", clock.now())
        assert row is not None
        oid = row.id
    queued = Queue("liaowang", connection=rt.redis)
    assert queued.job_ids.count(f"deliver-{oid}") == 1, "enqueued when its transaction committed"
    clock.advance(timedelta(seconds=10))  # past the sweep's grace: the row looks overdue
    sweep()
    assert queued.job_ids.count(f"deliver-{oid}") == 1, "a job still waiting on its queue is not enqueued twice"
    rt.redis.lrem(queued.key, 0, f"deliver-{oid}")  # a worker took it off the queue and died before running it
    sweep()
    assert queued.job_ids.count(f"deliver-{oid}") == 1, "a job taken and lost is enqueued again"
    rt.redis.flushall()  # the job is lost with Redis
    sweep()
    assert queued.job_ids.count(f"deliver-{oid}") == 1, "a lost job is enqueued again"
    stack.drain()
    assert sum("扫尾测试" in t for t in stack.texts("zhangsan")) == 1
