"""Benchmark the statistics page's trends: items by source and by platform over 12 months, counted in SQL.

It fills a database with --per-month items in each of the 12 months before now (default 100,000 a month: 1.2 million
items; about 70 % with links on the platforms people name, a few with two links, some without), then times, in the
same run and on the same data, the way the counts were taken before (every item's month, source and first link read
into Python and counted there, kept below as python_count) against workflow.views.trends.by_source_and_platform (one
grouping query per chart), checks both give the same figures and prints both. --runs repeats each (the best is kept).

PostgreSQL: --pg URL (an empty database; LIAOWANG_TEST_DATABASE_URL is used when set), else a throw-away cluster is
started as bench.search does. --no-pg skips it.

    python3 -m bench.trends [--per-month 100000] [--runs 3] [--pg URL | --no-pg] [--no-sqlite] [--sqlite PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.search import each_database
from migrations import upgrade
from models import Item, ItemLink, ItemUnit, Person, Unit
from models.item import SOURCES
from workflow.views import trends

NOW = datetime(2026, 12, 6, 2, tzinfo=UTC)
HOSTS = (
    "https://weibo.com/{n}/x",
    "https://m.weibo.cn/status/{n}",
    "https://www.douyin.com/video/{n}",
    "https://v.kuaishou.com/{n}",
    "https://mp.weixin.qq.com/s/{n}",
    "https://www.xiaohongshu.com/explore/{n}",
    "https://www.bilibili.com/video/BV{n}",
    "https://www.zhihu.com/question/{n}",
    "https://bbs.example.com/thread-{n}.html",
    "http://12345.gov.cn/case/{n}",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.trends", description=__doc__.split("\n\n")[0])
    p.add_argument("--per-month", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pg", default=os.environ.get("LIAOWANG_TEST_DATABASE_URL", ""), help="an empty PostgreSQL URL")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--sqlite", default="", metavar="PATH", help="keep the SQLite database in this file")
    return p.parse_args(argv)


def populate(engine: Engine, per_month: int, rng: random.Random) -> None:
    """Write a few units and people, per_month items in each of the 12 months before NOW, their links and units."""
    with engine.begin() as c:
        c.execute(insert(Unit), [{"key": f"u{i}", "name": f"单位{i}", "kind": "county", "active": True}
                                 for i in range(10)])  # fmt: skip
        units = [r[0] for r in c.execute(text("SELECT id FROM units ORDER BY id"))]
        c.execute(insert(Person), [{"userid": f"p{i}", "name": f"人{i}", "unit_id": units[0],
                                    "roles": ["commentator"], "active": True} for i in range(20)])  # fmt: skip
        people = [r[0] for r in c.execute(text("SELECT id FROM people ORDER BY id"))]
    total, step = 12 * per_month, 20_000
    span = (NOW - datetime(NOW.year - 1, NOW.month, 1, tzinfo=UTC)).total_seconds()
    t0 = time.perf_counter()
    for lo in range(0, total, step):
        n = min(step, total - lo)
        rows = []
        for k in range(lo, lo + n):
            at = NOW - timedelta(seconds=span * (1 - (k + 0.5) / total))
            rows.append({"code": f"YQ-{at:%Y%m%d}-{k:07d}", "title": "标题", "text": "正文",
                         "source": rng.choice(tuple(SOURCES)), "grade": "general", "state": "archived",
                         "reporter_id": rng.choice(people), "reported_at": at, "updated_at": at,
                         "version": 1})  # fmt: skip
        with engine.begin() as c:
            c.execute(insert(Item), rows)
            ids = [r[0] for r in c.execute(text("SELECT id FROM items WHERE id > :m ORDER BY id LIMIT :n"),
                                           {"m": lo, "n": n})]  # fmt: skip
            links, parts = [], []
            for iid, row in zip(ids, rows, strict=True):
                parts.append({"item_id": iid, "unit_id": rng.choice(units), "part": "lead",
                              "assigned_at": row["reported_at"]})  # fmt: skip
                for j in range(0 if rng.random() < 0.3 else 2 if rng.random() < 0.1 else 1):
                    url = rng.choice(HOSTS).format(n=f"{iid}{j}")
                    links.append({"item_id": iid, "url": url, "normalized": url, "reporter_id": row["reporter_id"],
                                  "created_at": row["reported_at"]})  # fmt: skip
            c.execute(insert(ItemUnit), parts)
            c.execute(insert(ItemLink), links)
        print(f"  {lo + n:,} items ({time.perf_counter() - t0:.0f} s)", flush=True)
    with engine.begin() as c:
        c.execute(text("ANALYZE"))


def python_count(session: Session, span: list[trends.Month], units: list[int] | None = None) -> dict[str, Any]:
    """The baseline, as the page counted before: every item's (id, time, source) and first link read into Python."""
    q = select(Item.id, Item.reported_at, Item.source).where(*trends._in_span(span, units))
    items = list(session.execute(q))
    first_link: dict[int, str] = {}
    links = (
        select(ItemLink.item_id, ItemLink.url)
        .join(Item, Item.id == ItemLink.item_id)
        .where(Item.reported_at >= span[0].start, Item.reported_at < span[-1].end)
        .order_by(ItemLink.id)
    )
    for item_id, url in session.execute(links):
        first_link.setdefault(item_id, url)
    source: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    place: dict[str, list[int]] = defaultdict(lambda: [0] * len(span))
    total = [0] * len(span)
    buckets = trends.Buckets(span)
    for item_id, at, src in items:
        i = buckets.of(at)
        if i is None:
            continue
        total[i] += 1
        source[SOURCES.get(src, src)][i] += 1
        place[trends.platform(first_link[item_id]) if item_id in first_link else trends.NO_LINK][i] += 1
    return {"total": total, "by_source": trends._series(source), "by_platform": trends._series(place)}


def best(runs: int, fn: Any) -> tuple[float, Any]:
    """Run fn runs times; return (the fastest in seconds, its result)."""
    out: tuple[float, Any] = (float("inf"), None)
    for _ in range(runs):
        t = time.perf_counter()
        got = fn()
        out = min(out, (time.perf_counter() - t, got), key=lambda x: x[0])
    return out


def run(name: str, url: str, args: argparse.Namespace) -> tuple[float, float]:
    """Fill one database (unless filled already) and time both ways; return (before, after) in seconds."""
    print(f"\n== {name} ==", flush=True)
    upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        filled = c.scalar(select(func.count()).select_from(Item)) or 0
    if filled < 12 * args.per_month:
        populate(engine, args.per_month, random.Random(26))
    span = trends.months(NOW)
    with sessionmaker(engine)() as s:
        before, old = best(args.runs, lambda: python_count(s, span))
        after, new = best(args.runs, lambda: trends.by_source_and_platform(s, span))
        unit = s.scalar(select(Unit.id).order_by(Unit.id))
        one_before, one_old = best(args.runs, lambda: python_count(s, span, [unit]))
        one_after, one_new = best(args.runs, lambda: trends.by_source_and_platform(s, span, [unit]))
    engine.dispose()
    same = old == new and one_old == one_new
    print(f"items by source and by platform, 12 months, {sum(new['total']):,} items, best of {args.runs}:")
    print(f"  before (counted in Python): {before:6.2f} s    one unit: {one_before:6.2f} s")
    print(f"  after  (grouped in SQL):    {after:6.2f} s    one unit: {one_after:6.2f} s")
    print(f"  {before / max(after, 1e-6):.1f}× faster; the same figures: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("the SQL counts differ from the Python counts")
    return before, after


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite, then on PostgreSQL when one is given or can be started."""
    args = parse_args(argv)
    results: dict[str, tuple[float, float]] = {}
    for db, url in each_database(args, "lw-bench-trends-"):
        results[db] = run(db, url, args)
    print("\nsummary: " + ", ".join(f"{k} {b:.2f} s → {a:.2f} s" for k, (b, a) in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
