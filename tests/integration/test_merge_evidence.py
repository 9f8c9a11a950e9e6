"""A merge of the same event (issue 25 item 4) carries the page captures (item 3) of the links it moves: the
survivor's case file lists the later item's capture beside its own."""

from __future__ import annotations

import pytest

from models.evidence import CaptureState
from tests.integration.flowkit import cards, click
from tests.integration.harness import Stack
from tests.integration.test_evidence import CHROMIUM, captures_of, case_file, evidence_cfg
from tests.integration.test_same_event import LIFT, LIFT_AGAIN, SOURCE, _report

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="网页取证测试跳过：找不到 Chromium")


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """H5 pages and 网页取证 on (no capture runs here: the requests are what moves)."""
    return make_stack(pages=True, extra=evidence_cfg())


def test_a_merge_moves_the_later_items_page_capture_to_the_survivor(st: Stack) -> None:
    first = _report(st, "zhangsan", LIFT)
    second = _report(st, "wuyi", LIFT_AGAIN)
    assert [c.state for c in captures_of(st, first)] == [CaptureState.pending]
    assert [c.state for c in captures_of(st, second)] == [CaptureState.pending]
    (card,) = cards(st, "chenqi", SOURCE)
    click(st, "chenqi", card, "合并")
    kept = captures_of(st, first)
    assert len(kept) == 2, "the douyin link's capture went with its link"
    assert captures_of(st, second) == []
    _, _, text = case_file(st, first)
    assert text.count("正在取证，请稍后刷新") == 2
