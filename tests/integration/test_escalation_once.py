"""One 督办 card per person per clock (issue 20 item 9): a later level reaches only people not yet told, an office-owned
clock and a miss charged to the office (late 交办) escalate to the leaders, not to the office."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.clock import show
from migrations import downgrade, upgrade
from models import AuditEvent, Card
from models.state import CardPurpose
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


DAY = re.compile(r"截止 (\d{4}年)?[1-9]\d?月[1-9]\d?日 \d\d:\d\d")


def test_the_todo_list_names_the_day_of_a_task_due_tomorrow(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": POLICY})
    code = _dispatched(st)
    st.say("chenqi", f"跟帖 {code} 张三 说明已依法处理 限30h")
    st.say("zhangsan", "我的待办")
    todo = st.reply("zhangsan")
    line = next(t for t in todo.splitlines() if "跟帖" in t and "截止" in t)
    assert DAY.search(line), f"a due on another day names the day (no leading zero): {line}"
    assert show(clock.now() + timedelta(hours=30)) in line
    st.later(31 * 3600)
    missed = [t for t in st.texts("chenqi") if "跟帖未完成" in t]
    assert missed
    assert all(code in t and "张三" in t and "要点：说明已依法处理" in t for t in missed), missed


def test_the_co_handlers_card_asks_for_no_clock_and_names_the_material_command(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": POLICY})
    st.say("zhangsan", "上报 协办卡片的条目")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 法制处 一般")
    [co] = [r for r in st.inbox("gaojing") if "ack-" in str(r["body"])]
    text = str(co["body"])
    assert "按时限办理" not in text, text
    assert f"书面报告 {code}" in text
    [lead] = [r for r in st.inbox("wangwu") if "ack-" in str(r["body"])]
    assert "按时限办理" in str(lead["body"])


def test_a_publication_clock_tells_the_office_the_command_to_send(make_stack) -> None:  # type: ignore
    due = {"due": "60s"}
    policy = {**POLICY, "clocks": {"public_response": {"major": due, "significant": due, "general": due}}}
    st = make_stack(extra={"policy": policy})
    code = _dispatched(st)
    st.later(61)
    missed = [t for t in st.texts("chenqi") if "信息发布" in t and "到期未完成" in t]
    assert missed, st.texts("chenqi")
    assert f"发布 {code} <渠道> [链接]" in missed[-1]
    assert "在聊天中报送" not in missed[-1]


def test_a_period_next_year_is_shown_with_its_year_and_no_leading_zeros(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": POLICY})
    y = clock.local(clock.now()).year + 1
    st.say("chenqi", f"重要节点 春节 {y}-02-05 {y}-02-12")
    st.say("chenqi", "重要节点")
    listing = st.reply("chenqi")
    assert f"{y}年2月5日 00:00 至 {y}年2月12日 23:59" in listing, listing
    assert "月05日" not in listing


def test_an_extension_granted_after_the_miss_starts_a_new_round_of_督办_cards(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": POLICY})
    code = _dispatched(st)
    st.later(5)
    st.say("wangwu", f"申请延期 {code} 首报 60s 需要补充现场核查")
    request = st.inbox("lisi")[-1]["body"]["template_card"]
    st.later(56)  # t = 61: the first due has passed before 李四 decides
    assert len(_escalations(st, "lisi", code)) == 1
    st.emu.card_click("lisi", request["task_id"], request["button_list"][0]["key"])
    st.drain()
    assert "已同意延期" in st.reply("lisi")
    st.later(60)  # the extended due passes too: a 督办 for the new due, though 李四 had one for the first
    assert len(_escalations(st, "lisi", code)) == 2, _escalations(st, "lisi", code)
    with st.rt.sessions() as s:
        rounds = [c.due_round for c in s.scalars(select(Card).where(Card.purpose == CardPurpose.escalation))]
    assert sorted(rounds) == [0, 1], rounds
    url = st.rt.config.database_url
    st.rt.engine.dispose()
    downgrade(url, "0020")  # before 0021 the round was read from the task id; the migration fills the column in
    upgrade(url)
    with st.rt.sessions() as s:
        again = [c.due_round for c in s.scalars(select(Card).where(Card.purpose == CardPurpose.escalation))]
    assert sorted(again) == [0, 1]
