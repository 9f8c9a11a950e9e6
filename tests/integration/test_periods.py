"""Sensitive periods (重要节点) through the WeCom protocol: declared, announced once, grades, clocks, patrol rounds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from core.clock import local
from tests.integration.flowkit import cards, code_in
from tests.integration.harness import Stack


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with the patrol on: normal rounds far from now, the period's round opening now, a 15-minute 首报."""
    now = local(clock.now())
    if now.hour >= 20:  # keep the rounds inside one day
        clock.advance(timedelta(hours=5))
        now = local(clock.now())

    def hhmm(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).strftime("%H:%M")

    normal = [{"card": hhmm(200), "remind": hhmm(210), "due": hhmm(220)}]
    period = [{"card": hhmm(0), "remind": hhmm(5), "due": hhmm(10)}]
    return make_stack(
        extra={
            "patrol": {"enabled": True, "days": "every_day", "rounds": normal},
            "sensitive": {"rounds": period, "first_report_due": "15m"},
        }
    )


def test_a_declared_period_is_announced_raises_grades_shortens_first_reports_and_adds_check_ins(st: Stack) -> None:
    today = local(clock.now()).date()
    st.later(1)
    assert not cards(st, "zhangsan", "日常巡查"), "no normal round yet"
    st.say("zhangsan", f"重要节点 测试 {today} {today}")
    assert "只有领导小组办公室" in st.last("zhangsan")
    st.say("chenqi", f"重要节点 测试 {today + timedelta(days=2)} {today}")
    assert "早于开始" in st.last("chenqi"), "a period that ends before it starts"
    st.say("chenqi", "重要节点 测试 明天 后天")
    assert "不是日期" in st.last("chenqi")
    st.say("chenqi", f"重要节点 全国两会 {today} {today + timedelta(days=1)}")
    assert "已设定重要节点“全国两会”" in st.last("chenqi")
    st.later(1)
    for userid in ("zhangsan", "wangwu", "chenqi", "liujiu"):
        assert sum("【重要节点】" in t for t in st.texts(userid)) == 1, userid
    assert cards(st, "zhangsan", "日常巡查"), "the period's own check-in round"
    st.later(60)
    assert sum("【重要节点】" in t for t in st.texts("zhangsan")) == 1, "told once"
    st.say("chenqi", "重要节点")
    assert "全国两会" in st.last("chenqi")
    assert "进行中" in st.last("chenqi")

    st.say("zhangsan", "上报 重要节点期间的舆情 https://weibo.com/88/1")
    bumped = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {bumped} 执法一队")
    st.say("chenqi", f"查询 {bumped}")
    assert "较大" in st.last("chenqi"), "one grade higher than the reporter's (none: 一般)"
    st.say("zhangsan", "上报 另一条 https://weibo.com/88/2")
    graded = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {graded} 执法一队 一般")
    st.say("chenqi", f"查询 {graded}")
    assert "一般" in st.last("chenqi"), "the office's own grade wins"
    st.later(16 * 60)
    late = [t for t in st.texts("wangwu") if "【已超时】" in t and "首报" in t]
    assert {code_in(t) for t in late} == {bumped, graded}, "首报 within the period's 15 minutes, whatever the grade"

    st.later(2 * 86400)
    assert sum("【重要节点结束】" in t for t in st.texts("zhangsan")) == 1
