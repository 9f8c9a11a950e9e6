"""Written reports in the chat and their approval on cards: approve, return, resubmit, escalate, stale, wrong person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock as clockmod
from models import AuditEvent, Item, Submission
from models.clock import Clock
from tests.integration.flowkit import buttons, cards, click, current, dispatched, forged_click, item_of
from tests.integration.harness import Stack

APPROVAL = "书面报告审核"
DECIDE = "书面报告审定"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack on a frozen clock."""
    return make_stack()


def _submit(st: Stack, code: str, *parts: str) -> None:
    st.say("wangwu", f"书面报告 {code}")
    for p in parts:
        st.say("wangwu", p)
    st.say("wangwu", "提交")


def _subs(st: Stack, code: str) -> list[tuple[int, str]]:
    with st.rt.sessions() as s:
        rows = s.execute(
            select(Submission.version, Submission.state)
            .join(Item, Item.id == Submission.item_id)
            .where(Item.code == code)
            .order_by(Submission.version)
        ).all()
        return [(v, state) for v, state in rows]


def test_commands_typed_while_writing_a_report_are_run_and_never_become_paragraphs(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "第一段：已联系发帖人")
    for command, answer in (
        (f"查询 {code}", code),
        ("签收：" + code, "无需重复签收"),
        ("帮助", "舆情处置助手"),
    ):
        st.say("wangwu", command)
        reply = st.reply("wangwu")
        assert answer in reply, (command, reply)
        assert "您正在填写书面报告，还没有完成" in reply, "the person is told the report is still open"
    st.say("wangwu", "提交")
    assert "第 1 版" in st.reply("wangwu")
    with st.rt.sessions() as s:
        sub = s.scalar(select(Submission))
        assert sub is not None
        assert sub.text == "第一段：已联系发帖人", "no command became a paragraph"


def test_another_conversation_never_throws_a_draft_away(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "写了一半的报告")
    st.say("wangwu", "上报")  # a guided report would need the conversation
    assert "请先完成它或回复“提交”报送，或“取消”放弃，再上报舆情" in st.reply("wangwu")
    st.say("wangwu", "提交")
    assert "第 1 版" in st.reply("wangwu")


def test_a_report_typed_in_several_messages_with_a_photo_reaches_the_supervisor_as_a_card(st: Stack) -> None:
    code = dispatched(st)
    card = cards(st, "wangwu", "瞭望 · 书面报告")
    assert card == [], "the upload card comes with 签收"
    st.say("wangwu", f"签收 {code}")
    upload = cards(st, "wangwu", "瞭望 · 书面报告")
    assert len(upload) == 1
    assert set(buttons(upload[0])) == {"写首报", "在聊天中填写", "申请延期", "上传文件"}, "and the next steps"
    assert "/connect/oauth2/authorize" in buttons(upload[0])["上传文件"]["url"]
    click(st, "wangwu", upload[0], "在聊天中填写")
    assert "开始填写" in st.last("wangwu")
    st.say("wangwu", "经核实，视频系 11 月 25 日拍摄。")
    assert "第 1 段" in st.last("wangwu")
    st.emu.image("wangwu")
    st.drain()
    assert "照片（共 1 张）" in st.last("wangwu")
    st.say("wangwu", "上报情况如下：帖子已删除")  # prose that merely begins with a command word stays prose
    assert "第 2 段" in st.last("wangwu")
    st.say("wangwu", "提交")
    assert "第 1 版" in st.last("wangwu")
    assert "照片 1 张" in st.last("wangwu")
    approval = cards(st, "lisi", APPROVAL)
    assert len(approval) == 1
    assert set(buttons(approval[0])) == {"批准", "退回修改", "升级为重大", "查看报告"}
    tc = approval[0]["body"]["template_card"]
    assert "经核实" in tc["sub_title_text"]
    assert any("附件 1" in f["value"] for f in tc["horizontal_content_list"])
    assert not any("【书面报告】" in t for t in st.texts("chenqi")), "the office hears of it once decided (SPEC §6)"
    with st.rt.sessions() as s:
        sub = s.scalar(select(Submission))
        assert sub is not None
        assert sub.text.count("\n") == 1
        assert "上报情况如下" in sub.text
        assert [a.kind for a in sub.attachments] == ["photo"], "photo fetched and stored"
        assert sub.attachments[0].sha256, "photo fetched and stored"
        met = s.scalars(select(Clock.kind).where(Clock.state == "met")).all()
        assert {"first_report", "written_report"} <= set(met)


def test_approve_updates_the_card_for_everyone_and_starts_the_consultation(st: Stack) -> None:
    code = dispatched(st)
    _submit(st, code, "经核实，情况属实，已约谈。")
    card = cards(st, "lisi", APPROVAL)[0]
    click(st, "lisi", card, "批准", replay=3)
    assert "已批准" in st.last("lisi")
    assert current(st, "lisi", card)["replaced_button"].startswith("李四 已批准")
    assert item_of(st, code).state == "approved"
    assert _subs(st, code) == [(1, "approved")]
    assert any("审核通过" in t for t in st.texts("wangwu"))
    assert len(cards(st, "zhouba", "会商")) == 1, "the general office is asked for its opinion"
    told = [t for t in st.texts("chenqi") if "【审核通过】" in t]
    assert f"回复来源 {code} 答复内容" in told[0], "the office's next step shows the real 编号"
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "approve")) == 1


def test_return_asks_for_a_reason_sends_it_to_the_unit_and_the_unit_resubmits_version_two(st: Stack) -> None:
    code = dispatched(st)
    _submit(st, code, "初稿")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[0], "退回修改")
    assert "回复修改意见" in st.reply("lisi")
    assert item_of(st, code).state == "returned"
    st.say("lisi", "请补充对当事人的处理意见")
    assert "已转给执法一队" in st.last("lisi")
    texts = st.texts("wangwu")
    assert any("【修改意见】" in t and "请补充对当事人的处理意见" in t for t in texts)
    again = cards(st, "wangwu", "瞭望 · 书面报告")[-1]
    assert "已退回修改" in again["body"]["template_card"]["sub_title_text"]
    st.say("wangwu", f"书面报告 {code} 修改稿：当事人已停职检查。")
    assert "第 2 版" in st.last("wangwu")
    assert _subs(st, code) == [(1, "returned"), (2, "pending")]
    second = cards(st, "lisi", APPROVAL)
    assert len(second) == 2
    assert "修改稿" in second[1]["body"]["template_card"]["sub_title_text"]
    click(st, "lisi", second[1], "批准")
    assert _subs(st, code) == [(1, "returned"), (2, "approved")]


def test_a_card_for_a_superseded_version_answers_politely_and_changes_nothing(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 第一稿")
    st.say("wangwu", f"书面报告 {code} 第二稿，补充了照片说明")
    old, new = cards(st, "lisi", APPROVAL)
    assert current(st, "lisi", old)["replaced_button"].startswith("已由第 2 版取代"), (
        "the old card says it was replaced"
    )
    # a click on the old card that left the phone before the update arrives afterwards
    forged_click(st, "lisi", old["body"]["template_card"]["task_id"], buttons(old)["批准"]["key"])
    assert "已过时" in st.last("lisi")
    assert _subs(st, code) == [(1, "superseded"), (2, "pending")]
    assert item_of(st, code).state == "written_reported"
    click(st, "lisi", new, "批准")
    assert _subs(st, code) == [(1, "superseded"), (2, "approved")]


def test_only_an_intended_recipient_may_decide(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 报告正文")
    card = cards(st, "lisi", APPROVAL)[0]
    tc = card["body"]["template_card"]
    res = forged_click(st, "zhaoliu", tc["task_id"], buttons(card)["批准"]["key"])
    assert res.status_code == 200
    assert "不是送您审批的" in st.last("zhaoliu")
    assert _subs(st, code) == [(1, "pending")]
    assert item_of(st, code).state == "written_reported"
    forged_click(st, "wangwu", tc["task_id"], buttons(card)["批准"]["key"])
    assert "不是送您审批的" in st.last("wangwu")
    assert _subs(st, code) == [(1, "pending")]


def test_a_second_click_after_the_decision_changes_nothing(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 报告正文")
    card = cards(st, "lisi", APPROVAL)[0]
    click(st, "lisi", card, "批准")
    # a click that left the phone before the card was updated arrives later, as a separate event
    forged_click(st, "lisi", card["body"]["template_card"]["task_id"], buttons(card)["退回修改"]["key"])
    assert "已由李四于" in st.last("lisi")
    assert "批准，无需再处理" in st.last("lisi")
    assert _subs(st, code) == [(1, "approved")]
    assert item_of(st, code).state == "approved"
    with st.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "return")) == 0


def test_escalate_to_major_regrades_sends_the_leaders_a_card_and_opens_a_group(st: Stack) -> None:
    code = dispatched(st, grade="一般")
    st.say("wangwu", f"书面报告 {code} 事态扩大，多家媒体转载")
    with st.rt.sessions() as s:
        due_before = s.scalar(select(Clock.due_at).where(Clock.kind == "handling_report"))
    card = cards(st, "lisi", APPROVAL)[0]
    click(st, "lisi", card, "升级为重大")
    assert "升级为重大" in st.reply("lisi")
    assert current(st, "lisi", card)["replaced_button"].startswith("李四 已升级为重大")
    item = item_of(st, code)
    assert item.grade == "major"
    assert item.chat_id
    leader_card = cards(st, "liujiu", DECIDE)
    assert len(leader_card) == 1, "escalating is the supervisor's 审核: the leading group gets the 审定 card"
    assert "升级为重大" not in buttons(leader_card[0])
    group = [r for r in st.inbox("liujiu") if r.get("chatid") == item.chat_id]
    assert group, "the leaders follow a major item in its group"
    assert not any(r.get("chatid") for r in st.inbox("chenqi")), "the office works it: direct messages only"
    assert "一事一群" in group[0]["body"]["text"]["content"]
    click(st, "liujiu", leader_card[0], "批准")
    assert _subs(st, code) == [(1, "approved")]
    lines = [r["body"]["text"]["content"] for r in st.inbox("liujiu") if r.get("chatid") == item.chat_id]
    assert any("批准书面报告" in t for t in lines), lines
    with st.rt.sessions() as s:
        assert s.scalar(select(Clock.due_at).where(Clock.kind == "handling_report")) == due_before
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "regrade")) == 1


def test_a_major_items_report_is_reviewed_by_the_supervisor_then_decided_by_the_leaders(st: Stack) -> None:
    code = dispatched(st, grade="重大")
    st.say("wangwu", f"书面报告 {code} 已核实并处置")
    assert len(cards(st, "lisi", APPROVAL)) == 1
    assert not cards(st, "liujiu", APPROVAL), "the leaders do not get the supervisor's card"
    assert not cards(st, "liujiu", DECIDE), "nor their own before the 审核"
    click(st, "lisi", cards(st, "lisi", APPROVAL)[0], "批准")
    assert "已送领导小组审定" in st.reply("lisi")
    assert current(st, "lisi", cards(st, "lisi", APPROVAL)[0])["replaced_button"].startswith("李四 已审核")
    assert item_of(st, code).state == "written_reported", "not approved until the leaders decide"
    decide = cards(st, "liujiu", DECIDE)
    assert len(decide) == 1
    fields = {f["keyname"]: f["value"] for f in decide[0]["body"]["template_card"]["horizontal_content_list"]}
    assert "已由李四审核" in fields["审定"]
    click(st, "liujiu", decide[0], "批准")
    assert item_of(st, code).state == "approved"
    assert _subs(st, code) == [(1, "approved")]
    decided = current(st, "liujiu", decide[0])
    assert decided["replaced_button"].startswith("刘九 已批准")
    assert "/h5/item/" in decided["card"]["card_action"]["url"] or "oauth2" in decided["card"]["card_action"]["url"], (
        "a decided card still opens the report"
    )


def test_supervisors_may_also_decide_by_text_and_the_cards_follow(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 初稿")
    st.say("zhaoliu", f"批准 {code}")
    assert "不是送您审批的" in st.last("zhaoliu")
    assert _subs(st, code) == [(1, "pending")]
    st.say("lisi", f"退回修改 {code} 请补充现场照片")
    assert "已转给执法一队" in st.reply("lisi")
    assert any("【修改意见】" in t and "请补充现场照片" in t for t in st.texts("wangwu"))
    assert current(st, "lisi", cards(st, "lisi", APPROVAL)[0])["replaced_button"].startswith("李四 已退回修改")
    st.say("wangwu", f"书面报告 {code} 第二稿，附现场照片说明")
    st.say("lisi", f"批准 {code}")
    assert _subs(st, code) == [(1, "returned"), (2, "approved")]


def test_a_bare_command_during_the_reason_is_answered_and_the_reason_still_follows(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 初稿")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[0], "退回修改")
    st.say("lisi", "帮助")
    assert "瞭望 · 舆情处置助手" in st.last("lisi")
    st.emu.image("lisi")
    st.emu.link("lisi", "https://weibo.com/2/xyz", title="另一条")
    st.drain()
    assert "您正在填写退回意见" in st.last("lisi")
    st.say("lisi", "数据口径与通报不一致，请核对")
    assert any("数据口径与通报不一致" in t for t in st.texts("wangwu"))


def test_a_written_report_draft_outlives_the_short_conversation_timeout(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "第一段")
    clockmod.advance(timedelta(minutes=30))  # three times the ten-minute conversation timeout
    st.say("wangwu", "第二段")
    assert "已记下第 2 段" in st.last("wangwu"), "a draft report is kept for two hours, not ten minutes"
    clockmod.advance(timedelta(hours=2, minutes=1))
    st.say("wangwu", "第三段")
    assert "已记下" not in st.last("wangwu"), "but not for ever"


def test_a_supervisor_missing_from_the_organisation_leaves_the_approval_to_the_office(st: Stack) -> None:
    from tests.integration.harness import ORG
    from workflow.people.org import import_org, load_org_file

    data = load_org_file(ORG)
    for unit in data["units"]:
        if unit["key"] == "team1":
            unit["supervisor"] = "left-the-bureau"
    with st.rt.sessions() as s, s.begin():
        import_org(s, data, clockmod.now())
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 报告正文")
    assert len(cards(st, "chenqi", APPROVAL)) == 1
    assert not cards(st, "lisi", APPROVAL)
    click(st, "chenqi", cards(st, "chenqi", APPROVAL)[0], "批准")
    assert _subs(st, code) == [(1, "approved")]


def test_a_very_long_reason_still_reaches_the_unit(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 初稿")
    click(st, "lisi", cards(st, "lisi", APPROVAL)[0], "退回修改")
    st.say("lisi", "请补充。" + "核实情况" * 400)
    notice = next(t for t in st.texts("wangwu") if "【修改意见】" in t)
    assert notice.startswith(f"【修改意见】{code} 李四：请补充。核实情况")
    assert "内容较长" in notice
    assert len(notice.encode()) <= 2048
    assert st.outbox_states().get("failed", 0) == 0
