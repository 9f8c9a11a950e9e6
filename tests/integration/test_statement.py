"""The agreed public line (统一口径) through the WeCom protocol: draft, 审核, 审定, confirmation, frozen, quoted."""

from __future__ import annotations

import pytest

from tests.integration.flowkit import buttons, cards, click, dispatched, forged_click
from tests.integration.harness import Stack

LINE = "统一口径"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A plain stack."""
    return make_stack()


def test_a_major_items_line_is_reviewed_decided_confirmed_then_frozen_and_quoted(st: Stack) -> None:
    code = dispatched(st, grade="重大")
    st.say("zhangsan", f"口径 {code} 冒名的口径")
    assert "领导小组办公室或主办单位负责人" in st.last("zhangsan"), "only the office or the lead unit drafts"
    st.say("chenqi", f"口径 {code} 我局已关注到网民反映的情况，正在依法依规调查处理。 会同 宣传处")
    assert "送审核" in st.last("chenqi")
    review = cards(st, "lisi", LINE)[-1]
    assert set(buttons(review)) == {"同意", "退回修改"}
    task = review["body"]["template_card"]["task_id"]
    forged_click(st, "liujiu", task, buttons(review)["同意"]["key"])
    assert "不是送您审批的" in st.reply("liujiu"), "a statement approved by the wrong person"
    click(st, "lisi", review, "同意")
    assert "审定" in st.reply("lisi")
    decide = cards(st, "liujiu", LINE)[-1]
    click(st, "liujiu", decide, "同意")
    assert "确认" in st.reply("liujiu")
    assert cards(st, "mali", LINE), "宣传处's lead is asked to confirm"
    st.say("chenqi", f"回复来源 {code} 口径")
    assert "先定稿口径" in st.last("chenqi"), "a line is not quoted before it is frozen"
    click(st, "mali", cards(st, "mali", LINE)[-1], "确认")
    assert "定稿" in st.reply("mali")
    assert any("【口径定稿】" in t for t in st.texts("chenqi"))
    st.say("chenqi", f"口径 {code}")
    assert "第 1 版（已定稿）" in st.last("chenqi")
    st.say("chenqi", f"发布 {code} 官方微博 https://weibo.com/gov/1")
    assert "已登记" in st.last("chenqi")
    st.say("chenqi", f"口径 {code}")
    assert "发布于官方微博" in st.last("chenqi")
    st.say("chenqi", f"查询 {code}")
    assert "时限：信息发布" in st.last("chenqi")
    assert "已按时完成" in st.last("chenqi").split("时限：信息发布")[1].split("\n")[0], "发布 meets the 24 h clock"
    assert "时限：滚动发布" in st.last("chenqi"), "then rolling updates are owed while the item is open"
    st.later(24 * 3600 + 60)
    assert any("滚动发布" in t and "【已超时】" not in t for t in st.texts("chenqi")), "the office is reminded"
    st.say("chenqi", f"跟帖 {code} 张三 口径")
    card = cards(st, "zhangsan", "组织跟帖")[-1]
    desc = card["body"]["template_card"]["main_title"]["desc"]
    assert "正在依法依规调查处理" in desc, "the line quotes the frozen text"


def test_a_returned_line_goes_back_to_its_drafter_and_publishing_needs_an_approved_one(st: Stack) -> None:
    code = dispatched(st, grade="较大")
    st.say("wangwu", f"发布 {code} 官方微博")
    assert "还没有定稿" in st.last("wangwu")
    st.say("wangwu", f"口径 {code} 第一稿")
    click(st, "lisi", cards(st, "lisi", LINE)[-1], "退回修改")
    assert "退回" in st.reply("lisi")
    assert "退回修改" in st.last("wangwu")
    st.say("wangwu", f"口径 {code} 第二稿")
    second = cards(st, "lisi", LINE)[-1]
    click(st, "lisi", second, "同意")
    assert "定稿" in st.reply("lisi"), "a significant item needs no 审定"
    st.later(1)  # a second click, not WeCom's retry of the first
    forged_click(st, "lisi", second["body"]["template_card"]["task_id"], buttons(second)["同意"]["key"])
    assert "已经处理过了" in st.reply("lisi"), "a decision is taken once"
    st.say("chenqi", f"口径 {code}")
    assert "第 1 版（已退回修改）" in st.last("chenqi")
    assert "第 2 版（已定稿）" in st.last("chenqi")
