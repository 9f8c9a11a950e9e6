"""Benchmark what an idle deployment costs: one web (gunicorn, 2 workers) and one worker, CPU read from /proc.

    python -m bench.idle [--db sqlite|postgresql://user@host:port/db] [--seconds 60] [--messages 60]

Starts the web and a worker against a fresh database (SQLite, or a new database on the PostgreSQL server given),
lets them settle, reads their CPU time (user + system, every process of each tree) over --seconds and prints it as
% of one core (target: both together ≤ 2 %). Then sends --messages callbacks one at a time and times each reply
(target p99 ≤ 300 ms), and reads the liaowang_inbox_pickups_total counter from the web's /metrics: every callback
must have been picked up because the web rang the wake-up signal, none by the worker's fallback poll.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from bench.callback import _people, e2e, prepare_db, tree_cpu, write_config
from bench.common import CREDS, HOST, Sealer, free_port, pct, spawn, stop, wait_http

IDLE_TARGET, P99_TARGET = 2.0, 300.0  # % of one core (web and worker together); ms
TEXT = "帮助"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="sqlite", help="sqlite (default) or a PostgreSQL server URL (a fresh database)")
    p.add_argument("--seconds", type=float, default=60.0, help="idle seconds measured (default 60)")
    p.add_argument("--settle", type=float, default=10.0, help="seconds after start-up before measuring (default 10)")
    p.add_argument("--messages", type=int, default=60, help="callbacks timed one at a time afterwards (default 60)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (config and logs)")
    args = p.parse_args(argv)
    if args.db != "sqlite" and not args.db.startswith("postgresql://"):
        p.error("--db must be sqlite or a postgresql:// server URL")
    return args


def machine_busy() -> tuple[int, int]:
    """Return (busy, total) jiffies of the whole machine so far (/proc/stat), to report how loaded it was."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    return sum(cpu) - idle, sum(cpu)


def idle_cpu(pids: dict[str, int], seconds: float) -> tuple[dict[str, float], float]:
    """Return each process tree's CPU over seconds as % of one core, and the machine's busy share (% of all cores)."""
    before = {name: tree_cpu(pid) for name, pid in pids.items()}
    busy0, total0 = machine_busy()
    time.sleep(seconds)  # the measured window: nothing is sent, the processes are left alone
    busy1, total1 = machine_busy()
    used = {name: (tree_cpu(pid) - before[name]) / seconds * 100 for name, pid in pids.items()}
    return used, (busy1 - busy0) / max(1, total1 - total0) * 100


def pickups(port: int) -> dict[str, float]:
    """Read liaowang_inbox_pickups_total{why} from the web's /metrics (every process of this host)."""
    with urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as resp:  # noqa: S310 - our own server on loopback
        body = resp.read().decode()
    found = re.findall(r'^liaowang_inbox_pickups_total\{why="(\w+)"\} ([0-9.e+]+)$', body, re.MULTILINE)
    return {why: float(n) for why, n in found}


def fresh_database(server: str) -> str:
    """Create a new database on the PostgreSQL server; return its URL."""
    from bench.chaos import _fresh_pg

    return _fresh_pg(server)


def drop_database(server: str, url: str) -> None:
    """Drop the database fresh_database created."""
    from bench.chaos import _drop_pg

    _drop_pg(server, url)


def main(argv: list[str] | None = None) -> int:
    """Start the web and a worker, measure them idle, then time replies; print the figures; 0 if every target met."""
    from core.redisconn import start_embedded, stop_embedded
    from sandbox.client import SandboxClient
    from sandbox.server import serve
    from sandbox.settings import EmulatorSettings

    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="lw-idle-"))
    var = tmp / "var"
    procs: dict[str, Any] = {}
    emulator = rt = None
    database = ""
    try:
        redis_url = start_embedded(var)
        emulator = serve(HOST, 0, EmulatorSettings(**CREDS))
        database = fresh_database(args.db) if args.db != "sqlite" else ""
        cfg_path = write_config(tmp, database or f"sqlite:///{var / 'liaowang.db'}", redis_url, emulator.url)
        rt = prepare_db(cfg_path)
        port = free_port()
        emu = SandboxClient(emulator.url)
        people = _people(rt)
        emu.people([{"userid": p.userid, "name": p.name} for p in people])
        emu.set_callback(f"http://{HOST}:{port}/wecom/callback")
        settings = {"app": "liaowang", "config": str(cfg_path), "port": port, "workers": 2, "threads": 8}
        procs["web"] = spawn(["-m", "bench._serve", json.dumps(settings)], tmp / "web.log")
        procs["worker"] = spawn(["-m", "cli", "worker"], tmp / "worker.log", {"LIAOWANG_CONFIG": str(cfg_path)})
        wait_http(port, procs["web"], tmp / "web.log")
        db = "PostgreSQL" if database else "SQLite"
        print(f"web (gunicorn 2 workers) and worker up on {db}; settling {args.settle:g} s …", flush=True)
        time.sleep(args.settle)  # start-up work (imports, the first sweep) is not idle cost
        print(f"measuring {args.seconds:g} s idle …", flush=True)
        used, busy = idle_cpu({n: p.pid for n, p in procs.items()}, args.seconds)
        if any(p.poll() is not None for p in procs.values()):
            print((tmp / "worker.log").read_text(errors="replace")[-1500:])
            raise RuntimeError("a process exited while idle")
        total = sum(used.values())
        load = os.getloadavg()
        print(
            f"idle CPU over {args.seconds:g} s ({db}): web {used['web']:.2f} %, "
            f"worker {used['worker']:.2f} % of a core; together {total:.2f} % "
            f"(target <= {IDLE_TARGET:g} %) {'PASS' if total <= IDLE_TARGET else 'MISS'}"
        )
        print(
            f"  machine meanwhile: {busy:.0f} % busy over {os.cpu_count()} cores "
            f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
        )
        before = pickups(port)
        senders = [p.userid for p in people]
        n = min(args.messages, 29 * len(senders) - 3)  # WeCom drops more than 30 a minute per person
        lat, misses = e2e(port, emu, Sealer().many(senders, TEXT, n + 3), procs["worker"])
        after = pickups(port)
        got = {why: after.get(why, 0) - before.get(why, 0) for why in sorted(set(after) | set(before))}
        p99 = pct(lat, 99)
        reply_ok = p99 <= P99_TARGET and not misses
        print(
            f"reply latency, one at a time (n={len(lat)}{f', {misses} without reply' if misses else ''}): "
            f"p50 {pct(lat, 50):.0f} ms p99 {p99:.0f} ms max {pct(lat, 100):.0f} ms "
            f"(target p99 <= {P99_TARGET:g} ms) {'PASS' if reply_ok else 'MISS'}"
        )
        fallback = int(got.get("fallback", 0))
        print(
            "inbox pick-ups while replying, by what woke the consumer: "
            + (", ".join(f"{why} {int(v)}" for why, v in got.items() if v) or "none counted")
            + f"; by the fallback poll {fallback} (target 0) {'PASS' if fallback == 0 else 'MISS'}"
        )
        return 0 if total <= IDLE_TARGET and reply_ok and fallback == 0 else 1
    finally:
        for proc in procs.values():
            stop(proc)
        if emulator is not None:
            emulator.shutdown()
        if rt is not None:
            rt.engine.dispose()
        if database:
            try:
                drop_database(args.db, database)
            except Exception as exc:  # noqa: BLE001 - report, keep tearing down
                print(f"could not drop {database}: {exc}")
        stop_embedded(var)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
