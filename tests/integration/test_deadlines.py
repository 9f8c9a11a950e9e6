"""Deadlines through the emulator with second-scale clocks: remind, warn, miss, escalate; met, extended, regraded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock as clockmod
from jobs.deadlines import fire_clock
from models import AuditEvent
from models.clock import Clock, ClockFiring, Extension
from tests.integration.harness import Stack

FIRST = {"aim": "20s", "due": "30s"}
WRITTEN = {"aim": "40s", "due": "90s"}
POLICY = {
    "start": "dispatched",
    "escalate_after": "20s",
    "escalate_every": "20s",
    "escalate_max": 3,
    "clocks": {
        "first_report": {"major": FIRST, "significant": FIRST, "general": {"due": "60s"}},
        "written_report": {"major": WRITTEN, "significant": WRITTEN, "general": {"due": "900s"}},
        "handling_report": {"all": {"due": "1h"}},
    },
}


@pytest.fixture()
def fast(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack whose clocks run in seconds, on a clock that only the test moves."""
    return make_stack(extra={"policy": POLICY})


def _dispatched(st: Stack, grade: str = "一般") -> str:
    st.say("zhangsan", "上报 时限测试条目")
    code = re.search(r"YQ-\d{8}-\d{3}", st.last("zhangsan")).group(0)  # type: ignore[union-attr]
    st.say("chenqi", f"交办 {code} 执法一队 {grade}")
    return code


def _about(st: Stack, userid: str, words: str, since: int = 0) -> list[str]:
    return [t for t in st.texts(userid, since) if words in t]


def test_nudge_warning_miss_and_escalation_reach_the_right_people_at_the_right_times(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(29)
    assert not _about(fast, "wangwu", "首报")[1:], "only the dispatch card so far"
    assert not [t for t in fast.texts("wangwu") if "提醒" in t]
    fast.later(2)
    nudges = [r for r in fast.inbox("wangwu") if "提醒" in fast.texts("wangwu")[fast.inbox("wangwu").index(r)]]
    assert len(nudges) == 1
    assert nudges[0]["msgtype"] == "template_card"
    assert nudges[0]["body"]["template_card"]["button_list"][0]["text"] == "已口头汇报"
    fast.later(16)
    assert not _about(fast, "wangwu", "即将超时")
    fast.later(2)
    assert len(_about(fast, "wangwu", "即将超时")) == 1
    assert not _about(fast, "lisi", "超时")
    warning = _about(fast, "wangwu", "即将超时")[0]
    assert "申请延期" in warning.split("按钮：")[1], "the warning offers the extension (the typed form: 查看详情)"
    assert "首报" in warning.split("\n")[1], "and the next step"
    fast.later(12)
    assert len(_about(fast, "wangwu", "【已超时】")) == 1
    assert "已报告分管领导李四" in _about(fast, "wangwu", "【已超时】")[0], "the owner learns who was told"
    assert len(_about(fast, "lisi", "【超时】首报")) == 1, "level 1 goes to the unit's supervisor"
    assert "现已到期" in _about(fast, "lisi", "【超时】首报")[0], "never 已超时 0秒"
    assert not _about(fast, "liujiu", "【超时】")
    fast.later(20)
    assert len(_about(fast, "liujiu", "【超时】首报")) == 1
    assert len(_about(fast, "chenqi", "【超时】首报")) == 1
    fast.later(20)
    assert len(_about(fast, "liujiu", "【超时】首报")) == 1, "level 3 sends no second card to who has one"
    fast.later(200)
    assert len(_about(fast, "liujiu", "【超时】首报")) == 1, "escalation stops at escalate_max"
    with fast.rt.sessions() as s:
        missed = s.scalars(select(AuditEvent).where(AuditEvent.action == "clock_missed")).all()
        assert [(m.detail["kind"], m.detail["fact"]) for m in missed] == [("first_report", "迟报")]
    fast.say("wangwu", f"首报 {code} 已核实，正在处置")
    with fast.rt.sessions() as s:
        c = s.scalar(select(Clock).where(Clock.kind == "first_report"))
        assert c is not None
        assert c.state == "met_late"


def test_a_clock_met_in_time_sends_nothing_more(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(10)
    fast.say("wangwu", f"首报 {code} 已核实，系误传")
    assert "已记录" in fast.last("wangwu")
    assert "【首报】" in fast.last("chenqi")
    assert "【首报】" in fast.last("lisi")
    fast.later(300)
    assert not [t for t in fast.texts("wangwu") if "首报" in t and ("提醒" in t or "超时" in t)]
    assert not _about(fast, "lisi", "【超时】首报")


def test_the_oral_report_button_meets_the_first_report(fast: Stack) -> None:
    _dispatched(fast)
    fast.later(31)
    card = next(
        r
        for r in fast.inbox("wangwu")
        if r["msgtype"] == "template_card" and r["body"]["template_card"]["button_list"][0]["key"].startswith("oral:")
    )
    tc = card["body"]["template_card"]
    fast.emu.card_click("wangwu", tc["task_id"], tc["button_list"][0]["key"])
    fast.drain()
    assert "口头首报" in fast.reply("wangwu")
    fast.later(60)
    assert not _about(fast, "wangwu", "的首报已于")
    assert not _about(fast, "lisi", "【超时】首报")


def test_an_approved_extension_moves_everything(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(40)
    fast.say("wangwu", f"申请延期 {code} 30s 需要补充现场核查")
    assert "已提交分管领导审批" in fast.last("wangwu")
    card = fast.inbox("lisi")[-1]["body"]["template_card"]
    assert "延期申请" in card["main_title"]["title"]
    fast.say("zhouba", f"申请延期 {code} 30s 冒名申请")
    assert "没有未完成的时限" in fast.last("zhouba")
    fast.emu.card_click("lisi", card["task_id"], card["button_list"][0]["key"])
    fast.drain()
    assert "已同意延期" in fast.reply("lisi")
    assert "获" in fast.last("wangwu")
    fast.later(21)  # t = 61: the original due has passed
    assert not _about(fast, "wangwu", "的首报已于"), "an approved extension is not a miss"
    assert not _about(fast, "wangwu", "即将超时"), "the warning moved with the due (80 % of the new 90 s span)"
    fast.later(11)  # t = 72
    assert len(_about(fast, "wangwu", "即将超时")) == 1
    fast.later(19)  # t = 91: the new due
    assert len(_about(fast, "wangwu", "【已超时】")) == 1


def test_extension_after_due_is_refused_with_the_reason(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(61)
    fast.say("wangwu", f"申请延期 {code} 30s 来不及")
    assert "延期须在到期前申请" in fast.last("wangwu")


def test_regrade_recomputes_open_clocks(fast: Stack) -> None:
    code = _dispatched(fast, "一般")
    fast.later(5)
    fast.say("chenqi", f"定级 {code} 重大")
    assert "已定为重大" in fast.reply("chenqi")
    assert "时限已重算" in fast.reply("chenqi")
    fast.later(16)  # t = 21: the major aim (20 s) has passed
    assert [t for t in fast.texts("wangwu") if "提醒" in t and "首报" in t]
    fast.later(10)  # t = 31: due 30 s
    assert len(_about(fast, "lisi", "【超时】首报")) == 1
    with fast.rt.sessions() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "clock_regrade")) >= 1


def test_replayed_jobs_and_a_redis_flush_lose_nothing_and_duplicate_nothing(fast: Stack) -> None:
    _dispatched(fast)
    with fast.rt.sessions() as s:
        cid = s.scalar(select(Clock.id).where(Clock.kind == "first_report"))
    assert cid is not None
    assert fire_clock(cid) == "early", "a job that runs before its time re-schedules itself"
    fast.rt.redis.flushall()  # every scheduled job is gone
    fast.later(61)
    for _ in range(3):
        fire_clock(cid)  # replayed jobs
    fast.later(1)
    with fast.rt.sessions() as s:
        names = list(s.scalars(select(ClockFiring.name).where(ClockFiring.clock_id == cid)))
    assert sorted(names) == ["due", "nudge", "warn"]
    assert len(_about(fast, "lisi", "【超时】首报")) == 1
    assert len(_about(fast, "wangwu", "的首报已于")) == 1


def _message_board_report(st: Stack) -> None:
    for text in ("上报", "留言板有人反映办事难", "5", "跳过", "提交"):
        st.say("zhangsan", text)


@pytest.mark.parametrize("taught", [False, True])
def test_a_clock_reaching_a_year_without_official_data_uses_the_statute_unless_taught(make_stack, taught: bool) -> None:  # type: ignore
    from datetime import datetime

    years = {"2100": {"holidays": ["2100-01-01"], "workdays": []}}  # a year no holiday package will know
    if taught:
        years["2101"] = {"holidays": ["2101-01-03"], "workdays": []}
    st = make_stack(extra={"policy": {"days": "working"}, "calendar": {"years": years}})
    clockmod.freeze(datetime(2100, 12, 29, 10, 0, tzinfo=clockmod.LOCAL_TZ))  # Wed: three working days reach 2101
    _message_board_report(st)
    with st.rt.sessions() as s:
        reply = s.scalar(select(Clock).where(Clock.kind == "reply_source"))
    assert reply is not None, "the clock starts: a year without official data follows the statutory holidays"
    due = clockmod.local(reply.due_at).date().isoformat()
    if taught:
        assert due == "2101-01-04", "Thu, Fri, (Sat, Sun, configured 1/3 off) Tue"
    else:
        assert due == "2101-01-03", "Thu, Fri, (Sat 元旦, Sun) Mon: no guessed 调休 or 补假"
    assert not [t for t in st.texts("chenqi") if "时限无法计算" in t]
    assert "已收到您的上报" in st.last("zhangsan")


def test_an_upper_level_deadline_overrides_the_written_report_due(fast: Stack) -> None:
    fast.say("zhangsan", "上报 上级交办的条目")
    code = re.search(r"YQ-\d{8}-\d{3}", fast.last("zhangsan")).group(0)  # type: ignore[union-attr]
    fast.say("chenqi", f"交办 {code} 执法一队 一般 限45s")
    assert "已交办" in fast.last("chenqi")
    with fast.rt.sessions() as s:
        written = s.scalar(select(Clock).where(Clock.kind == "written_report"))
        assert written is not None
        assert (written.due_at - written.started_at).total_seconds() == 45
    fast.say("chenqi", f"交办 {code} 执法一队 限昨天")
    assert "已经交办过了" in fast.last("chenqi") or "看不懂" in fast.last("chenqi")


def test_written_and_handling_reports_meet_their_clocks(fast: Stack) -> None:
    code = _dispatched(fast, "较大")
    fast.say("wangwu", f"书面报告 {code} 经核实，系误读政策，已联系发帖人说明")
    assert "已收到" in fast.last("wangwu"), "the supervisor gets the approval card"
    assert "经核实" in fast.last("lisi"), "the supervisor gets the approval card"
    fast.say("wangwu", f"处置报告 {code} 已说明情况，帖子已更正")
    assert "已记录" in fast.last("wangwu")
    with fast.rt.sessions() as s:
        states = dict(s.execute(select(Clock.kind, Clock.state)).all())
    assert states == {
        "notify_units": "met",
        "first_report": "met",
        "written_report": "met",
        "handling_report": "met",
        "public_response": "open",  # met by 发布 of an agreed line (tests/integration/test_statement.py)
    }
    fast.say("zhangsan", f"处置报告 {code} 冒名")
    assert "主办单位负责人" in fast.last("zhangsan")


def test_a_waived_clock_fires_nothing(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.say("wangwu", f"免除时限 {code} 首报 重复条目")
    assert "只有领导小组办公室" in fast.last("wangwu")
    fast.say("chenqi", f"免除时限 {code} 首报 经核实为重复条目")
    assert "已免除" in fast.last("chenqi")
    fast.later(200)
    assert not [t for t in fast.texts("wangwu") if "首报" in t and ("提醒" in t or "超时" in t)]
    assert not _about(fast, "lisi", "【超时】首报")


def test_the_final_warning_card_offers_an_extension(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(49)  # the final warning of the 60 s first report
    warn = next(
        r
        for r in fast.inbox("wangwu")
        if r["msgtype"] == "template_card" and "即将超时" in r["body"]["template_card"]["main_title"]["title"]
    )
    button = next(b for b in warn["body"]["template_card"]["button_list"] if b["text"] == "申请延期")
    fast.emu.card_click("wangwu", warn["body"]["template_card"]["task_id"], button["key"])
    fast.drain()
    assert "请回复“时长 原因”" in fast.last("wangwu")
    fast.say("wangwu", "很久 因为忙")
    assert "看不懂" in fast.last("wangwu")
    fast.say("wangwu", "20s 需要补充现场核查材料")
    assert "已提交分管领导审批" in fast.last("wangwu")
    card = fast.inbox("lisi")[-1]["body"]["template_card"]
    assert "需要补充现场核查材料" in card["sub_title_text"]
    assert code == card["main_title"]["desc"]


def test_todo_and_query_show_the_clocks(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.say("wangwu", "我的待办")
    todo = fast.last("wangwu")
    assert f"签收 {code}" in todo
    assert "首报" in todo
    assert "还剩" in todo
    fast.later(61)
    fast.say("wangwu", "我的待办")
    assert "已超时" in fast.last("wangwu")
    fast.say("zhangsan", f"查询 {code}")
    status = fast.last("zhangsan")
    assert "时限：首报" in status
    assert "已超时" in status
    assert "时限超时" in status


def test_a_late_dispatch_sends_no_burst_and_charges_the_delay_to_the_office(make_stack) -> None:  # type: ignore
    st = make_stack(extra={"policy": {**POLICY, "start": "reported"}})
    st.say("zhangsan", "上报 交办晚了的条目")
    code = re.search(r"YQ-\d{8}-\d{3}", st.last("zhangsan")).group(0)  # type: ignore[union-attr]
    clockmod.advance(timedelta(minutes=4))  # the office dispatches four minutes after the report
    since = {u: len(st.inbox(u)) for u in ("wangwu", "lisi", "liujiu", "chenqi")}
    st.say("chenqi", f"交办 {code} 执法一队 重大")
    assert "迟延记在交办环节" in st.reply("chenqi")
    new = {u: st.texts(u, 0)[since[u] :] for u in since}
    personal = [r for r in st.inbox("wangwu")[since["wangwu"] :] if not r["chatid"]]  # not the item's group chat
    assert len(personal) == 1, f"only the 签收 card, no reminders or misses: {new['wangwu']}"
    fields = {f["keyname"]: f["value"] for f in personal[0]["body"]["template_card"]["horizontal_content_list"]}
    assert "首报" in fields["时限紧迫"]
    assert "书面报告" in fields["时限紧迫"]
    assert not [t for t in new["lisi"] if "超时" in t], "the supervisor is not escalated to for the office's delay"
    assert not [t for t in new["liujiu"] if "超时" in t]
    with st.rt.sessions() as s:
        misses = s.scalars(select(AuditEvent).where(AuditEvent.action == "clock_missed")).all()
        charged = {m.detail["kind"]: m.detail.get("charged") for m in misses}
    assert charged == {"first_report": "office", "written_report": "office"}
    st.later(21)  # escalation counts from the dispatch: 20 s later, once per clock, one level at a time
    cards = [r for r in st.inbox("liujiu") if "第 2 级" in str(r["body"])]
    assert len(cards) == 2, "one level-2 card for each overdue clock"
    assert not [r for r in st.inbox("liujiu") if "第 3 级" in str(r["body"])]


def test_thresholds_that_passed_together_speak_once(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(600)  # the worker was away for ten minutes: nudge, warning, due and every level have passed
    told = [t for t in _about(fast, "wangwu", "首报") if "按钮：签收" not in t]  # the 签收 card offers 写首报
    assert len(told) == 1, "one 已超时, and no reminder or warning now"
    assert len(_about(fast, "wangwu", "的首报已于")) == 1
    level_cards = [
        str(r["body"]) for r in fast.inbox("liujiu") if "超时督办" in str(r["body"]) and code in str(r["body"])
    ]
    first = [b for b in level_cards if "首报" in b]
    assert len(first) == 1, "only the highest level reached, once"
    assert "第 3 级" in first[0]
    assert not [r for r in fast.inbox("lisi") if "超时督办" in str(r["body"]) and "首报" in str(r["body"])]
    with fast.rt.sessions() as s:
        cid = s.scalar(select(Clock.id).where(Clock.kind == "first_report"))
        names = set(s.scalars(select(ClockFiring.name).where(ClockFiring.clock_id == cid)))
    assert names == {"nudge", "warn", "due", "level2", "level3"}, "every threshold is recorded as fired"


def test_regrading_keeps_an_upper_level_offices_deadline(fast: Stack) -> None:
    fast.say("zhangsan", "上报 上级限时的条目")
    code = re.search(r"YQ-\d{8}-\d{3}", fast.last("zhangsan")).group(0)  # type: ignore[union-attr]
    fast.say("chenqi", f"交办 {code} 执法一队 一般 限45s")
    fast.say("chenqi", f"定级 {code} 重大")
    with fast.rt.sessions() as s:
        written = s.scalar(select(Clock).where(Clock.kind == "written_report"))
        assert written is not None
        assert (written.due_at - written.started_at).total_seconds() == 45, "the explicit deadline stands"
        first = s.scalar(select(Clock).where(Clock.kind == "first_report"))
        assert first is not None
        assert (first.due_at - first.started_at).total_seconds() == 30, "the grade's own clocks follow the grade"


def test_cards_stop_offering_buttons_once_the_step_is_done(fast: Stack) -> None:
    code = _dispatched(fast)
    fast.later(61)  # the first report is missed: lisi gets a level-1 escalation card, wangwu a reminder card
    escalation = [r for r in fast.inbox("lisi") if "超时督办" in str(r["body"])]
    assert len(escalation) == 1
    fast.say("wangwu", f"首报 {code} 已核实，正在处置")  # also implies the 签收 nobody clicked
    done = {r["msgid"]: r for r in fast.inbox("lisi")}[escalation[0]["msgid"]]
    assert "首报已完成" in str(done["replaced_button"]), "the 催办/已知悉 buttons are gone"
    ack = [r for r in fast.inbox("wangwu") if r["msgtype"] == "template_card" and "签收" in str(r["body"])]
    assert ack
    assert "王五 已签收" in str(ack[0]["replaced_button"]), "the 签收 card reflects the implied acknowledgement"


def test_an_extension_names_its_clock_and_states_the_cap_before_it_is_sent(fast: Stack) -> None:
    code = _dispatched(fast, "较大")  # first report 30 s, written report 90 s
    before = len(fast.inbox("lisi"))
    fast.say("wangwu", f"申请延期 {code} 书面报告 3h 需补充材料")
    refusal = fast.reply("wangwu")
    assert "最多还能延长" in refusal, "the cap is said before anything goes to the supervisor"
    assert len(fast.inbox("lisi")) == before
    fast.say("wangwu", f"申请延期 {code} 书面报告 40s 需补充现场核查材料")
    assert "书面报告的延期申请已提交分管领导审批" in fast.reply("wangwu")
    card = fast.inbox("lisi")[-1]["body"]["template_card"]
    assert "书面报告延期" in card["sub_title_text"] or "书面报告" in str(card)
    with fast.rt.sessions() as s:
        ext = s.scalar(select(Extension))
        assert ext is not None
        clock = s.get(Clock, ext.clock_id)
        assert clock is not None
        assert clock.kind == "written_report", "not the first report, which is due sooner"


def test_an_extension_asked_in_time_is_decided_on_its_merits_even_after_the_due(fast: Stack) -> None:
    code = _dispatched(fast)  # general: first report due 60 s
    fast.later(40)
    fast.say("wangwu", f"申请延期 {code} 首报 30s 在等当事人回复")
    fast.later(25)  # the supervisor decides after the due has passed
    card = fast.inbox("lisi")
    ext_card = next(r for r in card if "延期申请" in str(r["body"]))
    click = next(b for b in ext_card["body"]["template_card"]["button_list"] if b["text"] == "同意")
    fast.emu.card_click("lisi", ext_card["body"]["template_card"]["task_id"], click["key"])
    fast.drain()
    assert "已同意延期" in fast.reply("lisi")
    assert "李四 已同意" in str({r["msgid"]: r for r in fast.inbox("lisi")}[ext_card["msgid"]]["replaced_button"])
    with fast.rt.sessions() as s:
        first = s.scalar(select(Clock).where(Clock.kind == "first_report"))
        assert first is not None
        assert first.state == "open", "the miss the late decision caused is withdrawn"
        assert (first.due_at - first.started_at).total_seconds() == 90
    fast.say("lisi", "我的待办")  # nothing broke for the decider


def test_the_message_board_reply_clock_can_be_extended_once_within_five_days(fast: Stack) -> None:
    _message_board_report(fast)
    code = re.search(r"YQ-\d{8}-\d{3}", fast.reply("zhangsan")).group(0)  # type: ignore[union-attr]
    fast.say("chenqi", f"申请延期 {code} 留言答复 3d 需会同法制处研究")
    assert "最多还能延长 2天" in fast.reply("chenqi"), "never beyond five days in all"
    fast.say("chenqi", f"申请延期 {code} 留言答复 1d 需会同法制处研究")
    assert "留言答复的延期申请已提交领导审批" in fast.reply("chenqi")
    ext_card = next(r for r in fast.inbox("liujiu") if "延期申请" in str(r["body"]))
    yes = next(b for b in ext_card["body"]["template_card"]["button_list"] if b["text"] == "同意")
    fast.emu.card_click("liujiu", ext_card["body"]["template_card"]["task_id"], yes["key"])
    fast.drain()
    assert "已同意延期" in fast.reply("liujiu")
    fast.say("chenqi", f"申请延期 {code} 留言答复 1d 还需时间")
    assert "只能延期 1 次" in fast.reply("chenqi")
