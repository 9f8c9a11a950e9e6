"""Benchmark the ledger's Chinese search (台账检索): 100,000 items and 300,000 written-report paragraphs.

For each database it fills the record with Core inserts, builds the index the way migration 0013 does
(models.search.rebuild, timed; on PostgreSQL it then fills 0017's one row per item in one statement), then
runs a mix of queries through the ledger exactly as the page does
(workflow.views.ledger.page: per-state counts, the first page of 20, the excerpts) and prints p50/p95/max per kind
of query and overall, against a baseline measured in the same run: the same question answered by LIKE '%…%' over
items and reports (no index can help it). Target: p95 ≤ 100 ms.

PostgreSQL: --pg URL (an empty database; LIAOWANG_TEST_DATABASE_URL is used when set), else a throw-away cluster
is started from the first /usr/lib/postgresql/*/bin/initdb found (as the postgres user when run as root), with
lc_ctype C so that nothing depends on a CJK-aware locale. --no-pg skips it.

    python3 -m bench.search [--items 100000] [--paragraphs 300000] [--queries 200] [--pg URL | --no-pg]
                            [--sqlite PATH] [--fill-only]

With --sqlite PATH (and --pg URL) a database already filled by an earlier run (e.g. --fill-only) is measured again
without filling it anew.
"""

from __future__ import annotations

import argparse
import bisect
import glob
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from migrations import upgrade
from models import Item, ItemUnit, Person, Submission, Unit
from models import search as index
from workflow.views import ledger

TARGET_MS = 100.0
START = datetime(2025, 1, 1, tzinfo=UTC)
# common characters of the bureau's record; words are drawn from a Zipf-like vocabulary over them
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法"
    "所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政"
    "四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最"
    "立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根"
    "论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联"
    "什认六共权收证改清美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整"
    "空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青"
    "省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专"
    "状育厂京识适属圆包火住调满县局城管执网舆投诉噪扰垃圾占道摊贩违章拆迁停车罚款视频微博抖音记者曝光"
)
TARGET_WORDS = 3000
# words an office worker really types, placed among the vocabulary from very common (rank 3) to rare (rank 2000)
TYPED = ("舆情", "网民", "拆迁", "医院", "投诉", "噪音扰民", "执法人员", "城管", "视频", "记者", "道歉", "停车", "学校")
TYPED_RANKS = (3, 8, 15, 30, 60, 100, 200, 300, 500, 800, 1200, 1600, 2000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--paragraphs", type=int, default=300_000)
    p.add_argument("--queries", type=int, default=200, help="queries per database (the LIKE baseline runs 20)")
    p.add_argument("--pg", default=os.environ.get("LIAOWANG_TEST_DATABASE_URL", ""), help="an empty PostgreSQL URL")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--sqlite", default="", metavar="PATH", help="keep the SQLite database in this file")
    p.add_argument("--fill-only", action="store_true", help="fill and index the databases, measure nothing")
    return p.parse_args(argv)


def vocabulary(rng: random.Random) -> list[str]:
    """Return TARGET_WORDS distinct 2–4 character words."""
    words: dict[str, None] = {}
    while len(words) < TARGET_WORDS:
        words["".join(rng.choice(CHARS) for _ in range(rng.choice((2, 2, 2, 3, 4))))] = None
    out = [w for w in words if w not in TYPED]
    for word, rank in zip(TYPED, TYPED_RANKS, strict=True):
        out.insert(rank, word)
    return out[:TARGET_WORDS]


def sentence(rng: random.Random, words: list[str], cum: list[float], n: int) -> str:
    """Return about n characters of words drawn by Zipf weights (cumulative: cum), with Chinese punctuation."""
    out: list[str] = []
    size = 0
    while size < n:
        w = words[bisect.bisect(cum, rng.random() * cum[-1])]
        out.append(w + ("，" if rng.random() < 0.15 else "。" if rng.random() < 0.05 else ""))
        size += len(out[-1])
    return "".join(out)


def populate(engine: Engine, items: int, paragraphs: int, rng: random.Random) -> None:
    """Write units, people, items (title, text, link) and report paragraphs."""
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (k + 1) for k in range(len(words))))
    with engine.begin() as c:
        c.execute(insert(Unit), [{"key": f"u{i}", "name": f"{rng.choice(words)}局{i}", "kind": "county",
                                  "active": True} for i in range(30)])  # fmt: skip
        units = [r[0] for r in c.execute(text("SELECT id FROM units ORDER BY id"))]
        c.execute(insert(Person), [{"userid": f"p{i}", "name": f"{rng.choice(CHARS)}{rng.choice(CHARS)}",
                                    "unit_id": rng.choice(units), "roles": ["commentator"], "active": True}
                                   for i in range(300)])  # fmt: skip
        people = [r[0] for r in c.execute(text("SELECT id FROM people ORDER BY id"))]
    per_item = max(1, paragraphs // items)
    states = ("reported", "dispatched", "written_reported", "approved", "closed", "archived", "archived")
    t0 = time.perf_counter()
    for lo in range(0, items, 10_000):
        n = min(10_000, items - lo)
        rows = []
        for k in range(n):
            at = START + timedelta(minutes=(lo + k) * 7)
            rows.append({"code": f"YQ-{at:%Y%m%d}-{lo + k:07d}", "title": sentence(rng, words, weights, 18),
                         "text": sentence(rng, words, weights, 90), "source": rng.choice(("discovery", "cac")),
                         "grade": rng.choice(("general", "significant", "major")), "state": rng.choice(states),
                         "reporter_id": rng.choice(people), "reported_at": at, "updated_at": at,
                         "version": 1})  # fmt: skip
        with engine.begin() as c:
            c.execute(insert(Item), rows)
            ids = [r[0] for r in c.execute(text("SELECT id FROM items WHERE id > :m ORDER BY id LIMIT :n"),
                                           {"m": lo, "n": n})]  # fmt: skip
            parts, reports = [], []
            for iid, row in zip(ids, rows, strict=True):
                unit = rng.choice(units)
                parts.append({"item_id": iid, "unit_id": unit, "part": "lead", "assigned_at": row["reported_at"]})
                for v in range(1, per_item + 1):
                    body = sentence(rng, words, weights, 110)
                    reports.append({"item_id": iid, "unit_id": unit, "part": "lead", "version": v,
                                    "author_id": people[0], "text": body, "via": "chat", "state": "approved",
                                    "created_at": row["reported_at"]})  # fmt: skip
            c.execute(insert(ItemUnit), parts)
            c.execute(insert(Submission), reports)
        print(f"  {lo + n:,} items, {(lo + n) * per_item:,} paragraphs ({time.perf_counter() - t0:.0f} s)", flush=True)


def queries(rng: random.Random, samples: list[str], names: list[str], n: int) -> list[tuple[str, str]]:
    """Return (kind, query) pairs: phrases cut from real paragraphs (3–8 characters), 2- and 1-character words,
    words as people type them (舆情, 网, 拆迁, 医院 …), names of people and units, two-word queries, and phrases that
    occur nowhere."""
    out: list[tuple[str, str]] = []
    clean = [s.replace("，", "").replace("。", "") for s in samples]
    while len(out) < n:
        s = rng.choice(clean)
        roll = rng.random()
        at = rng.randrange(0, len(s) - 10)
        if roll < 0.08:
            out.append(("常用词", rng.choice((*TYPED, "网", "局", "情"))))
        elif roll < 0.13:
            name = rng.choice(names)
            out.append(("人名、单位", name[:2] if rng.random() < 0.5 else name))
        elif roll < 0.45:
            out.append(("3–8 字短语", s[at : at + rng.randint(3, 8)]))
        elif roll < 0.65:
            out.append(("2 字词", s[at : at + 2]))
        elif roll < 0.72:
            out.append(("1 字", s[at]))
        elif roll < 0.9:
            other = rng.choice(clean)
            b = rng.randrange(0, len(other) - 10)
            out.append(("两个词", f"{s[at : at + 3]} {other[b : b + 2]}"))
        else:
            out.append(("不存在的词", "".join(rng.choice("龘靐齉爩麤") for _ in range(4))))
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run fn and return (milliseconds, its result)."""
    t = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t) * 1000, result


def like_page(session: Session, q: str) -> tuple[int, list[int]]:
    """The baseline: the same question by LIKE '%word%' over items and reports (count, first page of 20)."""
    conds = []
    for word in q.split():
        pattern = f"%{word}%"
        reports = select(Submission.item_id).where(Submission.text.like(pattern))
        conds.append(or_(Item.title.like(pattern), Item.text.like(pattern), Item.id.in_(reports)))
    count = session.scalar(select(func.count()).select_from(Item).where(*conds)) or 0
    first = select(Item.id).where(*conds).order_by(Item.reported_at.desc()).limit(20)
    return count, list(session.scalars(first))


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


Figures = dict[str, tuple[float, float]]  # kind of query → (p50, p95) in ms; "LIKE" the baseline


def run(name: str, url: str, args: argparse.Namespace) -> Figures:
    """Fill one database, build the index, measure; return the figures printed."""
    print(f"\n== {name} ==", flush=True)
    upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        filled = c.scalar(select(func.count()).select_from(Item)) or 0
    if filled < args.items:  # else a database filled before (--sqlite PATH, --pg URL) is measured again
        populate(engine, args.items, args.paragraphs, random.Random(23))
        with engine.begin() as c:
            ms, docs = timed(lambda: index.rebuild(c))
            c.execute(text("ANALYZE"))
        print(
            f"index built (as migrations 0013/0015 backfill; PostgreSQL: then one row per item, as 0017 does): "
            f"{docs:,} documents in {ms / 1000:.1f} s"
        )
    if args.fill_only:
        engine.dispose()
        return {}
    with engine.begin() as c:  # the same paragraphs and names on every run and database
        samples = list(c.scalars(select(Submission.text).where(Submission.id % 500 == 7).order_by(Submission.id)))
        names = list(c.scalars(select(Person.name).order_by(Person.id)))
        names += list(c.scalars(select(Unit.name).order_by(Unit.id)))
    sessions = sessionmaker(engine)
    mix = queries(random.Random(2323), samples, names, args.queries)
    by_kind: dict[str, list[float]] = {}
    hits = capped = 0
    with sessions() as s:
        ledger.page(s, ledger.Query(q=mix[0][1]), None)  # warm the caches once
        for kind, q in mix:
            ms, found = timed(lambda q=q: ledger.page(s, ledger.Query(q=q), None))  # type: ignore[misc]
            by_kind.setdefault(kind, []).append(ms)
            hits += found.total > 0
            capped += found.capped
        every = [x for v in by_kind.values() for x in v]
        print(f"ledger search (counts + first page + excerpts), {len(every)} queries, {hits} with results, "
              f"{capped} counted only to {ledger.COUNT_CAP}+:")  # fmt: skip
        for kind, values in by_kind.items():
            print(f"  {kind:<8} n={len(values):<4} p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  "
                  f"max {max(values):7.1f} ms")  # fmt: skip
        p95 = pct(every, 95)
        print(f"  all      p50 {pct(every, 50):7.1f} ms  p95 {p95:7.1f} ms  (target ≤ {TARGET_MS:.0f} ms: "
              f"{'met' if p95 <= TARGET_MS else 'NOT met'})")  # fmt: skip
        base = [timed(lambda q=q: like_page(s, q))[0] for _kind, q in mix[:20]]  # type: ignore[misc]
        ratio = statistics.median(base) / max(0.01, pct(every, 50))
        print(f"baseline LIKE '%…%' scan, 20 queries: p50 {pct(base, 50):.0f} ms  p95 {pct(base, 95):.0f} ms  "
              f"→ the index is {ratio:.0f}× faster at the median")  # fmt: skip
        explain(s, mix)
    engine.dispose()
    out = {kind: (pct(v, 50), pct(v, 95)) for kind, v in by_kind.items()}
    out["全部"] = (pct(every, 50), p95)
    out["LIKE"] = (pct(base, 50), pct(base, 95))
    return out


def table(results: dict[str, Figures]) -> str:
    """The figures as a Markdown table: p50/p95 per kind of query and database, the whole mix, the LIKE baseline."""
    dbs = list(results)
    kinds = list(dict.fromkeys(k for f in results.values() for k in f if k not in ("全部", "LIKE")))
    head = "| 检索词 | " + " | ".join(f"{d} p50 | {d} p95" for d in dbs) + " |"
    lines = [head, "|---|" + "---|---|" * len(dbs)]
    for kind in [*kinds, "全部", "LIKE"]:
        cells = [f"{results[d][kind][0]:.0f} ms | {results[d][kind][1]:.0f} ms" if kind in results[d] else "– | –"
                 for d in dbs]  # fmt: skip
        label = {"全部": "**全部**", "LIKE": "对照：`LIKE '%…%'`（20 个）"}.get(kind, kind)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    ratios = [f"{d} {results[d]['LIKE'][0] / max(0.01, results[d]['全部'][0]):.0f}×" for d in dbs]
    return "\n".join(lines) + "\n\nmedian speed-up over LIKE: " + ", ".join(ratios)


def explain(s: Session, mix: list[tuple[str, str]]) -> None:
    """Print how the database answers one phrase (PostgreSQL: proof that the GIN index is used)."""
    from workflow.record.search import matching, words

    dialect = s.get_bind().dialect.name
    word = words(next(q for k, q in mix if k.startswith("3")))[0]
    stmt = select(Item.id).where(Item.id.in_(matching(dialect, word)))
    compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
    verb = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    plan = [str(r[-1]) for r in s.execute(text(verb + str(compiled)))]
    print(f"plan for “{word}”:")
    for line in plan:
        print("   ", line)


@contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """Start a temporary PostgreSQL cluster (lc_ctype C) and yield its URL; None when no binaries are found."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="lw-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = 20000 + random.randrange(20000)
    data = root / "data"
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "--encoding=UTF8", "--locale=C"], check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w",
                    "start"], check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


LABELS = {"SQLite": "SQLite (FTS5 trigram + bigram)", "PostgreSQL": "PostgreSQL (GIN over each item's bigram tsvector)"}


def each_database(args: argparse.Namespace, prefix: str) -> Iterator[tuple[str, str]]:
    """("SQLite" | "PostgreSQL", URL) for each database a run covers: the file or URL given, else a temporary one
    (--no-sqlite / --no-pg leave one out); a throw-away database is removed when the caller moves on."""
    if not args.no_sqlite:
        if args.sqlite:
            yield "SQLite", f"sqlite:///{args.sqlite}"
        else:
            with tempfile.TemporaryDirectory(prefix=prefix) as d:
                yield "SQLite", f"sqlite:///{d}/bench.db"
    if not args.no_pg:
        if args.pg:
            yield "PostgreSQL", args.pg
            return
        with throwaway_postgres() as url:
            if url is None:
                print("\nPostgreSQL: no binaries found (give --pg URL); skipped.")
            else:
                yield "PostgreSQL", url


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite, then on PostgreSQL when one is given or can be started."""
    args = parse_args(argv)
    results: dict[str, Figures] = {}
    for db, url in each_database(args, "lw-bench-search-"):
        results[db] = run(LABELS[db], url, args)
    results = {k: v for k, v in results.items() if v}
    if not results:
        return 0
    print("\n" + table(results))
    p95s = {k: v["全部"][1] for k, v in results.items()}
    print("\nsummary: " + ", ".join(f"{k} p95 {v:.1f} ms" for k, v in p95s.items()) + f" (target ≤ {TARGET_MS:.0f} ms)")
    return 0 if all(v <= TARGET_MS for v in p95s.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
