"""The case file and the trends at phone size (390×844) in Chromium: they read, nothing scrolls sideways, the case
file prints, the charts show their labels at a readable size; screenshots of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.server import EmulatorServer
from tests.browser.conftest import Shots
from tests.browser.tofu import tofu
from tests.integration.flowkit import code_in
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_casefile import whole_story
from tests.integration.test_deadlines import POLICY

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with H5 pages and clocks of seconds, on a frozen clock."""
    return make_stack(pages=True, extra={"policy": POLICY})


@pytest.fixture()
def office(chromium: Any, st: Stack) -> Iterator[Any]:
    """A phone-sized page logged in as the office (陈七): the WeCom OAuth round trip done, its cookie handed over."""
    login = Browser(st)
    assert login.login("chenqi", "/h5/stats").status_code == 200
    ctx = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    ctx.add_cookies([{"name": c.name, "value": c.value or "", "url": st.app_url} for c in login.http.cookies])
    page = ctx.new_page()
    yield page
    ctx.close()


def no_tofu(page: Any) -> None:
    """The Chinese text renders in real glyphs (and the probe does see a missing one)."""
    found = tofu(page, extra="\ue001")
    assert found["checked"] > 10, found
    assert found["tofu"] == ["\ue001"], found


def test_the_case_file_reads_on_a_phone_and_prints(st: Stack, office: Any, shots: Shots) -> None:
    code = whole_story(st)
    office.goto(f"{st.app_url}/h5/item/{code}")
    office.get_by_role("heading", name="处置经过").wait_for()
    assert office.evaluate(SIDEWAYS) <= 0, "nothing scrolls sideways at 390 px"
    no_tofu(office)
    body = office.locator("body").inner_text()
    assert "李四 同意书面报告延期" in body
    assert "wangwu" not in body
    shots.take(office, "casefile-phone")

    office.locator("#clocks").scroll_into_view_if_needed()
    office.evaluate("() => window.scrollBy(0, 400)")
    box = office.locator("#summary").bounding_box()
    assert box is not None
    assert abs(box["y"]) < 1, "the summary of state and what is owed stays on top"
    assert "处置情况报告" in office.locator("#summary").inner_text()
    office.set_viewport_size(PHONE)
    office.evaluate("() => window.scrollTo(0, 0)")
    office.screenshot(path=str(shots.dir / "casefile-top.png"))

    office.emulate_media(media="print")
    assert office.locator("nav.toc").is_hidden(), "the print leaves out the table of contents"
    assert office.locator("#print").is_hidden()
    assert office.evaluate("() => getComputedStyle(document.getElementById('summary')).position") == "static"
    pdf = office.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (shots.dir / "casefile.pdf").write_bytes(pdf)
    shots.take(office, "casefile-print")


def test_the_trends_chart_shows_its_labels_on_a_phone(st: Stack, office: Any, shots: Shots) -> None:
    whole_story(st)
    st.later(35 * 86400)  # a second month: another item, from another platform
    st.say("zhangsan", "上报 抖音视频称占道经营无人管 https://www.douyin.com/video/9")
    st.say("chenqi", f"交办 {code_in(st.last('zhangsan'))} 城东区局 一般")
    office.goto(f"{st.app_url}/h5/stats")
    trend = office.locator("#trends")
    trend.get_by_role("heading", name="每月条目（按平台）").wait_for()
    assert office.evaluate(SIDEWAYS) <= 0, "nothing scrolls sideways at 390 px"
    no_tofu(office)
    charts = trend.locator("svg")
    assert charts.count() >= 3
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None
        assert box["width"] <= PHONE["width"]
        assert box["width"] >= 300, "the chart uses the phone's width"
    smallest = office.evaluate(
        "() => Math.min(...Array.from(document.querySelectorAll('#trends svg text'))"
        ".map(t => t.getBoundingClientRect().height).filter(h => h > 0))"
    )
    assert smallest >= 9, f"labels are readable ({smallest:.1f} px)"
    assert trend.locator("svg text", has_text="抖音 1").count() == 1
    legend = trend.locator("svg text", has_text="微博 1")
    assert legend.count() == 1
    assert legend.first.is_visible()
    steps = office.locator("svg[aria-label^='各环节用时']")
    assert steps.count() == 1
    assert "分钟" in (steps.text_content() or "")
    trend.scroll_into_view_if_needed()
    shots.take(office, "trends-phone")
