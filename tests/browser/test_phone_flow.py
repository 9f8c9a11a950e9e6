"""A whole flow clicked through the phone UI in Chromium, then the board: report → dispatch → 签收 → reminder →
written report (upload page in the frame, then the chat) → approval; screenshots of every step."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cli.commands import menu
from sandbox.server import EmulatorServer
from tests.browser.conftest import Shots
from tests.browser.tofu import tofu
from tests.integration.harness import Stack

PEOPLE = ("zhangsan", "chenqi", "wangwu", "lisi")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
POLICY = {"start": "dispatched", "clocks": {"first_report": {"significant": {"aim": "20s", "due": "30s"}}}}


@pytest.fixture()
def st(make_stack, emulator: EmulatorServer) -> Stack:  # type: ignore[no-untyped-def]
    """Liaowang with H5 pages that the emulator's phones may frame, the app menu created, a frozen clock."""
    stack = make_stack(pages=True, extra={"policy": POLICY, "web": {"frame_ancestors": emulator.url}})
    stack.rt.api.create_menu(menu(stack.rt.config))
    return stack


@pytest.fixture()
def page(chromium: Any, st: Stack, emulator: EmulatorServer) -> Iterator[Any]:
    """Four phones side by side: commentator, office, unit lead, supervisor."""
    ctx = chromium.new_context(viewport={"width": 1700, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.goto(f"{emulator.url}/phone?" + "&".join(f"u={u}" for u in PEOPLE))
    yield pg
    ctx.close()


def until(st: Stack, page: Any, check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Work Liaowang's queue until check() holds in the browser (the phones poll the emulator), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st.drain()
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"等待超时：{what}")


def phone(page: Any, userid: str) -> Any:
    """Return the phone of userid."""
    return page.locator(f'.phone[data-userid="{userid}"]')


def type_in(page: Any, userid: str, text: str) -> None:
    """Switch the phone from its menu to the keyboard if needed, type text and press Enter."""
    p = phone(page, userid)
    if p.get_attribute("data-mode") == "menu":
        p.locator('[data-action="to-input"]').click()
    box = p.locator('textarea[name="text"]')
    box.fill(text)
    box.press("Enter")


def shows(page: Any, userid: str, words: str) -> Callable[[], bool]:
    """Return a check that userid's phone shows words."""
    return lambda: words in phone(page, userid).inner_text()


def no_tofu(target: Any) -> None:
    """Fail if the Chinese text on target renders as missing-glyph boxes (and prove the probe sees a real one)."""
    found = tofu(target, extra="\ue001")
    assert found["checked"] > 10, found
    assert found["tofu"] == ["\ue001"], found


def test_report_dispatch_acknowledge_remind_write_and_approve_through_the_phones(
    st: Stack, page: Any, shots: Shots
) -> None:
    shots.take(page, "phones")
    no_tofu(page)
    type_in(page, "zhangsan", "上报 微博有人发帖称执法一队执法粗暴 https://weibo.com/1/abc")
    until(st, page, shows(page, "zhangsan", "已收到您的上报"), "张三收到编号")
    code = re.search(r"YQ-\d{8}-\d{3}", phone(page, "zhangsan").inner_text()).group(0)  # type: ignore[union-attr]
    until(st, page, shows(page, "chenqi", "新舆情待交办"), "办公室收到待交办")
    shots.take(page, "reported")

    type_in(page, "chenqi", f"交办 {code} 执法一队 较大")
    ack = phone(page, "wangwu").locator('.card-btn[data-key^="ack:"]')
    until(st, page, lambda: ack.count() == 1, "王五收到签收卡片")
    shots.take(page, "dispatched")

    ack.click()
    until(st, page, shows(page, "wangwu", "王五 已签收"), "签收卡片显示“王五 已签收”")
    shots.take(page, "acknowledged")

    st.later(21)
    until(
        st,
        page,
        lambda: phone(page, "wangwu").locator('.card-btn[data-key^="oral:"]').count() == 1,
        "到了目标时间，王五收到首报提醒卡片",
    )
    shots.take(page, "reminded")

    upload = phone(page, "wangwu").locator(".card-btn[data-open]", has_text="上传文件")
    upload.click()
    frame = page.frame_locator('.phone[data-userid="wangwu"] iframe')
    frame.locator("textarea").wait_for()
    assert code in frame.locator("body").inner_text()
    no_tofu(page.frame(url=re.compile(r"/h5/upload/")))
    frame.locator("textarea").fill("现场核查情况见附件。")
    frame.locator('input[type="file"]').set_input_files(
        files=[{"name": "核查报告.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    shots.take(page, "upload-page")
    frame.locator("#send").click()
    frame.get_by_text("已提交第 1 版书面报告").wait_for()
    shots.take(page, "uploaded")
    phone(page, "wangwu").locator('[data-action="frame-back"]').click()
    until(
        st,
        page,
        lambda: phone(page, "lisi").locator('.card-btn[data-key$=":ok"]').count() == 1,
        "李四收到第 1 版（上传的 PDF）的审核卡片",
    )

    phone(page, "wangwu").locator('.card-btn[data-key^="wr:"]').first.click()
    until(st, page, shows(page, "wangwu", "开始填写"), "王五开始在聊天中写书面报告")
    type_in(page, "wangwu", "经核实，视频系执法人员依法劝离占道经营，未发生肢体冲突。")
    until(st, page, shows(page, "wangwu", "已记下第 1 段"), "记下第一段")
    assert "第 2 版" not in phone(page, "wangwu").inner_text()
    type_in(page, "wangwu", "提交")
    approve = phone(page, "lisi").locator('.card-btn[data-key$=":ok"]')
    until(st, page, shows(page, "lisi", "已由第 2 版取代"), "第 1 版的卡片显示已被第 2 版取代")
    until(st, page, lambda: approve.count() == 1, "李四收到第 2 版（聊天里写的）的审核卡片")
    shots.take(page, "written-report")

    phone(page, "lisi").locator(".card-btn[data-open]", has_text="查看报告").click()
    viewer = page.frame_locator('.phone[data-userid="lisi"] iframe')
    viewer.get_by_text("依法劝离占道经营").first.wait_for()
    assert code in viewer.locator("body").inner_text()
    shots.take(page, "viewer")
    no_tofu(page.frame(url=re.compile(r"/h5/item/")))
    phone(page, "lisi").locator('[data-action="frame-back"]').click()

    approve.click()
    until(st, page, shows(page, "lisi", "李四 已批准"), "审核卡片显示“李四 已批准”")
    until(st, page, shows(page, "wangwu", "审核通过"), "王五收到审核通过")
    shots.take(page, "approved")
    no_tofu(page)

    item = open_board(page)
    assert "已审核，待会商回复" in item.inner_text()
    assert 'data-label="处置情况报告"' in item.inner_html()
    assert "下一步 · 待会商意见：周八" in item.inner_text()
    assert 'data-label="书面报告"' not in item.inner_html(), "met clocks leave the board"
    shots.take(page, "board")


def open_board(page: Any, code: str | None = None) -> Any:
    """Open 更多 → 舆情看板 on the office's phone and return the item's section (the first one if code is None)."""
    office = phone(page, "chenqi")
    if office.get_attribute("data-mode") == "input":
        office.locator('[data-action="to-menu"]').click()
    office.locator('[data-action="menu-open"]', has_text="更多").click()
    office.locator("[data-menu-url]", has_text="舆情看板").click()
    board = page.frame_locator('.phone[data-userid="chenqi"] iframe')
    item = board.locator(f'section[data-code="{code}"]' if code else "section[data-code]").first
    item.wait_for()
    return item


def test_the_board_opened_from_the_office_menu_shows_the_item_and_its_countdown(
    st: Stack, page: Any, shots: Shots
) -> None:
    type_in(page, "zhangsan", "上报 抖音视频称城东区夜市执法人员推搡摊主")
    until(st, page, shows(page, "zhangsan", "已收到您的上报"), "张三收到编号")
    code = re.search(r"YQ-\d{8}-\d{3}", phone(page, "zhangsan").inner_text()).group(0)  # type: ignore[union-attr]
    type_in(page, "chenqi", f"交办 {code} 执法一队 较大")
    until(st, page, lambda: phone(page, "wangwu").locator('.card-btn[data-key^="ack:"]').count() == 1, "交办")
    item = open_board(page, code)
    assert "首报" in item.inner_text()
    assert "执法一队（王五）" in item.inner_text()
    countdown = item.locator('[data-label="首报"] .countdown')
    assert re.search(r"还剩 \d*", countdown.inner_text())
    shots.take(page, "board")
    no_tofu(page.frame(url=re.compile(r"/h5/board")))
