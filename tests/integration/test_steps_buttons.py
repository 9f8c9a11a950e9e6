"""Every step without typing a 编号 (issue 23 item 5), through the WeCom emulator: the next step as a card button
that opens a conversation bound to the item, the 编号 left out when the person owes the step on one item, a list
to pick from when on several, 我的待办 with buttons, and a short 帮助 for each role."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, Item
from tests.integration.flowkit import buttons, cards, click, current, dispatched, item_of
from tests.integration.harness import Stack


def _firsts(st: Stack, code: str) -> list[str]:
    """The texts of the 首报 recorded for item code."""
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == "first_report")
        ).all()
        return [str((r.detail or {}).get("text", "")) for r in rows]


def test_a_lead_taps_write_first_report_on_the_dispatch_card_and_types_it(stack: Stack) -> None:
    st = stack
    code = dispatched(st)
    card = cards(st, "wangwu", "舆情交办")[-1]
    assert set(buttons(card)) >= {"签收", "写首报"}, buttons(card)
    assert "写首报" in card["body"]["template_card"]["sub_title_text"]
    click(st, "wangwu", card, "写首报")
    ask = st.reply("wangwu")
    assert f"请直接发送 {code}" in ask, ask
    assert "首报内容" in ask
    st.say("wangwu", "经核实，系商户与执法队员口角，无肢体冲突。已约谈当事人。")
    said = st.reply("wangwu")
    assert f"已记录 {code} 的首报" in said, said
    assert _firsts(st, code) == ["经核实，系商户与执法队员口角，无肢体冲突。已约谈当事人。"]
    assert item_of(st, code).state == "first_reported"
    assert current(st, "wangwu", card)["replaced_button"].startswith("王五 已签收"), "the 首报 implied the 签收"
    assert any(t.startswith(f"【首报】{code}") for t in st.texts("chenqi")), "the office hears it"
    st.say("wangwu", "再说一句")  # the conversation is over: this is no 首报
    assert len(_firsts(st, code)) == 1


def test_the_written_report_card_offers_the_first_report_and_an_extension(stack: Stack) -> None:
    st = stack
    code = dispatched(st)
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "签收")
    upload = cards(st, "wangwu", "书面报告")[-1]
    assert {"写首报", "在聊天中填写", "申请延期", "上传文件"} <= set(buttons(upload)), buttons(upload)
    click(st, "wangwu", upload, "申请延期")
    assert "请回复“时长 原因”" in st.reply("wangwu")
    st.say("wangwu", "30分钟 需要补充现场核查材料")
    assert f"{code} 首报的延期申请已提交分管领导审批" in st.reply("wangwu")
    st.say("wangwu", "首报 已核实")
    click(st, "wangwu", upload, "写首报")  # the 首报 is made: the same button takes a 续报
    assert "这一条按续报记录" in st.reply("wangwu")
    st.say("wangwu", "当事商户已签字确认处理结果")
    assert f"已记录 {code} 的续报" in st.reply("wangwu")
    assert _firsts(st, code) == ["已核实"]


def test_a_lead_owing_one_first_report_leaves_the_code_out(stack: Stack) -> None:
    st = stack
    code = dispatched(st)
    st.say("wangwu", "首报 已核实，系依法拆除违建，现场秩序正常。")
    assert f"已记录 {code} 的首报" in st.reply("wangwu")
    assert _firsts(st, code) == ["已核实，系依法拆除违建，现场秩序正常。"]
    st.say("wangwu", "续报：当事商户已签字确认")
    assert f"已记录 {code} 的续报" in st.reply("wangwu")
    st.say("wangwu", f"续报 {code} 带编号照旧可以")
    assert f"已记录 {code} 的续报" in st.reply("wangwu")


def test_with_two_items_owed_the_lead_is_asked_which(stack: Stack) -> None:
    st = stack
    first, second = dispatched(st), dispatched(st)
    st.say("wangwu", "首报 已核实，情况属实，正在处置。")
    ask = st.reply("wangwu")
    assert "您有 2 条舆情待首报" in ask, ask
    assert first in ask
    assert second in ask
    assert "1." in ask
    assert "2." in ask
    assert _firsts(st, first) == [], "nothing is recorded before the choice"
    assert _firsts(st, second) == []
    st.say("wangwu", "2")
    assert f"已记录 {second} 的首报" in st.reply("wangwu")
    assert _firsts(st, second) == ["已核实，情况属实，正在处置。"], "the text typed first is the one kept"
    assert _firsts(st, first) == []
    st.say("wangwu", "首报 第二条也核实了")  # now only one is owed
    assert f"已记录 {first} 的首报" in st.reply("wangwu")
    st.say("wangwu", "书面报告 经核实，已妥善处置。")
    assert "您有 2 条舆情待报送书面报告" in st.reply("wangwu")
    st.say("wangwu", "1")
    assert f"已收到 {first} 的书面报告（第 1 版）" in st.reply("wangwu")


def test_nobody_owing_gets_the_usage_and_a_mistyped_code_is_refused_as_one(stack: Stack) -> None:
    st = stack
    st.say("gaojing", "首报 已核实")
    said = st.reply("gaojing")
    assert "您目前没有需要首报的舆情" in said, said
    assert "格式：首报 <编号>" in said
    code = dispatched(st)
    st.say("wangwu", "首报 YQ-2026 已核实")
    assert "YQ-2026" in st.reply("wangwu")
    assert _firsts(st, code) == []


def test_my_todos_carry_a_button_per_step(stack: Stack) -> None:
    st = stack
    code = dispatched(st)
    st.say("wangwu", "我的待办")
    assert "可以直接点“我的待办”卡片上的按钮办理" in st.reply("wangwu")
    todo = cards(st, "wangwu", "我的待办")[-1]
    names = list(buttons(todo))
    assert names[:3] == ["1 签收", "2 写首报", "3 书面报告"], names
    assert names[-1].endswith("申请延期"), names
    assert len(names) <= 6
    assert code in todo["body"]["template_card"]["sub_title_text"] or "jump_list" in todo["body"]["template_card"]
    click(st, "wangwu", todo, "2 写首报")
    st.say("wangwu", "待办里点的首报")
    assert f"已记录 {code} 的首报" in st.reply("wangwu")
    st.say("wangwu", "我的待办")
    todo = cards(st, "wangwu", "我的待办")[-1]
    assert "2 写首报" not in buttons(todo)
    assert "写首报" not in " ".join(buttons(todo))
    click(st, "wangwu", todo, next(b for b in buttons(todo) if b.endswith("书面报告")))
    assert f"开始填写 {code} 的书面报告" in st.reply("wangwu")


def test_help_is_short_and_fits_the_role(stack: Stack) -> None:
    st = stack
    for userid in ("zhangsan", "wangwu", "chenqi", "lisi", "liujiu", "zhouba", "hemin"):
        st.say(userid, "帮助")
        text = st.reply(userid)
        assert len(text.split("\n")) <= 9, (userid, text)
        assert "帮助 全部" in text
    st.say("wangwu", "帮助")
    lead = st.reply("wangwu")
    assert "首报 <内容>" in lead
    assert "不用写编号" in lead
    assert "交办" not in lead, "a unit lead is not shown the office's commands"
    st.say("zhangsan", "帮助")
    commentator = st.reply("zhangsan")
    assert "巡查 无异常" in commentator
    assert "首报" not in commentator
    st.say("chenqi", "帮助")
    office = st.reply("chenqi")
    assert "交办 <单位> [一般|较大|重大]" in office
    assert "%2Fh5%2Fcalendar" in office, "the calendar page is a tap away"
    dispatched(st)
    st.say("wangwu", "帮助")
    assert "现在有 " in st.reply("wangwu")
    assert "我的待办" in st.reply("wangwu")
    st.say("wangwu", "帮助 全部")
    assert "【承办】" in st.reply("wangwu"), "the whole syntax is a tap away"


def test_the_office_drafts_the_public_line_from_its_todo_card(stack: Stack) -> None:
    st = stack
    code = dispatched(st)
    st.say("chenqi", "我的待办")
    assert "信息发布" in st.reply("chenqi"), st.texts("chenqi")[-3:]
    todo = cards(st, "chenqi", "我的待办")[-1]
    line = next(b for b in buttons(todo) if b.endswith("拟口径"))
    assert not [b for b in buttons(todo) if b.endswith("申请延期")], "the office's own clocks are typed, not buttons"
    click(st, "chenqi", todo, line)
    assert "口径文字" in st.reply("chenqi")
    st.say("chenqi", "经核查，网传视频系执法人员依法劝离占道经营，未发生肢体冲突。")
    said = st.reply("chenqi")
    assert "已提交口径第 1 版送审核" in said, said
    st.say("chenqi", f"口径 {code}")
    assert "第 1 版" in st.reply("chenqi"), "the line is on that item"
