"""Benchmark clocks: lateness of spread thresholds, a same-second burst, and the sweep over many open clocks."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rq import Worker
from sqlalchemy import bindparam, create_engine, event, insert, select, text

from bench.callback import mark, prepare_db, write_config
from bench.common import CREDS, HOST, ROOT, clock_row, pct, spawn, stop
from core import clock
from core.policy import parse_policy
from core.redisconn import start_embedded, stop_embedded
from core.runtime import runtime, set_runtime
from jobs.deadlines import schedule_clocks, sweep_clocks
from models import Clock, ClockFiring, Item, Person, Unit
from sandbox.client import SandboxClient
from sandbox.server import serve
from sandbox.settings import EmulatorSettings
from wiring import wire
from workflow.engine.clocks import snapshot
from workflow.engine.deadlines import due_clocks
from workflow.people.org import load_org_file

SPREAD_P99_MS, BURST_S, SWEEP_MS = 1000.0, 15.0, 20.0
PARTS = ("spread", "burst", "sweep")
ORG = ROOT / "cli" / "demo_org.toml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.deadlines", description=__doc__)
    p.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (a temp file, default) or a scratch postgresql:// database "
        "(migrated; this run's rows are deleted after each part)",
    )
    p.add_argument("--only", default=",".join(PARTS), help="comma-separated parts (default spread,burst,sweep)")
    p.add_argument("--spread-n", type=int, default=2000, help="thresholds in the spread part (default 2000)")
    p.add_argument("--spread-seconds", type=float, default=60.0, help="spread over this many seconds (default 60)")
    p.add_argument("--burst-n", type=int, default=10000, help="thresholds due in the same second (default 10000)")
    p.add_argument("--sweep-n", type=int, default=100000, help="open clocks, none due, for the sweep (default 100000)")
    p.add_argument("--sweeps", type=int, default=50, help="timed sweeps (default 50)")
    p.add_argument("--timeout", type=float, default=120.0, help="longest wait after the last threshold is due (s)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (config, worker log)")
    args = p.parse_args(argv)
    args.parts = [x.strip() for x in args.only.split(",") if x.strip()]
    if set(args.parts) - set(PARTS) or not args.parts:
        p.error(f"--only takes some of {','.join(PARTS)}")
    if args.db != "sqlite" and not args.db.startswith(("postgresql://", "postgresql+psycopg://")):
        p.error("--db must be sqlite or a postgresql:// URL")
    return args


class Bench:
    """One database with the demo organisation, a probe engine that takes no write lock, and the worker."""

    def __init__(self, rt: Any, cfg_path: Path, tmp: Path) -> None:
        self.rt, self.cfg_path, self.tmp, self.prefix = rt, cfg_path, tmp, f"BD{random.randrange(36**4):04x}"
        url = rt.config.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.probe = create_engine(url)  # plain engine: SQLite reads here do not queue on the app's write lock
        with rt.sessions() as s:
            self.unit_id = s.scalar(select(Unit.id).where(Unit.key == "team1"))
            self.reporter_id = s.scalar(select(Person.id).where(Person.userid == "zhangsan"))
        self.proc: Any = None

    def add_clocks(self, nudges: list[datetime]) -> list[int]:
        """Insert one item and one open first-report clock per nudge time (bulk); return the clock ids."""
        policy = parse_policy({})
        snap, now = snapshot(policy, policy.clocks["first_report"]), datetime.now(UTC)
        items, clocks, ids = Item.__table__, Clock.__table__, []
        with self.rt.engine.begin() as c:
            for lo in range(0, len(nudges), 5000):
                part = nudges[lo : lo + 5000]
                rows = [
                    {
                        "code": f"{self.prefix}-{lo + i:07d}",
                        "title": "时限基准",
                        "text": "基准",
                        "source": "discovery",
                        "grade": "general",
                        "state": "dispatched",
                        "version": 1,
                        "reporter_id": self.reporter_id,
                        "reported_at": now,
                        "dispatched_at": now,
                        "updated_at": now,
                    }
                    for i in range(len(part))
                ]
                item_ids = c.execute(insert(items).returning(items.c.id, sort_by_parameter_order=True), rows).scalars()
                rows = [
                    clock_row(iid, self.unit_id, at, now, snap, "first_report", "首报")
                    for iid, at in zip(item_ids.all(), part, strict=True)
                ]
                ids += c.execute(insert(clocks).returning(clocks.c.id, sort_by_parameter_order=True), rows).scalars()
        return ids

    def count(self, sql: str) -> int:
        """Run a count query on the probe engine (prefix bound as :p)."""
        with self.probe.connect() as c:
            return int(c.execute(text(sql), {"p": f"{self.prefix}-%"}).scalar_one())

    def done(self) -> tuple[int, int]:
        """Return (clock firings, clock outbox rows) of this run's items."""
        mine = "SELECT id FROM items WHERE code LIKE :p"
        return (
            self.count(
                f"SELECT count(*) FROM clock_firings WHERE clock_id IN "
                f"(SELECT id FROM clocks WHERE item_id IN ({mine}))"
            ),
            self.count(f"SELECT count(*) FROM outbox WHERE idem_key LIKE 'clock:%' AND item_id IN ({mine})"),
        )

    def wipe(self) -> None:
        """Delete every row this run wrote (firings, cards, held messages and digests, outbox, clocks, items)."""
        mine, p = "SELECT id FROM items WHERE code LIKE :p", {"p": f"{self.prefix}-%"}
        out = f"SELECT id FROM outbox WHERE item_id IN ({mine})"
        with self.rt.engine.begin() as c:
            digests = list(
                c.execute(
                    text(
                        f"SELECT DISTINCT digest_id FROM held_messages WHERE outbox_id IN ({out}) "
                        "AND digest_id IS NOT NULL"
                    ),
                    p,
                ).scalars()
            )
            c.execute(text(f"DELETE FROM held_messages WHERE outbox_id IN ({out})"), p)
            by_id = bindparam("ids", expanding=True)
            c.execute(text("DELETE FROM outbox WHERE id IN :ids").bindparams(by_id), {"ids": digests})
            c.execute(
                text(f"DELETE FROM clock_firings WHERE clock_id IN (SELECT id FROM clocks WHERE item_id IN ({mine}))"),
                p,
            )
            for table in ("cards", "outbox", "clocks"):
                c.execute(text(f"DELETE FROM {table} WHERE item_id IN ({mine})"), p)
            c.execute(text("DELETE FROM items WHERE code LIKE :p"), p)
        self.rt.redis.flushdb()

    @contextlib.contextmanager
    def worker(self) -> Iterator[None]:
        """Run `python -m cli worker` (RQ worker, scheduler, sweep thread) for the duration of the block."""
        log = self.tmp / "worker.log"
        self.proc = spawn(["-m", "cli", "worker"], log, {"LIAOWANG_CONFIG": str(self.cfg_path)})
        try:
            deadline = time.monotonic() + 30
            while Worker.count(connection=self.rt.redis) < 1:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("worker did not start:\n" + log.read_text(errors="replace")[-2000:])
                time.sleep(0.1)  # waiting for the worker to register, not timing anything
            yield
        finally:
            stop(self.proc)
            self.proc = None

    def wait(self, n: int, until: float, every: float) -> tuple[float, int, int]:
        """Poll until n firings and n outbox rows exist or time.time() passes until; return (when, firings, rows)."""
        while True:
            f, o = self.done()
            if (f >= n and o >= n) or time.time() > until or self.proc.poll() is not None:
                return time.time(), f, o
            time.sleep(every)  # polling the database, resolution = every


def _schedule(ids: list[int]) -> float:
    t0 = time.perf_counter()
    schedule_clocks(runtime().queue, ids)  # what the app does after the commit that starts or advances clocks
    return time.perf_counter() - t0


def spread(b: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """2,000 thresholds spread over 60 s: lateness (fired_at - due_at) p50/p99/max and how many fired early."""
    with b.worker():
        rng, start = random.Random(7), datetime.now(UTC) + timedelta(seconds=5)
        nudges = sorted(start + timedelta(seconds=rng.uniform(0, args.spread_seconds)) for _ in range(args.spread_n))
        ids = b.add_clocks(nudges)
        took = _schedule(ids)
        _, fired, rows = b.wait(args.spread_n, nudges[-1].timestamp() + args.timeout, 1.0)
    q = select(ClockFiring.due_at, ClockFiring.fired_at).where(ClockFiring.clock_id.in_(ids))
    with b.probe.connect() as c:
        late = [(f - d).total_seconds() for d, f in c.execute(q)]
    print(f"  spread: armed {len(ids)} clocks in {took:.2f} s; {fired} fired, {rows} outbox rows", flush=True)
    return {
        "late": late,
        "early": sum(x < 0 for x in late),
        "fired": fired,
        "n": args.spread_n,
        "secs": args.spread_seconds,
    }


def burst(b: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """10,000 thresholds due in the same second: seconds from then until every firing and outbox row exists."""
    with b.worker():
        lead = 3 + args.burst_n * 0.0005  # scheduling one RQ job per clock must finish before they are due
        due = datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)
        ids = b.add_clocks([due] * args.burst_n)
        took = _schedule(ids)
        ahead = due.timestamp() - time.time()
        when, fired, rows = b.wait(args.burst_n, due.timestamp() + args.timeout, 0.2)
        sent = b.count(
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND item_id IN (SELECT id FROM items WHERE code LIKE :p)"
        )
    print(
        f"  burst: armed {len(ids)} clocks in {took:.2f} s ({ahead:.1f} s before due); {fired} fired, "
        f"{rows} outbox rows, {sent} already delivered",
        flush=True,
    )
    return {"seconds": when - due.timestamp(), "fired": fired, "rows": rows, "n": args.burst_n}


def explain(b: Bench) -> str:
    """Return the plan of the exact statement due_clocks sends (captured from the engine)."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn, _cur, statement, params, _ctx, _many):  # type: ignore[no-untyped-def]
        if "FROM clocks" in statement:
            seen.append((statement, params))

    event.listen(b.rt.engine, "before_cursor_execute", grab)
    try:
        with b.rt.sessions() as s, s.begin():
            due_clocks(s, clock.now(), 500)
    finally:
        event.remove(b.rt.engine, "before_cursor_execute", grab)
    statement, params = seen[0]
    verb = "EXPLAIN QUERY PLAN " if b.rt.engine.dialect.name == "sqlite" else "EXPLAIN "
    with b.rt.engine.connect() as c:
        plan = [str(r[-1]).strip() for r in c.exec_driver_sql(verb + statement, params)]
    keep = [re.sub(r"\s+\(cost=[^)]*\)", "", p) for p in plan if re.search(r"clocks|Cond|TEMP|Sort Key", p)]
    return " | ".join(keep)


def sweep(b: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """100,000 open clocks, none due: milliseconds per sweep_clocks() (one due-clock query in a transaction)."""
    rng, now = random.Random(11), datetime.now(UTC)
    t0 = time.perf_counter()
    b.add_clocks([now + timedelta(seconds=rng.uniform(600, 2 * 86400)) for _ in range(args.sweep_n)])
    if b.rt.engine.dialect.name == "postgresql":
        with b.rt.engine.begin() as c:
            c.execute(text("ANALYZE clocks"))  # what autovacuum does soon after a bulk load
    print(f"  sweep: inserted {args.sweep_n} clocks in {time.perf_counter() - t0:.1f} s", flush=True)
    plan = explain(b)
    sweep_clocks()  # warm up the connection pool
    times, fired = [], 0
    for _ in range(args.sweeps):
        t = time.perf_counter()
        fired += sweep_clocks()
        times.append(time.perf_counter() - t)
    return {"times": times, "plan": plan, "fired": fired, "n": args.sweep_n}


def report(db: str, res: dict[str, dict[str, Any]]) -> None:
    """Print the figures with the targets."""
    print(f"\nclock benchmarks, db {db}")
    if "spread" in res:
        r = res["spread"]
        p99, ok = pct(r["late"], 99), r["fired"] == r["n"] and r["early"] == 0
        print(
            f"  spread  {r['n']} over {r['secs']:g} s: lateness p50 {pct(r['late'], 50):6.0f} ms  p99 {p99:6.0f} ms  "
            f"max {pct(r['late'], 100):6.0f} ms  early {r['early']}  fired {r['fired']}/{r['n']}  "
            f"(target p99 <= {SPREAD_P99_MS:.0f} ms, 0 early) {mark(ok and p99 <= SPREAD_P99_MS)}"
        )
    if "burst" in res:
        r = res["burst"]
        ok = r["fired"] == r["n"] and r["rows"] == r["n"]
        tail = "" if ok else f" (timed out: {r['fired']} firings, {r['rows']} outbox rows)"
        print(
            f"  burst   {r['n']} due together: all recorded after {r['seconds']:6.1f} s{tail}  "
            f"(target <= {BURST_S:.0f} s) {mark(ok and r['seconds'] <= BURST_S)}"
        )
    if "sweep" in res:
        r, t = res["sweep"], res["sweep"]["times"]
        print(
            f"  sweep   {r['n']} open, none due: p50 {pct(t, 50):5.1f} ms  p99 {pct(t, 99):5.1f} ms  "
            f"max {pct(t, 100):5.1f} ms per sweep, {len(t)} sweeps, fired {r['fired']}  "
            f"(target <= {SWEEP_MS:.0f} ms) {mark(pct(t, 99) <= SWEEP_MS and not r['fired'])}"
        )
        print(f"  plan    {r['plan']}")


def main(argv: list[str] | None = None) -> int:
    """Set everything up, run the chosen parts, print the figures, tear everything down."""
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the in-process emulator's request log
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the worker and Redis
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-dl-"))
    var, emulator, b = tmp / "var", None, None
    results: dict[str, dict[str, Any]] = {}
    try:
        redis_url = start_embedded(var)
        emulator = serve(HOST, 0, EmulatorSettings(**CREDS))
        db_url = f"sqlite:///{var / 'liaowang.db'}" if args.db == "sqlite" else args.db
        cfg_path = write_config(tmp, db_url, redis_url, emulator.url)
        b = Bench(prepare_db(cfg_path), cfg_path, tmp)
        wire(b.rt, queue=False)
        emu = SandboxClient(emulator.url)
        emu.people([{"userid": p["userid"], "name": p["name"]} for p in load_org_file(ORG)["people"]])
        for name, fn in (("spread", spread), ("burst", burst), ("sweep", sweep)):
            if name in args.parts:
                print(f"{name} …", flush=True)
                try:
                    results[name] = fn(b, args)
                finally:
                    try:
                        b.wipe()
                    except Exception as exc:  # noqa: BLE001 - report, keep tearing down
                        print(f"could not delete this part's rows: {exc}")
        report(args.db.split("@")[-1], results)
        return 0
    finally:
        if b is not None:  # the worker was stopped when its part ended
            b.probe.dispose()
            b.rt.engine.dispose()
        set_runtime(None)
        if emulator is not None:
            emulator.shutdown()
        stop_embedded(var)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
