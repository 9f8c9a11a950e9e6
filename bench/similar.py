"""Benchmark the same-event suggestion (workflow.incident.similar): precision and recall on the labelled pairs of
tests/data/same_event_pairs.jsonl, and the time to suggest for a new item over 10,000 open items.

A fresh SQLite database (migrations applied) gets `--open` background items (other events of the same kinds at
made-up places, in other people's words, sharing the topic vocabulary), then the labelled items; every item is indexed
as the report path does (similar.index). A labelled pair counts as suggested when either item's suggestions
(similar.similar, the office's lookup, without its cap of MOST cards: other labelled items told in the very same
words may rank above a partner told differently) name the other. Suggestions of background items for labelled
items are counted too (they are other events: false suggestions). Then `--new` fresh items are each indexed and
looked up, timed (p50/p95/max). Targets: precision ≥ 0.9 at recall ≥ 0.7; suggestion ≤ 50 ms.

    python3 -m bench.similar [--open 10000] [--new 200] [--sqlite PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from migrations import upgrade
from models import GramCount, Item, Person, Posting, Signature
from tests.data import make_same_event as gen
from workflow.incident import similar

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "same_event_pairs.jsonl"
START = datetime(2026, 11, 1, tzinfo=UTC)
PLACE_CHARS = "金银翠绿华新阳光明东南西北中凤凰龙虎锦绣桂兰梅竹松柏湖江河海山泉林峰福寿康宁和平安泰云霞星月"
PLACE_ENDS = ["小区", "花园", "路", "广场", "市场", "公园", "大街", "苑", "新村", "商业街"]


def _place(rng: random.Random) -> str:
    return "".join(rng.choice(PLACE_CHARS) for _ in range(rng.randint(2, 3))) + rng.choice(PLACE_ENDS)


TOPICS = {  # each kind of incident as other people name it
    "占道": ["占道经营", "流动摊贩", "执法冲突"],
    "电梯": ["电梯故障", "电梯困人", "电梯维保"],
    "停水": ["停水", "供水中断", "水管爆裂"],
    "食品": ["食品安全", "后厨卫生", "餐馆"],
    "噪音": ["施工噪音", "夜间施工", "工地扰民"],
    "收费": ["停车收费", "乱收费", "收费标准"],
    "欠薪": ["拖欠工资", "农民工讨薪", "工程款"],
    "积水": ["道路积水", "内涝", "排水不畅"],
    "交通": ["交通事故", "渣土车", "电动车"],
    "宠物": ["犬只伤人", "遛狗不拴绳", "流浪狗"],
    "垃圾": ["垃圾清运", "垃圾站", "环境卫生"],
    "学校": ["学校食堂", "学生用餐", "校园安全"],
    "火灾": ["火灾", "起火", "消防通道"],
    "拆迁": ["拆迁补偿", "商户搬迁", "征收"],
}
SAYINGS = [
    "居民希望有关部门尽快处理",
    "事件引发热议",
    "评论区有人质疑监管不到位",
    "目前当事方尚未回应",
    "有关部门表示将调查核实",
    "不少人转发",
    "已有多人跟帖",
    "当地已安排人员到场",
    "网友呼吁给个说法",
    "发帖人称已多次反映",
    "附近居民意见很大",
    "有人表示类似情况不是第一次",
]


def background(n: int, seed: int = 7) -> list[dict[str, str]]:
    """n items of other events at made-up places: the same kinds of incident, in other people's words."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.choice(list(TOPICS))
        place = rng.choice(gen.DISTRICTS) * (rng.random() < 0.5) + _place(rng)
        topic = "、".join(rng.sample(TOPICS[kind], 2))
        body = f"{place}出现{topic}问题，" + "，".join(rng.sample(SAYINGS, 3)) + "。"
        text = rng.choice(gen.WRAP).format(t=body, who=rng.choice(gen.NAMES))
        out.append({"title": f"{place}{topic}"[:30], "text": text})
    return out


def _fill(session: Session, told: list[dict[str, str]], first: int, reporter: int) -> list[int]:
    """Insert items for told (state dispatched: open) and index them in bulk as similar.index would; return ids."""
    rows = [
        {"code": f"YQ-BENCH-{first + i:06d}", "title": t["title"][:200], "text": t["text"], "source": "discovery",
         "state": "dispatched", "reporter_id": reporter, "reported_at": START + timedelta(minutes=first + i),
         "updated_at": START, "version": 1}
        for i, t in enumerate(told)
    ]  # fmt: skip
    ids = list(session.scalars(insert(Item).returning(Item.id), rows))
    counts: dict[str, int] = {}
    sigs, posts = [], []
    for item_id, t in zip(ids, told, strict=True):
        found = similar.grams(t["title"], t["text"])
        sigs.append({"item_id": item_id, "grams": " ".join(sorted(found)), "indexed_at": START})
        posts += [{"gram": g, "item_id": item_id} for g in found if len(g) == 2]
        for g in found | {similar.TOTAL}:
            counts[g] = counts.get(g, 0) + 1
    session.execute(insert(Signature), sigs)
    session.execute(insert(Posting), posts)
    up = sqlite_insert(GramCount)
    session.execute(
        up.on_conflict_do_update(index_elements=["gram"], set_={"items": GramCount.items + up.excluded["items"]}),
        [{"gram": g, "items": c} for g, c in counts.items()],
    )
    return ids


def run(open_items: int, new: int, path: str) -> dict[str, Any]:
    """Fill, measure, return the figures."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_engine(url)
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with Session(engine) as s, s.begin():
        person = Person(userid="bench", name="测试", roles=["commentator"], active=True)
        s.add(person)
        s.flush()
        t0 = time.perf_counter()
        _fill(s, background(open_items), 0, person.id)
        labelled = _fill(s, [t for p in pairs for t in (p["a"], p["b"])], open_items, person.id)
        fill = time.perf_counter() - t0
    own = set(labelled)
    tp = fp = fn = tn = stray = 0
    with Session(engine) as s:
        found: dict[int, set[int]] = {}
        for item_id in labelled:
            found[item_id] = {m.item.id for m in similar.similar(s, s.get_one(Item, item_id), most=len(labelled))}
            stray += len(found[item_id] - own)
        for k, p in enumerate(pairs):
            a, b = labelled[2 * k], labelled[2 * k + 1]
            said = b in found[a] or a in found[b]
            tp, fp, fn, tn = (
                tp + (said and p["same"]),
                fp + (said and not p["same"]),
                fn + (not said and p["same"]),
                (tn + (not said and not p["same"])),
            )
    times: list[float] = []
    lookups: list[float] = []
    with Session(engine) as s:
        for i, t in enumerate(background(new, seed=99)):
            item = Item(code=f"YQ-NEW-{i:06d}", title=t["title"], text=t["text"], source="discovery",
                        state="dispatched", reporter_id=1, reported_at=START, updated_at=START)  # fmt: skip
            s.add(item)
            s.flush()
            t0 = time.perf_counter()
            found = similar.index(s, item, START)
            t1 = time.perf_counter()
            similar.similar(s, item, found)
            t2 = time.perf_counter()
            times.append((t2 - t0) * 1000)
            lookups.append((t2 - t1) * 1000)
        s.rollback()
    times.sort()
    lookups.sort()
    return {
        "open_items": open_items + len(labelled),
        "pairs": len(pairs),
        "same": sum(p["same"] for p in pairs),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "background_suggested": stray,
        "threshold": similar.threshold(open_items + len(labelled)),
        "fill_s": round(fill, 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],  # the machine's, when the times were taken
        "suggest_ms": _spread(times),  # index the new item and look up its suggestions (what a report adds)
        "lookup_ms": _spread(lookups),  # the look-up alone
    }


def _spread(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(ms), 1),
        "p95": round(ms[int(len(ms) * 0.95) - 1], 1),
        "max": round(ms[-1], 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--open", type=int, default=10_000, help="open background items (default 10000)")
    ap.add_argument("--new", type=int, default=200, help="new items timed (default 200)")
    ap.add_argument("--sqlite", default="", help="database file (default: a temporary one)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = run(a.open, a.new, a.sqlite or f"{tmp}/similar.db")
    print(json.dumps(out, ensure_ascii=False, indent=2))
    ok = out["precision"] >= 0.9 and out["recall"] >= 0.7 and out["suggest_ms"]["p95"] <= 50
    print(
        f"precision {out['precision']:.3f} recall {out['recall']:.3f} at threshold {out['threshold']:.3f}; "
        f"suggestion p95 {out['suggest_ms']['p95']} ms over {out['open_items']} open items — "
        + ("targets met" if ok else "TARGET MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
