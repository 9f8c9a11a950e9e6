"""What 办结 and 定级 do to the clocks still owed is the clock table's (ON_ALL), applied by the procedure engine: people
read the same record as before (issue 22: one owner per rule)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent
from models.clock import Clock
from tests.integration.flowkit import buttons, cards, click, code_in, current, item_of
from tests.integration.harness import Stack

POLICY = {
    "start": "dispatched",
    "clocks": {"first_report": {"general": {"due": "60s"}}, "handling_report": {"all": {"due": "1h"}}},
}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack whose 处置情况报告 is due within the hour."""
    return make_stack(extra={"policy": POLICY})


def _replied(st: Stack) -> str:
    st.say("zhangsan", "上报 网传执法人员态度粗暴 https://weibo.com/8/8")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    return code


def test_closing_waives_what_is_still_owed_with_a_line_each_and_nothing_fires_after(st: Stack) -> None:
    code = _replied(st)
    st.say("chenqi", f"办结 {code} 处置完毕")
    assert item_of(st, code).state == "follow_up"
    with st.rt.sessions() as s:
        owed = s.scalar(select(Clock).where(Clock.kind == "handling_report"))
        assert owed is not None
        assert owed.state == "waived", "the 处置情况报告 nobody sent is waived at 办结"
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "clock_waived")))
        assert {r.detail["kind"] for r in rows} >= {"handling_report"}
        assert all(r.detail["reason"] == "已办结" and r.actor == "chenqi" for r in rows)
        close_id = s.scalar(select(AuditEvent.id).where(AuditEvent.action == "close"))
        assert close_id is not None
        assert all(r.id > close_id for r in rows), "the waivers follow the 办结 row"
    st.say("chenqi", f"查询 {code}")
    assert "免除处置情况报告时限：已办结" in st.last("chenqi"), st.last("chenqi")
    since = len(st.inbox("wangwu"))
    st.later(3700)
    assert not [t for t in st.texts("wangwu", since) if "处置情况报告" in t], "a waived clock fires nothing"


def test_regrading_reschedules_the_open_clocks_and_says_so_in_the_record(st: Stack) -> None:
    st.say("zhangsan", "上报 定级测试条目")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    with st.rt.sessions() as s:
        before = s.scalar(select(Clock.due_at).where(Clock.kind == "written_report"))
    st.say("chenqi", f"定级 {code} 重大")
    with st.rt.sessions() as s:
        after = s.scalar(select(Clock.due_at).where(Clock.kind == "written_report"))
        regraded = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "clock_regrade")))
        order = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert before is not None
    assert after is not None
    assert after < before, "a major item's 书面报告 is due sooner"
    assert regraded, "each rescheduled clock has its row"
    assert all(r.actor == "chenqi" and r.detail["grade"] == "major" for r in regraded)
    assert order.index("regrade") < order.index("clock_regrade"), "the 定级 row comes first"


def test_the_reminder_and_the_final_warning_offer_the_next_step_from_the_clock_table(st: Stack) -> None:
    st.say("zhangsan", "上报 提醒按钮测试条目")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    st.later(31)
    nudge = cards(st, "wangwu", "时限提醒")[-1]
    assert list(buttons(nudge)) == ["已口头汇报", "写首报"], buttons(nudge)
    assert buttons(nudge)["写首报"]["key"] == f"do:first_report:{code}"
    st.later(18)
    warning = cards(st, "wangwu", "时限提醒")[-1]
    assert "即将超时" in str(warning["body"]), warning
    assert list(buttons(warning)) == ["已口头汇报", "写首报", "申请延期"], "three buttons, within WeCom's limits"
    click(st, "wangwu", warning, "写首报")
    ask = st.reply("wangwu")
    assert f"请直接发送 {code}" in ask, ask
    st.say("wangwu", "经核实，系商户与执法队员口角，已约谈当事人。")
    assert f"已记录 {code} 的首报" in st.reply("wangwu")
    assert item_of(st, code).state == "first_reported"
    for card in (nudge, warning):
        assert current(st, "wangwu", card)["replaced_button"].startswith("首报已完成"), current(st, "wangwu", card)
