"""The pick list as buttons (issue 23 item 5): a person who leaves out the 编号 and owes the step on several items
gets a card with one button per item (at most 6, what WeCom allows; more stay a numbered list), tapping one continues
the same step for that item; and 签收 alone acknowledges the one item owed, offers the pick on several, and says so
when there is none."""

from __future__ import annotations

from sqlalchemy import select

from models import Item, ItemUnit
from tests.integration.flowkit import buttons, cards, click, current, dispatched, step_texts
from tests.integration.harness import Stack

PICK = "选择舆情"


def _signed(st: Stack, code: str) -> bool:
    with st.rt.sessions() as s:
        row = s.scalar(select(ItemUnit).join(Item).where(Item.code == code, ItemUnit.part == "lead"))
        assert row is not None
        return row.acknowledged_at is not None


def test_two_items_owed_give_a_card_with_a_button_each_and_a_tap_takes_the_step(stack: Stack) -> None:
    st = stack
    first, second = dispatched(st), dispatched(st)
    st.say("wangwu", "首报 已核实，情况属实，正在处置。")
    said = st.reply("wangwu")
    assert "您有 2 条舆情待首报，是哪一条？点上面卡片上的按钮，或回复序号（您写的内容已记下）" in said, said
    pick = cards(st, "wangwu", PICK)[-1]
    card = pick["body"]["template_card"]
    assert card["main_title"]["title"].startswith("您有 2 条舆情待首报")
    names = list(buttons(pick))
    assert len(names) == 2
    assert names[0].startswith("1 ")
    assert names[1].startswith("2 ")
    assert [b["key"] for b in card["button_list"]] == [f"do:first_report:{first}", f"do:first_report:{second}"]
    assert step_texts(st, first, "first_report") == [], "nothing is recorded before the choice"
    click(st, "wangwu", pick, names[1])
    assert f"已记录 {second} 的首报" in st.reply("wangwu")
    assert step_texts(st, second, "first_report") == ["已核实，情况属实，正在处置。"], "the text typed first is kept"
    assert step_texts(st, first, "first_report") == []
    assert current(st, "wangwu", pick)["replaced_button"].startswith(f"已选 {second}"), "the card shows the choice"
    st.say("wangwu", "再说一句")  # the pick is over
    assert "序号" not in st.reply("wangwu")
    assert step_texts(st, first, "first_report") == []


def test_a_pick_without_text_opens_the_step_for_the_item_tapped(stack: Stack) -> None:
    st = stack
    first, second = dispatched(st), dispatched(st)
    st.say("wangwu", "书面报告")
    assert "您有 2 条舆情待报送书面报告" in st.reply("wangwu")
    pick = cards(st, "wangwu", PICK)[-1]
    click(st, "wangwu", pick, list(buttons(pick))[0])
    assert f"开始填写 {first} 的书面报告" in st.reply("wangwu")
    st.say("wangwu", "经核实，已妥善处置。")
    st.say("wangwu", "提交")
    assert f"已收到 {first} 的书面报告（第 1 版）" in st.reply("wangwu")
    assert second != first


def test_more_items_than_buttons_stay_a_numbered_list(stack: Stack) -> None:
    st = stack
    codes = [dispatched(st) for _ in range(6)]
    st.say("wangwu", "续报 现场秩序已恢复")
    assert "您有 6 条舆情在承办，可以续报，是哪一条？点上面卡片上的按钮" in st.reply("wangwu")
    six = cards(st, "wangwu", PICK)[-1]
    assert len(buttons(six)) == 6, "six buttons: what WeCom (and the emulator's check) allows"
    st.say("wangwu", "取消")
    codes.append(dispatched(st))
    before = len(cards(st, "wangwu", PICK))
    st.say("wangwu", "续报 现场秩序已恢复")
    said = st.reply("wangwu")
    assert "您有 7 条舆情在承办，可以续报，是哪一条？回复序号" in said, said
    assert "7." in said
    assert len(cards(st, "wangwu", PICK)) == before, "a card holds at most 6 buttons: no card"
    st.say("wangwu", "7")
    assert f"已记录为 {codes[6]} 的首报" in st.reply("wangwu"), "the 7th, in the order listed"


def test_sign_alone_acknowledges_the_one_item_owed_picks_among_several_and_says_when_none(stack: Stack) -> None:
    st = stack
    st.say("wangwu", "签收")
    none = st.reply("wangwu")
    assert none == "您目前没有需要签收的舆情（已签收的无需再签）。", none
    only = dispatched(st)
    st.say("wangwu", "签收")
    assert f"已签收 {only}" in st.reply("wangwu")
    assert _signed(st, only)
    first, second = dispatched(st), dispatched(st)
    st.say("wangwu", "签收")
    assert "您有 2 条舆情待签收，是哪一条？" in st.reply("wangwu")
    assert not _signed(st, first)
    pick = cards(st, "wangwu", PICK)[-1]
    assert [b["key"] for b in pick["body"]["template_card"]["button_list"]] == [
        f"do:acknowledge:{first}",
        f"do:acknowledge:{second}",
    ]
    click(st, "wangwu", pick, list(buttons(pick))[0])
    assert f"已签收 {first}" in st.reply("wangwu")
    assert (_signed(st, first), _signed(st, second)) == (True, False)
    assert current(st, "wangwu", pick)["replaced_button"].startswith(f"已选 {first}")
    st.say("wangwu", "签收")  # one left: no need to pick
    assert f"已签收 {second}" in st.reply("wangwu")
    st.say("wangwu", f"签收 {first}")
    assert "无需重复签收" in st.reply("wangwu"), "签收 with a 编号 works as before"


def test_the_pick_answered_by_the_sign_button_on_the_dispatch_card(stack: Stack) -> None:
    st = stack
    first, second = dispatched(st), dispatched(st)
    st.say("wangwu", "签收")
    assert "是哪一条" in st.reply("wangwu")
    dispatch = next(c for c in cards(st, "wangwu", "舆情交办") if first in str(c["body"]))
    click(st, "wangwu", dispatch, "签收")
    assert f"已签收 {first}" in st.reply("wangwu")
    st.say("wangwu", "收到")  # no longer asked which item: not read as a number
    assert "请回复 1–2 的序号" not in st.reply("wangwu")
    assert not _signed(st, second)
