"""Scale-out: N web and M worker processes on one PostgreSQL and one Redis; callbacks and thousands of thresholds."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from rq import Worker
from sqlalchemy import create_engine, insert, select, text

from bench import wrk
from bench.callback import write_config
from bench.common import CREDS, HOST, ROOT, Sealer, clock_row, drive, free_port, pct, run_cli, stop, wait_http
from cli.sandbox_cmd import directory
from core.policy import parse_policy
from core.redisconn import start_embedded, stop_embedded
from models import Clock, Item, Person, Unit
from sandbox.client import SandboxClient
from sandbox.server import serve
from sandbox.settings import EmulatorSettings
from workflow.engine.clocks import snapshot
from workflow.people.org import load_org_file

DEMO_ORG = ROOT / "cli" / "demo_org.toml"
TEXT = "帮助"
KIND = "handling_report"  # a clock whose reminder is a plain text (no card): a second delivery shows as a duplicate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    p.add_argument(
        "--db",
        default="postgresql://postgres@127.0.0.1:55434/postgres",
        help="a PostgreSQL server (any database on it): each pair gets a fresh database there, dropped afterwards",
    )
    p.add_argument("--pairs", default="1x1,2x2,4x4", help="WEBxWORKER pairs (default 1x1,2x2,4x4)")
    p.add_argument("--callbacks", type=int, default=3000, help="distinct signed text callbacks per pair (default 3000)")
    p.add_argument("--thresholds", type=int, default=2000, help="clock thresholds per pair (default 2000)")
    p.add_argument("--window", type=float, default=30.0, help="thresholds fall due over this many seconds (default 30)")
    p.add_argument("--senders", type=int, default=600, help="people sending the callbacks (default 600)")
    p.add_argument("--units", type=int, default=200, help="units, each with one lead who owes its clocks (default 200)")
    p.add_argument("--threads", type=int, default=8, help="gunicorn threads per web process (default 8)")
    p.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="longest wait for everything to be delivered (s, default 600)"
    )
    p.add_argument("--driver", choices=("wrk", "python"), default="wrk", help="load generator (default wrk)")
    p.add_argument(
        "--faults",
        type=float,
        default=0.0,
        help="share of WeCom calls that fail while the load runs (0.3: the chaos suite's mix of -1, 45009, 42001, "
        "HTTP 500, an answer 4 s late and a timeout before delivery; default 0)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (configs and process logs)")
    args = p.parse_args(argv)
    try:
        args.pair_list = [tuple(int(x) for x in part.lower().split("x")) for part in args.pairs.split(",") if part]
    except ValueError:
        p.error("--pairs takes WEBxWORKER pairs such as 1x1,2x2")
    if any(len(x) != 2 or min(x) < 1 for x in args.pair_list):
        p.error("--pairs takes WEBxWORKER pairs such as 1x1,2x2")
    if not args.db.startswith(("postgresql://", "postgresql+psycopg://")):
        p.error("--db must be a postgresql:// URL (scale-out needs a database server)")
    if not 0 <= args.faults < 1:
        p.error("--faults is a share of calls: 0 <= share < 1")
    if args.callbacks < 0 or args.thresholds < 1:
        p.error("--callbacks must be >= 0 (0: thresholds alone) and --thresholds >= 1")
    per_sender = -(-args.callbacks // args.senders)
    per_lead = -(-args.thresholds // args.units) * 60 / max(args.window, 60)
    if per_sender > 20 or per_lead > 20:
        p.error("keep each person under 20 messages a minute (the send budget): more --senders or --units")
    return args


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@dataclass
class Result:
    """What one (web, worker) pair measured."""

    web: int
    workers: int
    rate: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    stored: int = 0
    drain: float = float("nan")
    replies: int = 0
    reply_dupes: int = 0
    reminders: int = 0
    lateness: list[float] = field(default_factory=list)
    reply_lateness: list[float] = field(default_factory=list)  # seconds from the callback stored to the reply
    clean_replies: list[float] = field(default_factory=list)  # the same, for replies whose one call succeeded
    reply_delivery: list[float] = field(default_factory=list)  # seconds from the reply written to WeCom's receipt
    clean_delivery: list[float] = field(default_factory=list)  # the same, for replies whose one call succeeded
    fire_lateness: list[float] = field(default_factory=list)
    duplicated: int = 0
    lost: int = 0
    unsent: int = 0  # outbox rows not yet sent when --timeout ran out: late, not lost
    early: int = 0
    window: float = 0.0  # seconds over which the thresholds fell due
    delivered: int = 0  # messages WeCom received
    span: float = 0.0  # seconds from the start of the load to the last message received
    redis_ops: float = 0.0
    pg_commits: float = 0.0
    pg_conns: int = 0
    pg_rows: float = 0.0
    elapsed: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    emulator: dict[str, Any] = field(default_factory=dict)


def write_org(tmp: Path, senders: list[str], units: int) -> Path:
    """The demo organisation plus `units` units with one lead each and the senders (commentators of 执法一队)."""
    extra = []
    for i in range(units):
        extra.append(
            f'\n[[units]]\nkey = "sc{i:03d}"\nname = "规模{i:03d}队"\nkind = "department"\nsupervisor = "lisi"\n'
        )
    for i in range(units):
        extra.append(f'\n[[people]]\nuserid = "lead{i:03d}"\nname = "队长{i:03d}"\nunit = "sc{i:03d}"\n')
        extra.append('roles = ["unit_lead"]\n')
    for u in senders:
        extra.append(f'\n[[people]]\nuserid = "{u}"\nname = "{u}"\nunit = "team1"\nroles = ["commentator"]\n')
    path = tmp / "org.toml"
    path.write_text(DEMO_ORG.read_text(encoding="utf-8") + "".join(extra), encoding="utf-8")
    return path


class Pair:
    """One fresh database and Redis, N web processes (one gunicorn, N workers) and M `liaowang worker` processes."""

    def __init__(self, args: argparse.Namespace, web: int, workers: int, emulator: Any, tmp: Path) -> None:
        self.args, self.web_n, self.worker_n, self.emulator = args, web, workers, emulator
        self.tmp = tmp / f"{web}x{workers}"
        self.tmp.mkdir(parents=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.dbname = f"lw_scale_{uuid.uuid4().hex[:10]}"
        self.server = args.db
        admin = create_engine(_psycopg(args.db), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {self.dbname}"))
        admin.dispose()
        self.db_url = args.db.split("?")[0].rsplit("/", 1)[0] + "/" + self.dbname
        self.redis_url = start_embedded(self.tmp / "var")
        self.redis = redis.Redis.from_url(self.redis_url)
        self.cfg = write_config(self.tmp, self.db_url, self.redis_url, emulator.url)
        self.env = {**os.environ, "LIAOWANG_CONFIG": str(self.cfg)}
        for k in ("LIAOWANG_NOW", "LIAOWANG_NOW_SINCE"):  # every process runs on the real clock, as in production
            self.env.pop(k, None)
        self.engine = create_engine(_psycopg(self.db_url), pool_size=2)
        self.port = free_port()

    def cli(self, *argv: str) -> None:
        """Run a liaowang command to completion (or raise with its output)."""
        run_cli(self.env, *argv)

    def spawn(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        """Start a liaowang process with its output in a log file."""
        with open(self.tmp / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cli", *argv], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        """Start the web processes and the workers; return when the web answers and every worker registered."""
        web = self.spawn(
            "web", "web", "--port", str(self.port), "--workers", str(self.web_n), "--threads", str(self.args.threads)
        )
        for i in range(self.worker_n):
            self.spawn(f"worker-{i}", "worker")
        wait_http(self.port, web, self.tmp / "web.log", timeout=60)
        deadline = time.monotonic() + 60
        while Worker.count(connection=self.redis) < self.worker_n:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("workers did not start:\n" + self.log("worker-0")[-2000:])
            time.sleep(0.1)  # waiting for the workers to register, not timing anything

    def log(self, name: str) -> str:
        """The tail of a process log."""
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value from the pair's database."""
        with self.engine.connect() as c:
            return c.execute(text(sql), params).scalar_one()

    def close(self) -> None:
        """Stop the processes, Redis and drop the database."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            stop(p)
        self.engine.dispose()
        stop_embedded(self.tmp / "var")
        admin = create_engine(_psycopg(self.server), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)"))
        admin.dispose()


def add_clocks(pair: Pair, nudges: list[datetime], units: int) -> dict[str, tuple[str, datetime]]:
    """Insert one item and one open clock per nudge, owed by the lead of unit i mod units; return code -> (lead, at)."""
    policy = parse_policy({})
    snap, now = snapshot(policy, policy.clocks[KIND]), datetime.now(UTC)
    with pair.engine.connect() as c:
        unit_ids = {k: i for k, i in c.execute(select(Unit.key, Unit.id).where(Unit.key.like("sc%")))}
        reporter = c.execute(select(Person.id).where(Person.userid == "zhangsan")).scalar_one()
    expected: dict[str, tuple[str, datetime]] = {}
    with pair.engine.begin() as c:
        for lo in range(0, len(nudges), 2000):
            part = list(enumerate(nudges[lo : lo + 2000], lo))
            rows = [
                {
                    "code": f"SC-{i:06d}",
                    "title": "规模基准",
                    "text": "基准",
                    "source": "discovery",
                    "grade": "general",
                    "state": "dispatched",
                    "version": 1,
                    "reporter_id": reporter,
                    "reported_at": now,
                    "dispatched_at": now,
                    "updated_at": now,
                }
                for i, _at in part
            ]
            ids = c.execute(insert(Item).returning(Item.id, sort_by_parameter_order=True), rows).scalars().all()
            crow = []
            for iid, (i, at) in zip(ids, part, strict=True):
                unit = f"sc{i % units:03d}"
                expected[f"SC-{i:06d}"] = (f"lead{i % units:03d}", at)
                crow.append(clock_row(iid, unit_ids[unit], at, now, snap, KIND, "处置报告"))
            c.execute(insert(Clock), crow)
    return expected


class Sampler:
    """Samples PostgreSQL backends on the pair's database while the run lasts (the peak is reported)."""

    def __init__(self, pair: Pair) -> None:
        self.pair, self.peak, self._stop = pair, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.pair.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                self.peak = max(self.peak, int(n) - 1)  # not counting this probe
            except Exception:  # noqa: BLE001, S110 - a missed sample is harmless
                pass
            self._stop.wait(0.5)

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(5)


def pg_counters(pair: Pair) -> tuple[int, int]:
    """(commits, rows written) of the pair's database so far."""
    with pair.engine.connect() as c:
        row = c.execute(
            text(
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        ).one()
    return int(row[0]), int(row[1])


def redis_ops(pair: Pair) -> int:
    """Commands Redis has processed so far."""
    return int(pair.redis.info("stats")["total_commands_processed"])


def drive_callbacks(
    pair: Pair, sealer: Sealer, senders: list[str], n: int
) -> tuple[float, float, float, dict[str, int]]:
    """Send n distinct callbacks (senders in turn) with wrk until all are stored; return (req/s, p50, p99, errors)."""
    if n == 0:  # thresholds alone
        return float("nan"), float("nan"), float("nan"), {}
    numbers = sealer.numbers(n)
    parts = [sealer.parts(senders[k % len(senders)], TEXT, num) for k, num in enumerate(numbers)]
    if pair.args.driver == "wrk":
        file = pair.tmp / "callbacks.txt"
        wrk.write_requests(file, parts)
        stored = lambda: pair.scalar("SELECT count(*) FROM processed_callbacks") >= n  # noqa: E731
        w = wrk.run(pair.port, file, 600, pair.args.connections, stop_when=stored)
        return w.rate, w.p50, w.p99, w.errors
    reqs = [
        f"POST {p} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/xml\r\nContent-Length: {len(b)}\r\n\r\n".encode() + b
        for p, b in parts
    ]
    run = drive(pair.port, reqs, 600, pair.args.connections)
    bad = {k: v for k, v in run.statuses.items() if k != "200"}
    return run.rate, pct(run.latencies, 50), pct(run.latencies, 99), bad


FAULT_KINDS: list[dict[str, Any]] = [  # bench/chaos.py's mix, each an equal share
    {"errcode": -1},
    {"errcode": 45009},
    {"errcode": 42001},
    {"http_status": 500},
    {"delay": 4.0, "when": "after"},
    {"delay": 1.0, "when": "before"},
]


def set_faults(emulator: Any, share: float) -> None:
    """Make share of the emulator's WeCom calls fail (0: none)."""
    from sandbox.state import Fault

    world = emulator.world
    with world.lock:
        world.faults.clear()
        if share > 0:
            for kind in FAULT_KINDS:
                world.faults.append(Fault(path="*", times=10**6, rate=share / len(FAULT_KINDS), **kind))


def reply_times(pair: Pair, res: Result, records: list[dict[str, Any]]) -> None:
    """Each reply's lateness (delivered minus its callback stored); apart, those sent by their first call."""
    with pair.engine.connect() as c:
        query = text("SELECT key, extract(epoch FROM received_at) FROM processed_callbacks")
        stored: dict[str, Any] = {k: v for k, v in c.execute(query)}
        written: dict[str, Any] = {
            k: (float(at), int(n))
            for k, at, n in c.execute(
                text(
                    "SELECT idem_key, extract(epoch FROM created_at), attempts FROM outbox "
                    "WHERE idem_key LIKE 'reply:%'"
                )
            )
        }
    for r in records:
        key = str((r.get("body") or {}).get("idem_key") or "")
        base = key[6:] if key[6:] in stored else key[6:].rsplit(":", 1)[0]  # a long reply's pieces: reply:KEY:i
        if key.startswith("reply:") and base in stored:
            late = float(r["at"]) - float(stored[base])
            res.reply_lateness.append(late)
            at, attempts = written.get(key, (float(r["at"]), 0))
            res.reply_delivery.append(float(r["at"]) - at)
            if attempts == 1:
                res.clean_replies.append(late)
                res.clean_delivery.append(float(r["at"]) - at)


def run_pair(args: argparse.Namespace, web: int, workers: int, emulator: Any, tmp: Path, sealer: Sealer) -> Result:
    """Start one pair, drive callbacks while thresholds fall due, wait for every reply and reminder, count."""
    res = Result(web, workers)
    senders = [f"snd{i:04d}" for i in range(args.senders)]
    pair = Pair(args, web, workers, emulator, tmp)
    emu = SandboxClient(emulator.url)
    try:
        pair.cli("db", "upgrade")
        org = write_org(pair.tmp, senders, args.units)
        pair.cli("org", "import", str(org))
        emu.reset()
        emulator.world.set_people(directory(load_org_file(org)))
        emu.set_callback(f"http://{HOST}:{pair.port}/wecom/callback")
        pair.start()
        print(f"  {web}x{workers}: up; seeding {args.thresholds} thresholds due over {args.window:g} s …", flush=True)
        rng = random.Random(7)
        start = datetime.now(UTC) + timedelta(seconds=3)
        nudges = sorted(start + timedelta(seconds=rng.uniform(0, args.window)) for _ in range(args.thresholds))
        expected = add_clocks(pair, nudges, args.units)
        res.window = (nudges[-1] - nudges[0]).total_seconds()
        sampler = Sampler(pair)
        ops0, (commits0, rows0), t0 = redis_ops(pair), pg_counters(pair), time.perf_counter()
        set_faults(emulator, args.faults)
        wall0 = time.time()
        print(f"  {web}x{workers}: {args.callbacks} callbacks while they fall due …", flush=True)
        res.rate, res.p50, res.p99, res.errors = drive_callbacks(pair, sealer, senders, args.callbacks)
        res.stored = int(pair.scalar("SELECT count(*) FROM processed_callbacks"))
        print(f"  {web}x{workers}: {res.rate:.0f} req/s; waiting for the inbox, replies and reminders …", flush=True)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if not pair.scalar("SELECT count(*) FROM processed_callbacks WHERE state <> 'done'"):
                res.drain = time.perf_counter() - t0
                break
            time.sleep(0.05)  # polling the inbox, resolution 50 ms
        until = max(deadline, time.monotonic() + 5 + (nudges[-1] - datetime.now(UTC)).total_seconds())
        if args.faults:  # WeCom recovers once the thresholds' window is over; the retries then get through
            time.sleep(max(0.0, (nudges[-1] - datetime.now(UTC)).total_seconds()))  # waiting out the window
            set_faults(emulator, 0)
        settled = (
            "SELECT (SELECT count(*) FROM clock_firings) >= :n AND NOT EXISTS "
            "(SELECT 1 FROM outbox WHERE state <> 'sent') AND NOT EXISTS "
            "(SELECT 1 FROM processed_callbacks WHERE state <> 'done')"
        )
        while time.monotonic() < until and not pair.scalar(settled, n=args.thresholds):
            time.sleep(0.1)  # polling the database, resolution 100 ms
        res.unsent = int(pair.scalar("SELECT count(*) FROM outbox WHERE state <> 'sent'"))
        res.elapsed = time.perf_counter() - t0
        sampler.close()
        ops1, (commits1, rows1) = redis_ops(pair), pg_counters(pair)
        res.redis_ops = (ops1 - ops0) / res.elapsed
        res.pg_commits, res.pg_rows = (commits1 - commits0) / res.elapsed, (rows1 - rows0) / res.elapsed
        res.pg_conns = sampler.peak
        records = emu.inbox()
        res.delivered = len(records)
        res.span = max((float(r["at"]) for r in records), default=wall0) - wall0
        count(res, records, expected, senders, args.callbacks)
        reply_times(pair, res, records)
        if res.unsent:  # still queued at the deadline: late (the table says so), not lost
            res.lost = max(0, res.lost - res.unsent)
        res.emulator = emu.stats()
        with pair.engine.connect() as c:
            res.fire_lateness = [
                float(x)
                for x in c.execute(
                    text("SELECT extract(epoch FROM fired_at - due_at) FROM clock_firings WHERE name = 'nudge'")
                ).scalars()
            ]
        if res.lost or res.duplicated:
            print(pair.log("worker-0")[-3000:])
    finally:
        set_faults(emulator, 0)
        pair.close()
    return res


def count(res: Result, records: list[dict[str, Any]], expected: dict[str, tuple[str, datetime]], senders: list[str],
          callbacks: int) -> None:  # fmt: skip
    """Count reminders by (recipient, item) and replies per sender from what the emulator received."""
    got: Counter[tuple[str, str]] = Counter()
    late: dict[tuple[str, str], float] = {}
    replies: Counter[str] = Counter()
    for r in records:
        body = json.dumps(r.get("body"), ensure_ascii=False)
        if r["userid"].startswith("snd"):
            replies[r["userid"]] += 1
            continue
        if "【提醒】" not in body:
            continue
        code = body.split("【提醒】", 1)[1].split("《", 1)[0]
        key = (r["userid"], code)
        got[key] += 1
        if code in expected:
            late.setdefault(key, float(r["at"]) - expected[code][1].timestamp())
    want = {(lead, code) for code, (lead, _at) in expected.items()}
    res.reminders = sum(got.values())
    res.duplicated = sum(n - 1 for n in got.values() if n > 1) + sum(n for k, n in got.items() if k not in want)
    res.lost = len(want - set(got))  # the caller subtracts what was still queued at the deadline
    res.lateness = list(late.values())
    res.early = sum(x < 0 for x in res.lateness)
    per = [callbacks // len(senders) + (1 if i < callbacks % len(senders) else 0) for i in range(len(senders))]
    res.replies = sum(replies.values())
    res.reply_dupes = sum(max(0, replies[u] - n) for u, n in zip(senders, per, strict=True))


def throughput(r: Result) -> float:
    """Messages (replies and reminders) WeCom received per second, from the start of the load to the last one."""
    return r.delivered / r.span if r.span > 0 else float("nan")


def report(args: argparse.Namespace, results: list[Result]) -> None:
    """Print one row per pair and the verdict."""
    cores = os.cpu_count() or 1
    print(
        f"\nscale-out on one PostgreSQL ({args.db.split('@')[-1].split('/')[0]}) and one Redis, {cores} cores; "
        f"{args.callbacks} callbacks ({args.driver}, {args.connections} connections) and {args.thresholds} "
        f"thresholds due over {args.window:g} s per pair; web = gunicorn gthread processes x {args.threads} threads"
    )
    print(
        "  pair  callbacks req/s  p50/p99 ms   inbox drain  replies   reminders  lateness p50/p99/max ms   dup lost"
        "  msgs/s  reply p50/p99 s  redis ops/s  pg commits/s  rows/s  pg conns"
    )
    for r in results:
        lat = r.lateness
        print(
            f"  {r.web}x{r.workers}  {r.rate:9.0f}  {r.p50:6.1f}/{r.p99:6.1f}  {r.drain:9.1f} s  "
            f"{r.replies:5d}/{args.callbacks}  {r.reminders:5d}/{args.thresholds}  "
            f"{pct(lat, 50):6.0f}/{pct(lat, 99):6.0f}/{pct(lat, 100):6.0f}       "
            f"{r.duplicated:3d} {r.lost:4d}  {throughput(r):6.1f}  "
            f"{pct(r.reply_lateness, 50) / 1000:6.1f}/{pct(r.reply_lateness, 99) / 1000:6.1f}  "
            f"{r.redis_ops:11.0f}  {r.pg_commits:12.0f}  {r.pg_rows:6.0f}  {r.pg_conns:8d}"
        )
        notes = []
        if r.errors:
            notes.append(f"load errors {r.errors}")
        if r.stored != args.callbacks:
            notes.append(f"inbox stored {r.stored} of {args.callbacks}")
        if r.unsent:
            notes.append(f"TIMED OUT: {r.unsent} outbox rows still queued (late, not counted as lost)")
        if r.reply_dupes:
            notes.append(f"{r.reply_dupes} replies more than once")
        if r.emulator.get("dropped_total") or r.emulator.get("duplicates_suppressed"):
            notes.append(
                f"WeCom dropped {r.emulator.get('dropped_total')} (over 30/min), suppressed "
                f"{r.emulator.get('duplicates_suppressed')} repeats"
            )
        if r.early:
            notes.append(f"{r.early} reminders early")
        rd = r.reply_delivery
        notes.append(f"replies from written to received p50/p99 {pct(rd, 50) / 1000:.1f}/{pct(rd, 99) / 1000:.1f} s")
        if args.faults:
            cl, cd = r.clean_replies, r.clean_delivery
            notes.append(
                f"{args.faults:.0%} WeCom faults: replies sent by their first call ({len(cl)} of "
                f"{len(r.reply_lateness)}) p50/p99 {pct(cl, 50) / 1000:.1f}/{pct(cl, 99) / 1000:.1f} s from the "
                f"callback, {pct(cd, 50) / 1000:.1f}/{pct(cd, 99) / 1000:.1f} s from written"
            )
        fl = r.fire_lateness
        notes.append(
            f"firing lateness (fired_at - due) p50/p99/max {pct(fl, 50):.0f}/{pct(fl, 99):.0f}/{pct(fl, 100):.0f} ms"
        )
        if r.web + r.workers > cores:
            notes.append(f"{r.web + r.workers} processes on {cores} cores: oversubscribed")
        print("        " + "; ".join(notes))
    ok = all(r.duplicated == 0 and r.lost == 0 and r.reply_dupes == 0 for r in results)
    ok = ok and all(r.replies == args.callbacks and not r.unsent for r in results)
    print(f"  0 duplicated and 0 lost in every pair: {'PASS' if ok else 'MISS'}")
    try:
        load = os.getloadavg()
        print(
            f"  load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (other work on this machine counts)"
        )
    except OSError:
        pass
    if results:
        best = max(results, key=lambda x: x.rate)
        print(f"  best callback rate {best.rate:.0f} req/s at {best.web}x{best.workers}; "
              f"median lateness p99 {statistics.median(pct(r.lateness, 99) for r in results):.0f} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run every pair in turn and print the table."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the processes
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the in-process emulator's request log
    if args.driver == "wrk" and wrk.available() is None:
        print("WARNING: wrk is not installed (apt-get install wrk): the Python driver sends the callbacks instead")
        args.driver = "python"
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-scale-"))
    emulator = serve(HOST, 0, EmulatorSettings(**CREDS))  # type: ignore[arg-type]
    sealer, results = Sealer(), []
    try:
        for web, workers in args.pair_list:
            print(f"pair {web} web x {workers} worker …", flush=True)
            results.append(run_pair(args, web, workers, emulator, tmp, sealer))
        report(args, results)
        return 0
    finally:
        emulator.shutdown()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
