"""Guided-reply tasks (组织跟帖) through the WeCom protocol: assign, prove by link or screenshot, decline, miss."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.integration.flowkit import buttons, cards, click, dispatched
from tests.integration.harness import Stack

GUIDED = "组织跟帖"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A plain stack."""
    return make_stack()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, format="PNG")
    return out.getvalue()


def test_the_office_assigns_people_and_units_and_each_proves_declines_or_misses(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"跟帖 {code} 张三 城东区局 说明执法过程合法、已依法处理 限2h")
    assert "共 2 人" in st.last("chenqi"), "张三 and 城东区局's commentator 吴一"
    card = cards(st, "zhangsan", GUIDED)[-1]
    assert set(buttons(card)) >= {"已跟帖", "无法完成"}
    assert "执法过程合法" in card["body"]["template_card"]["main_title"]["desc"]
    assert cards(st, "wuyi", GUIDED)
    click(st, "zhangsan", card, "已跟帖")
    assert "链接或截图" in st.reply("zhangsan")
    st.say("zhangsan", "我已经跟帖了")
    assert "不能作为凭证" in st.reply("zhangsan"), "a proof that is neither a link nor an image"
    st.say("zhangsan", "查询 " + code)
    assert "还没有完成" in st.reply("zhangsan"), "a command during the proof runs, and the flow stays open"
    st.emu.image("zhangsan", _png())
    st.drain()
    assert "已记录" in st.reply("zhangsan")
    assert any("跟帖完成" in t and "截图" in t for t in st.texts("chenqi"))
    st.say("zhangsan", f"已跟帖 {code} https://weibo.com/5/6")
    assert "已经报过完成" in st.last("zhangsan"), "proved once"
    st.say("chenqi", f"跟帖情况 {code}")
    progress = st.last("chenqi")
    assert "完成 1/2" in progress
    assert "张三：已完成" in progress
    st.later(100 * 60)
    assert any("跟帖提醒" in t for t in st.texts("wuyi")), "a reminder before the due"
    st.later(21 * 60)
    assert any("跟帖未完成" in t and "吴一" in t for t in st.texts("chenqi"))
    assert any("跟帖未完成" in t for t in st.texts("zhaoliu")) or any("跟帖未完成" in t for t in st.texts("sunshi")), (
        "the unit's lead is told"
    )
    st.say("chenqi", f"跟帖情况 {code}")
    assert "吴一：未完成（已超时）" in st.last("chenqi")


def test_declining_needs_a_reason_and_bad_assignments_are_refused(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"跟帖 {code} 局外人 说明情况")
    assert "没有找到人员或单位" in st.last("chenqi"), "a task for someone outside the organisation"
    st.say("chenqi", f"跟帖 {code} 王五 说明情况")
    assert "不是网评员" in st.last("chenqi")
    st.say("chenqi", f"跟帖 {code} 张三")
    assert "跟帖要点" in st.last("chenqi") or "格式" in st.last("chenqi")
    st.say("zhangsan", f"跟帖 {code} 张三 自己派自己")
    assert "只有领导小组办公室" in st.last("zhangsan")
    st.say("chenqi", f"跟帖 {code} 张三 说明已依法处理 https://weibo.com/9/9 限30m")
    card = cards(st, "zhangsan", GUIDED)[-1]
    assert any(b.get("url") == "https://weibo.com/9/9" for b in card["body"]["template_card"]["button_list"])
    click(st, "zhangsan", card, "无法完成")
    assert "原因" in st.reply("zhangsan")
    st.say("zhangsan", "帖子已被删除，无法跟帖")
    assert "已告知办公室" in st.reply("zhangsan")
    assert any("无法完成" in t and "帖子已被删除" in t for t in st.texts("chenqi"))
    st.later(31 * 60)
    assert not any("跟帖未完成" in t for t in st.texts("zhangsan")), "a declined part is not a miss"
