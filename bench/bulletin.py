"""Benchmark the monthly bulletin: one month over 1,000,000 audit events and 100,000 items (50 units).

Prints the time of each part (figures, xlsx, chart), the peak memory of the process, the query plans of the
bulletin's statements, and the ratio against a baseline measured in the same run: one full pass over the audit
events (SELECT count(*), min(at), max(at)). Target: the whole bulletin in ≤ 10 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text

from core.clock import LOCAL_TZ
from core.config import config_from_dict
from migrations import upgrade
from models import AuditEvent, Dispute, Fact, Item, ItemUnit, Person, Unit
from models.clock import Clock

TARGET_S = 10.0
MONTH = "2026-10"
START = datetime(2026, 10, 1, tzinfo=LOCAL_TZ).astimezone(UTC)
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
STEPS = ("report", "dispatch", "acknowledge", "first_report", "progress_report", "written_report", "approve")
TAIL = ("consult", "opinion", "reply_source", "close")
POLICY = {"nudge": 0.5, "warn": 0.8, "escalate_after": 1800, "escalate_every": 1800, "escalate_max": 3}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.bulletin", description=__doc__)
    p.add_argument("--db", default="sqlite", help="sqlite (a temp file, default) or an empty postgresql:// database")
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--units", type=int, default=50)
    p.add_argument(
        "--late-share",
        type=float,
        default=0.05,
        help="share of clocks met late or missed (default 0.05; every one is a deduction)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = p.parse_args(argv)
    if args.db != "sqlite" and not args.db.startswith("postgresql://"):
        p.error("--db must be sqlite or a postgresql:// URL")
    return args


def _chunks(rows: list[dict[str, Any]], n: int = 20_000) -> Any:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def populate(url: str, args: argparse.Namespace) -> None:
    """Write the organisation, the month's items with their units, clocks and audit events, facts and disputes."""
    rng = random.Random(7)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        c.execute(
            insert(Unit),
            [
                {"key": f"u{i}", "name": f"单位{i:02d}", "kind": "county" if i % 3 else "department", "active": True}
                for i in range(args.units)
            ],
        )
        unit_ids = [r[0] for r in c.execute(text("SELECT id FROM units ORDER BY id"))]
        c.execute(
            insert(Person),
            [{"userid": f"lead{i}", "name": f"负责人{i}", "unit_id": u, "roles": ["unit_lead"], "active": True}
             for i, u in enumerate(unit_ids)],
        )  # fmt: skip
        reporter = c.execute(text("SELECT id FROM people ORDER BY id LIMIT 1")).scalar_one()
    span = 30 * 86400
    t0 = time.perf_counter()
    per_item = max(1, args.events // args.items)
    for lo in range(0, args.items, 10_000):
        n = min(10_000, args.items - lo)
        items, units, clocks, events = [], [], [], []
        for k in range(n):
            i = lo + k
            reported = START + timedelta(seconds=rng.uniform(0, span - 86400))
            items.append(
                {
                    "code": f"YQ-B{i:07d}",
                    "title": f"条目{i}",
                    "text": "基准",
                    "source": rng.choice(("discovery", "message_board", "cac")),
                    "grade": rng.choice(("general", "general", "significant", "major")),
                    "state": "approved",
                    "reporter_id": reporter,
                    "reported_at": reported,
                    "dispatched_at": reported,
                    "flow": rng.choice(("local", "bureau", "joint")),
                    "updated_at": reported,
                    "version": 1,
                }
            )
        with engine.begin() as c:
            c.execute(insert(Item), items)
            ids = [r[0] for r in c.execute(text("SELECT id FROM items WHERE id > :m ORDER BY id"), {"m": lo})][:n]
            for iid, it in zip(ids, items, strict=True):
                unit = rng.choice(unit_ids)
                units.append({"item_id": iid, "unit_id": unit, "part": "lead", "assigned_at": it["reported_at"]})
                t = it["reported_at"]
                for kind, hours in (("first_report", 1), ("written_report", 4), ("handling_report", 24)):
                    due = t + timedelta(hours=hours)
                    roll, late = rng.random(), args.late_share
                    state = (
                        "waived" if roll < 0.02 else "met_late" if roll < 0.02 + late * 2 / 3
                        else "missed" if roll < 0.02 + late else "met"
                    )  # fmt: skip
                    met = due + timedelta(minutes=rng.uniform(-50, -1) if state == "met" else rng.uniform(1, 300))
                    clocks.append(
                        {
                            "item_id": iid,
                            "kind": kind,
                            "label": kind,
                            "event": kind,
                            "owner": "lead_unit",
                            "owner_unit_id": unit,
                            "grade": it["grade"],
                            "started_at": t,
                            "nudge_at": t,
                            "warn_at": t,
                            "due_at": due,
                            "state": state,
                            "met_at": None if state == "missed" else met,
                            "level": 0,
                            "policy": POLICY,
                            "extensions": 0,
                        }
                    )
                step = t
                for j in range(per_item):
                    action = STEPS[j] if j < len(STEPS) else TAIL[(j - len(STEPS)) % len(TAIL)]
                    step += timedelta(minutes=rng.uniform(1, 90))
                    events.append({"item_id": iid, "actor": "bench", "action": action, "detail": {}, "at": step})
            c.execute(insert(ItemUnit), units)
            for chunk in _chunks(clocks):
                c.execute(insert(Clock), chunk)
            for chunk in _chunks(events):
                c.execute(insert(AuditEvent), chunk)
        print(f"  populated {lo + n:,} items ({time.perf_counter() - t0:.0f} s)", flush=True)
    with engine.begin() as c:
        sample = [r for r in c.execute(text("SELECT id, unit_id, item_id FROM item_units ORDER BY id LIMIT 2000"))]
        facts = [
            {
                "item_id": iid,
                "unit_id": uid,
                "kind": rng.choice(("漏报", "瞒报", "处置不当")),
                "role": "main",
                "reason": "基准",
                "evidence": "",
                "recorded_by": "bench",
                "at": START + timedelta(days=rng.uniform(0, 29)),
            }
            for _id, uid, iid in sample[:1000]
        ]
        c.execute(insert(Fact), facts)
        fids = [r[0] for r in c.execute(text("SELECT id, item_id, unit_id FROM facts ORDER BY id LIMIT 200"))]
        c.execute(
            insert(Dispute),
            [{"fact_key": f"F{f}", "item_id": facts[k]["item_id"], "unit_id": facts[k]["unit_id"], "by": "lead0",
              "reason": "基准", "at": NOW, "state": "pending"} for k, f in enumerate(fids)],
        )  # fmt: skip
        c.execute(text("ANALYZE"))
    engine.dispose()


def plans(rt: Any, month: str) -> list[str]:
    """Run the bulletin once with a listener that records every SELECT, then EXPLAIN each of them."""
    from workflow.appraisal import bulletin

    seen: list[tuple[str, Any]] = []

    def grab(_conn, _cur, statement, params, _ctx, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "EXPLAIN" not in statement:
            seen.append((statement, params))

    event.listen(rt.engine, "before_cursor_execute", grab)
    try:
        with rt.sessions() as s:
            bulletin.figures(s, rt.config, month, NOW)
    finally:
        event.remove(rt.engine, "before_cursor_execute", grab)
    verb = "EXPLAIN QUERY PLAN " if rt.engine.dialect.name == "sqlite" else "EXPLAIN "
    out = []
    with rt.engine.connect() as c:
        for statement, params in seen:
            if "FROM units" in statement and "item_units" not in statement:
                continue  # the unit list: 50 rows
            plan = [str(r[-1]).strip() for r in c.exec_driver_sql(verb + statement, params)]
            keep = [re.sub(r"\s+\(cost=[^)]*\)", "", p)[:160] for p in plan]
            first = " ".join(statement.split())[:90]
            out.append(f"{first}…\n      " + "\n      ".join(keep[:8]))
    return out


def peak_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Populate, measure the baseline and the bulletin, print the figures."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-bulletin-"))
    url = f"sqlite:///{tmp / 'bench.db'}" if args.db == "sqlite" else args.db
    try:
        print(
            f"bulletin benchmark: {args.items:,} items, {args.events:,} audit events, {args.units} units, "
            f"db {url.split('@')[-1]}"
        )
        upgrade(url)
        filler = multiprocessing.get_context("spawn").Process(target=populate, args=(url, args))
        filler.start()  # in its own process, so the peak memory printed below is the bulletin's
        filler.join()
        if filler.exitcode != 0:
            print("populating the database failed", file=sys.stderr)
            return 2
        from core.runtime import Runtime
        from wiring import wire
        from workflow.appraisal import bulletin, bulletin_files

        wecom = {"corp_id": "wwbench", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "k" * 43}
        raw = {"wecom": wecom, "database": {"url": url}, "app": {"data_dir": str(tmp)}}
        rt = Runtime(config_from_dict(raw, base_dir=tmp))
        wire(rt, queue=False)
        before = peak_mb()
        t = time.perf_counter()
        with rt.engine.connect() as c:
            n, _lo, _hi = c.execute(text("SELECT count(*), min(at), max(at) FROM audit_events")).one()
        base = time.perf_counter() - t
        t = time.perf_counter()
        with rt.sessions() as s:
            fig = bulletin.figures(s, rt.config, MONTH, NOW)
        figures_s = time.perf_counter() - t
        t = time.perf_counter()
        book = bulletin_files.xlsx(fig)
        xlsx_s = time.perf_counter() - t
        t = time.perf_counter()
        chart = bulletin_files.png(fig)
        png_s = time.perf_counter() - t
        total = figures_s + xlsx_s + png_s
        deductions = sum(len(u["deductions"]) for u in fig["units"])
        print(f"\nmonthly bulletin {MONTH}, db {rt.engine.dialect.name}")
        print(f"  baseline: one pass over {n:,} audit events          {base:6.2f} s")
        print(f"  figures (scores, {deductions:,} deductions, counts, times) {figures_s:6.2f} s")
        print(f"  xlsx ({len(book) // 1024} KB)                                  {xlsx_s:6.2f} s")
        print(f"  chart png ({len(chart) // 1024} KB)                             {png_s:6.2f} s")
        verdict = "ok" if total <= TARGET_S else "MISSED"
        print(
            f"  whole bulletin                                    {total:6.2f} s  (target ≤ {TARGET_S:g} s: {verdict})"
        )
        print(f"  ratio to the baseline pass                        {total / base:6.1f} ×")
        print(
            f"  peak memory of the process                        {peak_mb():6.0f} MB (after start-up {before:.0f} MB)"
        )
        print(
            f"  items counted {fig['items']['total']:,};"
            f" report→dispatch n = {fig['times']['report_to_dispatch']['n']:,}"
        )
        print("\nquery plans")
        for p in plans(rt, MONTH):
            print("  " + p)
        rt.engine.dispose()
        return 0 if total <= TARGET_S else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
