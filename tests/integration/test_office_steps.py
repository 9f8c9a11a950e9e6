"""The office's own steps without typing a 编号 (issue 23 item 5), through the WeCom emulator: 回复来源, 办结,
总结评估 and 归档 take the one item waiting for them, offer a card to pick from when several wait (the text typed
first is kept), refuse clearly when none waits, and 我的待办 gives the office a button for each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Item, ItemUnit
from tests.integration.flowkit import (
    buttons,
    cards,
    click,
    code_in,
    current,
    dispatched,
    forged_click,
    item_of,
    step_texts,
)
from tests.integration.harness import Stack

APPROVAL = "书面报告审核"
PICK = "选择舆情"
POLICY = {"follow_up_period": "1h", "follow_up_every": "1h"}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with a one-hour follow-up watch."""
    return make_stack(extra={"policy": POLICY})


def _approved(st: Stack, code: str, heard: bool = True) -> None:
    """Take item code through the written report and its approval; heard: the general office has no objection."""
    st.say("wangwu", f"书面报告 {code} 经核实，已妥善处置，拟答复如下……")
    click(st, "lisi", next(c for c in cards(st, "lisi", APPROVAL) if code in str(c["body"])), "批准")
    assert item_of(st, code).state == "approved"
    if heard:
        click(st, "zhouba", next(c for c in cards(st, "zhouba", "会商") if code in str(c["body"])), "无不同意见")


def test_one_item_waiting_goes_through_reply_close_evaluate_and_archive_without_a_code(st: Stack) -> None:
    code = dispatched(st)
    _approved(st, code)
    st.say("chenqi", "回复来源 已电话答复网民，执法人员已停职检查。")
    said = st.reply("chenqi")
    assert f"已记录 {code} 的答复并通知各方" in said, said
    assert step_texts(st, code, "reply_source") == ["已电话答复网民，执法人员已停职检查。"]
    st.say("chenqi", "办结 处置完毕")
    assert f"{code} 已办结，进入善后观察" in st.reply("chenqi")
    assert item_of(st, code).state == "follow_up"
    st.say("chenqi", "总结评估 处置及时")
    early = st.reply("chenqi")
    assert early.startswith("目前没有待总结评估的舆情（办结且善后观察期满后才能总结评估），请写上编号。"), early
    assert item_of(st, code).state == "follow_up", "the watch runs: nothing recorded"
    st.later(3600)
    st.say("chenqi", "总结评估 处置及时，舆情平稳。")
    assert f"已记录 {code} 的总结评估" in st.reply("chenqi")
    st.say("chenqi", "归档")
    assert st.reply("chenqi") == f"{code} 已立卷归档。"
    assert item_of(st, code).state == "archived"


def test_evaluate_alone_opens_the_form_for_the_one_item(st: Stack) -> None:
    code = dispatched(st)
    _approved(st, code)
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")  # with the 编号, as before
    assert f"已记录 {code} 的答复" in st.reply("chenqi")
    st.say("chenqi", f"办结 {code}")
    st.later(3600)
    st.say("chenqi", "总结评估")
    assert st.reply("chenqi").startswith(f"开始填写 {code} 的总结评估（共 4 项")
    for answer in ("响应快", "无", "加强巡查", "1"):
        st.say("chenqi", answer)
    assert f"已记录 {code} 的总结评估" in st.reply("chenqi")
    assert item_of(st, code).state == "evaluated"


def test_two_items_waiting_give_a_pick_card_and_the_reply_typed_first_is_kept(st: Stack) -> None:
    first, second = dispatched(st), dispatched(st)
    _approved(st, first)
    _approved(st, second)
    st.say("chenqi", "回复来源 已电话答复网民")
    said = st.reply("chenqi")
    assert "您有 2 条舆情待回复来源，是哪一条？点上面卡片上的按钮，或回复序号（您写的内容已记下）" in said, said
    assert first in said
    assert second in said
    assert step_texts(st, first, "reply_source") == []
    assert step_texts(st, second, "reply_source") == [], "nothing is recorded before the choice"
    pick = cards(st, "chenqi", PICK)[-1]
    keys = [b["key"] for b in pick["body"]["template_card"]["button_list"]]
    assert keys == [f"do:reply_source:{first}", f"do:reply_source:{second}"], keys
    click(st, "chenqi", pick, list(buttons(pick))[1])
    assert f"已记录 {second} 的答复并通知各方" in st.reply("chenqi")
    assert step_texts(st, second, "reply_source") == ["已电话答复网民"], "the text typed first is the one kept"
    assert item_of(st, first).state == "approved"
    assert current(st, "chenqi", pick)["replaced_button"].startswith(f"已选 {second}")
    st.say("chenqi", "回复来源 第一条也答复了")  # one left: no need to pick
    assert f"已记录 {first} 的答复" in st.reply("chenqi")
    st.say("chenqi", "办结")
    assert "您有 2 条舆情待办结，是哪一条？" in st.reply("chenqi")
    st.say("chenqi", "1")  # the numbered list works too; no note: as “办结 <编号>”
    assert "已办结，进入善后观察" in st.reply("chenqi")
    assert {item_of(st, first).state, item_of(st, second).state} == {"follow_up", "replied"}


def test_nothing_waiting_is_refused_with_the_usage_and_changes_nothing(st: Stack) -> None:
    st.say("chenqi", "归档")
    assert st.reply("chenqi") == (
        "目前没有待归档的舆情（总结评估后才能立卷归档），请写上编号。格式：归档 <编号>（只有一条待归档时可以不写编号）"
    )
    code = dispatched(st)
    _approved(st, code, heard=False)
    st.say("chenqi", "回复来源 已电话答复网民")
    said = st.reply("chenqi")
    assert said.startswith("目前没有可以回复来源的舆情（书面报告审核通过、局办公室反馈会商意见后才能回复来源）"), said
    assert "格式：回复来源 <编号> <答复内容>" in said
    assert item_of(st, code).state == "approved"
    assert step_texts(st, code, "reply_source") == []
    st.say("chenqi", "办结")
    assert "目前没有待办结的舆情" in st.reply("chenqi")
    st.say("chenqi", f"回复来源 {code} 已答复")  # with the 编号: the step's own sentence, as before
    assert "局办公室还没有反馈" in st.reply("chenqi")
    st.say("wangwu", "归档")
    assert st.reply("wangwu") == "只有领导小组办公室可以这样做。", "still the office's alone"
    st.say("chenqi", "回复来源 YQ-2026 已答复")
    assert "YQ-2026" in st.reply("chenqi"), "a mistyped 编号 is refused as one, never taken as the reply"
    assert step_texts(st, code, "reply_source") == []


def test_the_office_todo_card_carries_its_steps_and_a_tap_takes_them(st: Stack) -> None:
    replied, approved = dispatched(st), dispatched(st)
    _approved(st, replied)
    st.say("chenqi", f"回复来源 {replied} 已答复")
    _approved(st, approved)
    st.say("chenqi", "我的待办")
    listed = st.reply("chenqi")
    assert "可以直接点“我的待办”卡片上的按钮办理" in listed, listed
    todo = cards(st, "chenqi", "我的待办")[-1]
    names = list(buttons(todo))
    assert len(names) <= 6
    reply = next(b for b in names if b.endswith("回复来源"))
    close = next(b for b in names if b.endswith("办结"))
    assert buttons(todo)[reply]["key"] == f"do:reply_source:{approved}"
    click(st, "chenqi", todo, reply)
    ask = st.reply("chenqi")
    assert f"请直接发送 {approved}" in ask, ask
    assert "答复内容" in ask
    st.say("chenqi", "经核查，网传情况不实，已向网民说明。")
    assert f"已记录 {approved} 的答复并通知各方" in st.reply("chenqi")
    assert step_texts(st, approved, "reply_source") == ["经核查，网传情况不实，已向网民说明。"]
    click(st, "chenqi", todo, close)
    assert f"{replied} 已办结，进入善后观察" in st.reply("chenqi"), "as “办结 <编号>”: at once"
    st.later(60)  # a minute later (the same second would be a WeCom retry, dropped as one)
    click(st, "chenqi", todo, close)  # tapped again: refused by the item's state, nothing doubled
    assert "还不能办结" in st.reply("chenqi")
    st.later(3540)
    st.say("chenqi", f"总结评估 {replied} 处置及时")
    st.say("chenqi", "我的待办")
    assert f"待立卷归档（归档 {replied}）" in st.reply("chenqi")
    todo = cards(st, "chenqi", "我的待办")[-1]
    click(st, "chenqi", todo, next(b for b in buttons(todo) if b.endswith("归档")))
    assert st.reply("chenqi") == f"{replied} 已立卷归档。"
    assert item_of(st, replied).state == "archived"


def test_the_office_help_says_the_code_may_be_left_out(st: Stack) -> None:
    st.say("chenqi", "帮助")
    short = st.reply("chenqi")
    assert "交办 <单位> [一般|较大|重大]｜回复来源 <答复>｜办结｜总结评估｜归档：只有一条时不用写编号" in short, short
    assert len(short.split("\n")) <= 9
    st.say("chenqi", "帮助 全部")
    assert "交办、回复来源、办结、总结评估、归档：只有一条等着这一步时可以不写编号" in st.reply("chenqi")
    st.say("wangwu", "帮助")
    assert "归档" not in st.reply("wangwu"), "a unit lead is not shown the office's steps"


def test_the_office_step_buttons_are_the_office_s_alone(st: Stack) -> None:
    code = dispatched(st)
    _approved(st, code)
    st.say("chenqi", f"回复来源 {code} 已答复")
    st.say("chenqi", f"办结 {code}")
    st.later(3600)
    for key in (f"do:evaluate:{code}", f"do:archive:{code}", f"do:close:{code}"):
        forged_click(st, "wangwu", "todo-forged", key)
        assert "只有领导小组办公室可以" in st.reply("wangwu"), key
    st.say("wangwu", "响应快")  # no evaluation form was opened for the unit lead
    assert "2/4" not in st.reply("wangwu")
    assert item_of(st, code).state == "follow_up"


def test_each_kind_of_step_gets_a_button_before_any_gets_a_second(st: Stack) -> None:
    codes = [dispatched(st) for _ in range(6)]  # the office owes the public line (拟口径) on each
    _approved(st, codes[0])
    st.say("chenqi", "我的待办")
    todo = cards(st, "chenqi", "我的待办")[-1]
    names = list(buttons(todo))
    assert len(names) == 6, names
    assert sum(n.endswith("拟口径") for n in names) == 5, names
    assert names[-1] == "6 回复来源", "the reply is not crowded out by the public lines"
    assert buttons(todo)[names[-1]]["key"] == f"do:reply_source:{codes[0]}"


def _reported(st: Stack) -> str:
    """Report an item as a commentator (not yet dispatched); return its 编号."""
    st.say("zhangsan", f"上报 网传商户占道经营的视频 https://weibo.com/8/{len(st.inbox('zhangsan'))}")
    return code_in(st.last("zhangsan"))


def test_dispatch_takes_the_one_reported_item_and_asks_which_when_several_wait(st: Stack) -> None:
    st.say("chenqi", "交办 执法一队 一般")
    said = st.reply("chenqi")
    assert said.startswith("目前没有待定级交办的舆情，请写上编号。交办格式"), said
    first = _reported(st)
    st.say("chenqi", "交办 执法一队 较大")
    assert st.reply("chenqi").startswith(f"已交办 {first}"), "the one item waiting"
    assert item_of(st, first).grade == "significant"
    second, third = _reported(st), _reported(st)
    st.say("chenqi", "交办 执法一队 一般")
    assert "您有 2 条舆情待定级交办，是哪一条？" in st.reply("chenqi")
    assert item_of(st, second).state == item_of(st, third).state == "reported", "nothing before the choice"
    pick = cards(st, "chenqi", PICK)[-1]
    click(st, "chenqi", pick, list(buttons(pick))[1])
    assert st.reply("chenqi").startswith(f"已交办 {third}")
    assert item_of(st, third).grade == "general"
    st.say("chenqi", "交办")  # one left, nothing typed: a conversation asks for the units and the grade
    ask = st.reply("chenqi")
    assert f"请直接发送 {second}" in ask, ask
    assert "承办单位和等级" in ask
    st.say("chenqi", "执法一队 重大")
    assert st.reply("chenqi").startswith(f"已交办 {second}")
    assert item_of(st, second).grade == "major"
    st.say("wangwu", "交办 执法一队 一般")
    assert "只有领导小组办公室可以定级交办" in st.reply("wangwu")


def test_the_office_todo_card_dispatches_with_a_tap(st: Stack) -> None:
    code = _reported(st)
    st.say("chenqi", "我的待办")
    assert f"待交办 {code}" in st.reply("chenqi")
    todo = cards(st, "chenqi", "我的待办")[-1]
    name = next(b for b in buttons(todo) if b.endswith("定级交办"))
    assert buttons(todo)[name]["key"] == f"do:dispatch:{code}"
    click(st, "chenqi", todo, name)
    assert "承办单位和等级" in st.reply("chenqi")
    st.say("chenqi", "执法一队 协办 城东区局 较大")
    assert st.reply("chenqi").startswith(f"已交办 {code}")
    assert item_of(st, code).state == "dispatched"


def test_a_command_typed_while_dispatch_asks_is_answered_and_a_stale_button_is_refused(st: Stack) -> None:
    code = _reported(st)
    st.say("chenqi", "我的待办")
    todo = cards(st, "chenqi", "我的待办")[-1]
    st.say("chenqi", "交办")
    assert "承办单位和等级" in st.reply("chenqi")
    st.say("chenqi", f"查询 {code}")  # a command in the middle of the conversation is a command
    assert code in st.reply("chenqi")
    assert item_of(st, code).state == "reported", "the query was not taken as the units"
    st.say("chenqi", "执法一队 一般")
    assert st.reply("chenqi").startswith(f"已交办 {code}")
    st.later(60)
    click(st, "chenqi", todo, next(b for b in buttons(todo) if b.endswith("定级交办")))  # the list was made before
    stale = st.reply("chenqi")
    assert "交办" in stale, stale
    assert "承办单位和等级" not in stale, "no conversation is opened for an item already dispatched"
    with st.rt.sessions() as s:
        units = s.scalars(select(ItemUnit).join(Item).where(Item.code == code)).all()
    assert len(units) == 1, "dispatched once"
