"""One 督办 card per person per clock (issue 20 item 9): a later level reaches only people not yet told, an office-owned
clock and a miss charged to the office (late 交办) escalate to the leaders, not to the office."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent
from tests.integration.flowkit import code_in
from tests.integration.harness import Stack

FIRST = {"aim": "20s", "due": "30s"}
POLICY = {
    "start": "dispatched",
    "escalate_after": "20s",
    "escalate_every": "20s",
    "escalate_max": 3,
    "clocks": {
        "first_report": {"major": FIRST, "significant": FIRST, "general": {"due": "60s"}},
        "notify_units": {"major": {"due": "30s"}, "significant": {"due": "30s"}, "general": {"due": "30s"}},
    },
}


def _escalations(st: Stack, userid: str, code: str) -> list[str]:
    return [str(r["body"]) for r in st.inbox(userid) if "超时督办" in str(r["body"]) and code in str(r["body"])]


def _dispatched(st: Stack) -> str:
    st.say("zhangsan", "上报 督办只发一次的条目")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    return code


def test_a_later_level_sends_no_second_card_to_who_already_has_one(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": POLICY})
    code = _dispatched(st)
    st.later(61)  # due: level 1 to the supervisor
    assert len(_escalations(st, "lisi", code)) == 1
    st.later(20)  # level 2: the office and the leaders
    assert len(_escalations(st, "chenqi", code)) == 1
    assert len(_escalations(st, "liujiu", code)) == 1
    st.later(20)  # level 3: everyone it would reach already has a live card
    assert len(_escalations(st, "chenqi", code)) == 1, _escalations(st, "chenqi", code)
    assert len(_escalations(st, "liujiu", code)) == 1
    assert len(_escalations(st, "lisi", code)) == 1
    with st.rt.sessions() as s:
        found = s.scalars(select(AuditEvent).where(AuditEvent.action == "clock_escalated"))
        levels = [e.detail.get("level") for e in found]
    assert 3 in levels, "level 3 is still recorded (the board shows it)"


def test_an_office_clock_reaches_the_leaders_once_not_every_ten_seconds(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": {**POLICY, "start": "reported"}})
    st.say("zhangsan", "上报 办公室未交办的条目")
    code = code_in(st.last("zhangsan"))
    st.later(31)  # 通报相关单位 (the office's own clock) is due: the leaders hear of it
    assert len(_escalations(st, "liujiu", code)) == 1
    st.later(20)
    st.later(20)
    assert len(_escalations(st, "liujiu", code)) == 1, "levels 2 and 3 send the leaders no copy of the same card"
    assert not _escalations(st, "chenqi", code), "never escalated to the office itself"


def test_a_miss_charged_to_the_office_escalates_to_the_leaders_not_the_office(make_stack) -> None:  # type: ignore
    policy = {"start": "reported", "min_time_to_act": "10m", "escalate_after": "10m", "escalate_every": "30m"}
    st = make_stack(extra={"policy": policy})
    st.say("zhangsan", "上报 交办太晚的条目")
    code = code_in(st.last("zhangsan"))
    st.later(30 * 60 - 2)
    st.say("chenqi", f"交办 {code} 执法一队 重大")
    assert "交办时距时限已不足 1 分钟" in st.reply("chenqi")
    st.later(3)
    assert _escalations(st, "lisi", code), "level 1: the supervisor"
    st.later(10 * 60)
    assert [b for b in _escalations(st, "liujiu", code) if "第 2 级" in b], "level 2: the leaders"
    st.later(30 * 60)
    office = [b for b in _escalations(st, "chenqi", code) if "首报" in b]
    assert not office, f"the office is the one charged: its leaders are told, not itself: {office}"
