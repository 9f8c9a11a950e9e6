"""At phone size in Chromium: the 写首报 button of the 签收 card answers with the link to the step's short H5 form;
the form shows the item and a text box, takes the 首报, and the back button and 提交 again records nothing more
(screenshots under test-output/browser/; docs/img/step-form.png is a copy of the form's)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent
from sandbox.server import EmulatorServer
from tests.browser.conftest import Shots
from tests.browser.test_phone_flow import no_tofu, phone, shows, until
from tests.browser.test_step_button import PHONE, _logged_in
from tests.integration.flowkit import code_in
from tests.integration.harness import Stack

FIRST = "经核实，系摊贩占道经营被劝离，未发生肢体冲突；已约谈当事人。"


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with H5 pages that the emulator's phones may frame."""
    return make_stack(pages=True, extra={"web": {"frame_ancestors": emulator.url}})


def _firsts(st: Stack) -> list[Any]:
    with st.rt.sessions() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "first_report"))
        return [(e.detail or {}).get("text") for e in rows]


def test_a_first_report_on_the_short_form_opened_from_the_card_button(
    st: Stack, chromium: Any, emulator: EmulatorServer, shots: Shots
) -> None:
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    chat = ctx.new_page()
    chat.goto(f"{emulator.url}/phone?u=wangwu")
    st.say("zhangsan", "上报 网传城管与摊贩冲突视频 https://weibo.com/9/step-form")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    button = phone(chat, "wangwu").locator(f'.card-btn[data-key="do:first_report:{code}"]')
    until(st, chat, lambda: button.count() == 1, "王五的签收卡片上有“写首报”")
    button.click()
    path = f"/h5/step/first_report/{code}"
    until(st, chat, shows(chat, "wangwu", f"也可以在网页上填写：{st.rt.config.public_url}{path}"), "回复里有表单链接")
    shots.take(chat, "asked-with-link")

    page = ctx.new_page()
    _logged_in(page, st, "wangwu", path)
    assert page.locator("h1").inner_text() == "首报"
    assert code in page.locator(".card").first.inner_text()
    no_tofu(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing sticks out sideways"
    box = page.locator("textarea#text")
    assert box.bounding_box()["width"] >= PHONE["width"] - 60, "the text box takes the phone's width"
    page.click("#send")  # empty: refused on the page, nothing recorded
    page.locator("#notice").wait_for()
    assert "请填写内容再提交；没有提交任何内容。" in page.locator("#notice").inner_text()
    assert _firsts(st) == []
    twin = ctx.new_page()  # the same form open twice (a second tab, or the back button to an older one)
    twin.goto(st.app_url + path)
    twin.fill("#text", FIRST)
    page.fill("#text", FIRST)
    assert page.locator("#count").inner_text() == f"已写 {len(FIRST)} 字"
    shots.take(page, "step-form")
    page.click("#send")
    page.locator("#said").wait_for()
    assert f"已记录 {code} 的首报" in page.locator("#said").inner_text()
    shots.take(page, "step-done")
    assert _firsts(st) == [FIRST]
    twin.click("#send")
    twin.locator("#again").wait_for()
    assert "这份内容已经提交过了，没有重复记录。" in twin.locator("#again").inner_text()
    shots.take(twin, "sent-twice")
    twin.goto(st.app_url + path)  # the form opened again: the 首报 is made
    assert "首报已经报过" in twin.locator("main").inner_text()
    assert twin.locator("textarea").count() == 0
    assert _firsts(st) == [FIRST], "recorded once"
    until(st, chat, shows(chat, "wangwu", "王五 已签收"), "首报即签收，签收卡片显示已签收")
    ctx.close()
