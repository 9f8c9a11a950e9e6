"""At phone size in Chromium: a 首报 done from the 写首报 button of the 签收 card in the sandbox phone (no 编号
typed), and the office's 工作日历 page (paste the notice, preview, save; a 重要节点 with the date pickers)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import select

from core import clock
from core.clock import LOCAL_TZ
from models import AuditEvent, SensitivePeriod
from models.calendar import DeclaredYear
from sandbox.server import EmulatorServer
from tests.browser.conftest import Shots
from tests.browser.test_phone_flow import no_tofu, phone, shows, type_in, until
from tests.integration.flowkit import code_in
from tests.integration.harness import Stack
from tests.integration.test_calendar_h5 import YEAR, notice

PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with H5 pages that the emulator's phones may frame."""
    return make_stack(pages=True, extra={"web": {"frame_ancestors": emulator.url}})


def test_a_first_report_from_the_card_button_without_typing_the_code(
    st: Stack, chromium: Any, emulator: EmulatorServer, shots: Shots
) -> None:
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = ctx.new_page()
    page.goto(f"{emulator.url}/phone?u=wangwu")
    st.say("zhangsan", "上报 网传城管与摊贩冲突视频 https://weibo.com/9/step-button")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    button = phone(page, "wangwu").locator(f'.card-btn[data-key="do:first_report:{code}"]')
    until(st, page, lambda: button.count() == 1, "王五的签收卡片上有“写首报”")
    no_tofu(page)
    shots.take(page, "dispatch-card")
    button.click()
    until(st, page, shows(page, "wangwu", "的首报内容"), "点“写首报”后请他直接发送首报内容")
    shots.take(page, "asked")
    type_in(page, "wangwu", "经核实，系摊贩占道经营被劝离，未发生肢体冲突。")
    until(st, page, shows(page, "wangwu", f"已记录 {code} 的首报"), "首报已记录")
    until(st, page, shows(page, "wangwu", "王五 已签收"), "首报即签收，签收卡片显示已签收")
    shots.take(page, "recorded")
    with st.rt.sessions() as s:
        texts = [
            (e.detail or {}).get("text")
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "first_report"))
        ]
    assert texts == ["经核实，系摊贩占道经营被劝离，未发生肢体冲突。"]
    ctx.close()


def _logged_in(page: Any, st: Stack, userid: str, path: str) -> None:
    """Open path in the browser as userid, through the emulator's OAuth2."""
    first = requests.get(st.app_url + path, allow_redirects=False, timeout=10)
    assert first.status_code == 302
    page.goto(first.headers["Location"].split("#")[0] + f"&as_user={userid}")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_the_office_pastes_next_years_notice_and_adds_a_period_on_a_phone(
    st: Stack, chromium: Any, shots: Shots
) -> None:
    clock.freeze(datetime(YEAR - 1, 11, 20, 10, 0, tzinfo=LOCAL_TZ))
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = ctx.new_page()
    _logged_in(page, st, "chenqi", "/h5/calendar")
    assert page.locator("h1").inner_text() == "工作日历与重要节点"
    no_tofu(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing sticks out sideways on a phone"
    shots.take(page, "calendar")
    page.fill("#year", str(YEAR))
    page.fill("#notice", notice())
    page.click("#preview-btn")
    page.locator("#preview").wait_for()
    assert "元旦：1月1日" in page.locator("#preview").inner_text()
    shots.take(page, "preview")
    page.click("#save")
    page.locator("#done").wait_for()
    assert f"已保存 {YEAR} 年的节假日安排" in page.locator("#done").inner_text()
    assert "办公室录入" in page.locator("#years").inner_text()
    shots.take(page, "saved")
    page.fill("#pname", "年终会议")
    page.fill("#pstart", f"{YEAR - 1}-12-10")
    page.fill("#pend", f"{YEAR - 1}-12-12")
    page.click("#period-btn")
    page.locator("#period-done").wait_for()
    assert "年终会议" in page.locator("#periods").inner_text()
    shots.take(page, "period")
    with st.rt.sessions() as s:
        assert s.get(DeclaredYear, YEAR) is not None
        assert s.scalars(select(SensitivePeriod.name)).all() == ["年终会议"]
    assert date(YEAR, 1, 1).year == YEAR
    ctx.close()
