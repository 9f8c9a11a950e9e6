"""The ledger (台账) on a phone in Chromium: the office opens 更多 → 舆情台账, searches a Chinese word found only in
a written report, and taps the row to open the case file; screenshots under test-output/browser/ (docs/img/ledger.png
is the search step's)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cli.commands import menu
from sandbox.server import EmulatorServer
from tests.browser.conftest import Shots
from tests.browser.test_phone_flow import no_tofu, phone
from tests.integration.flowkit import dispatched
from tests.integration.harness import Stack


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with H5 pages that the emulator's phone may frame, and the app menu created."""
    stack = make_stack(pages=True, extra={"web": {"frame_ancestors": emulator.url}})
    stack.rt.api.create_menu(menu(stack.rt.config))
    return stack


@pytest.fixture()
def page(chromium: Any, st: Stack, emulator: EmulatorServer) -> Iterator[Any]:
    """One phone, the office's, at a phone's size."""
    ctx = chromium.new_context(viewport={"width": 430, "height": 932}, locale="zh-CN", device_scale_factor=2)
    pg = ctx.new_page()
    pg.goto(f"{emulator.url}/phone?u=chenqi")
    yield pg
    ctx.close()


def test_the_office_searches_the_ledger_and_taps_a_row_to_open_the_case_file(
    st: Stack, page: Any, shots: Shots
) -> None:
    first = dispatched(st)
    st.say("wangwu", f"书面报告 {first} 经核实，已约谈当事执法人员并向商户道歉。")
    other = dispatched(st, units="城东区局", grade="一般", reporter="wuyi")
    st.say("sunshi", "上报 西山县某小区垃圾清运不及时，居民投诉 https://liuyan.example.cn/t/88")

    office = phone(page, "chenqi")
    if office.get_attribute("data-mode") == "input":
        office.locator('[data-action="to-menu"]').click()
    office.locator('[data-action="menu-open"]', has_text="更多").click()
    office.locator("[data-menu-url]", has_text="舆情台账").click()
    frame = page.frame_locator('.phone[data-userid="chenqi"] iframe')
    frame.locator("a.row").first.wait_for()
    assert frame.locator("a.row").count() == 3
    assert "全部 3" in frame.locator("nav.scopes").inner_text()

    frame.locator('input[name="q"]').fill("约谈当事")
    frame.locator('form.search button[type="submit"]').click()
    frame.locator("#summary", has_text="含“约谈当事”").wait_for()
    rows = frame.locator("a.row")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-code") == first
    assert "书面报告：" in rows.first.inner_text()
    assert other not in frame.locator("main").inner_text()
    no_tofu(page.frame(url=re.compile(r"/h5/items")))
    shots.take(page, "ledger-search")  # docs/img/ledger.png is a copy of this one

    rows.first.click()
    viewer = None
    for _ in range(100):  # the frame navigates to the case file: look for it, at most 10 s
        viewer = page.frame(url=re.compile(r"/h5/item/"))
        if viewer is not None:
            break
        page.wait_for_timeout(100)
    assert viewer is not None, "the row opened the case file"
    viewer.wait_for_load_state()
    assert first in viewer.url
    assert "约谈当事执法人员" in viewer.inner_text("body")
    shots.take(page, "case-file")
