"""The office and leaders' board (看板): who may open it, countdowns, misses and escalations, filters."""

from __future__ import annotations

import re

import pytest

from tests.integration.flowkit import dispatched
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack

POLICY = {
    "start": "dispatched",
    "escalate_after": "20s",
    "escalate_every": "20s",
    "clocks": {"first_report": {"significant": {"aim": "20s", "due": "30s"}, "general": {"due": "60s"}}},
}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages on the emulator's OAuth and second-scale first-report clocks."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _sections(html: str) -> dict[str, str]:
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<section class="item[^"]*" data-code="([^"]+)".*?</section>', html, re.S)
    }


def test_the_board_in_everyones_menu_shows_everyone_what_concerns_them(st: Stack) -> None:
    first = dispatched(st, grade="较大")  # 执法一队, reported by zhangsan
    second = dispatched(st, units="城东区局", grade="一般", reporter="wuyi")
    for userid in ("chenqi", "liujiu", "zhouba"):
        page = Browser(st).login(userid, "/h5/board")
        assert page.status_code == 200
        assert set(_sections(page.text)) == {first, second}, userid
        assert "与您有关的条目" not in page.text
    for userid, own in (("wangwu", {first}), ("zhangsan", {first}), ("sunshi", {second}), ("wuyi", {second})):
        page = Browser(st).login(userid, "/h5/board")
        assert page.status_code == 200, "the menu is the same for everyone: the page opens for everyone"
        assert set(_sections(page.text)) == own, userid
        assert "与您有关的条目" in page.text
    assert Browser(st).get("/h5/board/rows").status_code == 403, "no session, no rows"


def test_the_board_shows_what_is_owed_by_whom_with_countdowns_misses_and_escalations(st: Stack) -> None:
    first = dispatched(st, grade="较大")
    second = dispatched(st, units="城东区局", grade="一般", reporter="wuyi")
    browser = Browser(st)
    page = browser.login("chenqi", "/h5/board")
    items = _sections(page.text)
    assert set(items) == {first, second}
    assert "首报" in items[first]
    assert "执法一队（王五）" in items[first]
    assert "还剩 30秒" in items[first]
    assert "下一步 · 待签收：王五" in items[first]
    assert "下一步 · 待签收：孙十" in items[second]
    assert 'id="stat-missed">0<' in page.text
    st.later(31)
    page = browser.get("/h5/board/rows")
    items = _sections(page.text)
    assert "已超时" in items[first]
    assert "督办第 1 级" in items[first]
    assert list(items)[0] == first, "missed items come first"
    assert 'id="stat-missed">1<' in page.text
    assert 'id="stat-escalated">0<' in page.text
    st.later(20)
    page = browser.get("/h5/board/rows")
    assert "督办第 2 级" in _sections(page.text)[first]
    assert 'id="stat-escalated">1<' in page.text
    st.say("wangwu", f"首报 {first} 已核实")
    after = _sections(browser.get("/h5/board/rows").text)[first]
    assert 'data-label="首报"' not in after, "a met clock leaves the board"
    assert 'data-label="书面报告"' in after, "a met clock leaves the board"
    assert "已首报" in after


def test_filters_by_unit_and_grade(st: Stack) -> None:
    first = dispatched(st, grade="较大")
    second = dispatched(st, units="城东区局", grade="一般", reporter="wuyi")
    browser = Browser(st)
    browser.login("liujiu", "/h5/board")
    assert set(_sections(browser.get("/h5/board?unit=chengdong").text)) == {second}
    assert set(_sections(browser.get("/h5/board?grade=significant").text)) == {first}
    assert set(_sections(browser.get("/h5/board?unit=team1&grade=general").text)) == set()
    assert "没有符合条件" in browser.get("/h5/board?unit=nowhere").text
