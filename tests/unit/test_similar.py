"""The same event recognised: the grams, the weighted cosine, the labelled pairs, and the procedure table's rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from models import similar as models_similar
from models.clocktable import Effect, effect_of
from models.procedure import ACTIONS, OPEN, Act
from models.state import STATE_NAMES, TRANSITIONS, CardPurpose, ItemState
from tests.data import make_same_event
from workflow.incident import links, similar

DATA = Path(__file__).resolve().parents[1] / "data" / "same_event_pairs.jsonl"


def _pairs() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_grams_leave_out_links_punctuation_and_the_words_every_post_uses() -> None:
    found = similar.grams("网友爆料：电梯困人", "视频显示锦绣花园电梯困人！ https://weibo.com/1/2")
    assert {"电梯", "困人", "锦绣", "电", "梯"} <= found
    assert not {"网友", "爆料", "视频", "显示", "weibo", "://", "：", "！"} & found
    assert all(1 <= len(g) <= 2 for g in found)


def test_the_cosine_is_one_for_the_same_text_zero_for_nothing_shared_and_symmetric() -> None:
    a = similar.grams("锦绣花园电梯困人", "")
    b = similar.grams("解放大道停车收费", "")
    c = similar.grams("锦绣花园停水", "")
    counts = Counter(g for s in (a, b, c) for g in s)
    assert abs(similar.cosine(a, a, counts, 3) - 1.0) < 1e-9
    assert similar.cosine(a, b, counts, 3) == 0.0
    assert similar.cosine(a, c, counts, 3) == similar.cosine(c, a, counts, 3) > 0
    assert similar.cosine(a, set(), counts, 3) == 0.0


def test_a_rare_shared_gram_weighs_more_than_a_common_one() -> None:
    assert similar.weight(1000, 1) > similar.weight(1000, 100) > similar.weight(1000, 1000)


def test_the_bar_is_higher_while_few_items_are_indexed_and_settles_at_the_threshold() -> None:
    assert similar.threshold(0) > similar.threshold(100) > similar.threshold(similar.SETTLED)
    assert similar.threshold(similar.SETTLED) == similar.threshold(10_000) == similar.THRESHOLD


def test_the_labelled_set_has_enough_pairs_of_each_kind_and_is_what_its_generator_writes() -> None:
    pairs = _pairs()
    assert len(pairs) >= 150
    whys = Counter(str(p["why"]) for p in pairs)
    assert whys["同一事件不同说法"] >= 75
    assert {"同一地点不同事件", "同类事件不同地点", "同一部门不同事件"} <= set(whys)
    assert pairs == json.loads(json.dumps(make_same_event.pairs())), "regenerate: python3 tests/data/make_same_event.py"


def test_on_the_labelled_pairs_alone_the_threshold_keeps_precision_and_recall() -> None:
    """The weights from the pairs' own 360 items (the benchmark adds 10,000 open items: bench/similar.py)."""
    pairs = _pairs()
    sets = [(similar.grams(**p["a"]), similar.grams(**p["b"])) for p in pairs]  # type: ignore[arg-type]
    counts = Counter(g for a, b in sets for s in (a, b) for g in s)
    items = 2 * len(pairs)
    bar = similar.threshold(items)
    said = [similar.cosine(a, b, counts, items) >= bar for a, b in sets]
    tp = sum(1 for s, p in zip(said, pairs, strict=True) if s and p["same"])
    fp = sum(1 for s, p in zip(said, pairs, strict=True) if s and not p["same"])
    fn = sum(1 for s, p in zip(said, pairs, strict=True) if not s and p["same"])
    assert tp / (tp + fp) >= 0.85, (tp, fp, fn)
    assert tp / (tp + fn) >= 0.7, (tp, fp, fn)


def test_merging_is_declared_in_the_table_and_ends_the_merged_items_clocks_without_a_miss() -> None:
    merge, absorb, not_same = ACTIONS[Act.merge], ACTIONS[Act.absorb], ACTIONS[Act.not_same]
    assert merge.to == ItemState.merged
    assert merge.who == absorb.who == not_same.who == ("office",)
    assert OPEN | {ItemState.reported} == merge.states == absorb.states
    assert CardPurpose.same_event in merge.closes
    assert CardPurpose.same_event in not_same.closes
    on_all = effect_of(Act.merge)
    assert on_all is not None
    assert on_all.effect == Effect.waive
    assert TRANSITIONS[ItemState.merged] == frozenset(), "a merged item is a read-only pointer"
    assert ItemState.merged not in not_same.states
    said = merge.refuse("YQ-20270615-001", ItemState.merged)
    assert said.startswith("YQ-20270615-001 已并入同一事件的另一条目")
    assert "查询 YQ-20270615-001" in said
    assert STATE_NAMES[ItemState.merged] == "已并入同一事件的另一条目"


def test_the_signature_drops_links_as_the_report_finds_them() -> None:
    assert models_similar.LINK.pattern == links.URL_RE.pattern
    assert models_similar.LINK.flags == links.URL_RE.flags
