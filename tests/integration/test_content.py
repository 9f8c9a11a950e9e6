"""What people type is content: report paragraphs that begin with a heading and a colon, the guided report's own
words, keywords after punctuation in 口径, 跟帖 要点 verbatim, and the reason asked on 口径 退回修改."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import clock
from models import AuditEvent, GuidedAssignment, GuidedTask, Item, Statement, Submission
from tests.integration.flowkit import cards, click, dispatched
from tests.integration.harness import Stack

HEADINGS = ("处置情况", "意见", "发布", "报送", "批示", "评估", "续报", "首报", "查询", "签收")


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A plain stack."""
    return make_stack()


def _submission_text(st: Stack, code: str) -> str:
    with st.rt.sessions() as s:
        sub = s.scalar(select(Submission).join(Item, Item.id == Submission.item_id).where(Item.code == code))
        assert sub is not None, "the written report was submitted"
        return sub.text


def test_report_paragraphs_that_begin_with_a_heading_and_a_colon_are_kept(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    paragraphs = [f"{h}：已约谈当事执法队员，责令其作出书面说明。" for h in HEADINGS]
    paragraphs += ["处置情况:半角冒号也是内容", "意见 建议加强执法记录仪使用管理", "处置情况"]
    for n, p in enumerate(paragraphs, start=1):
        st.say("wangwu", p)
        reply = st.reply("wangwu")
        assert f"已记下第 {n} 段" in reply, (p, reply)
        assert "没有找到编号" not in reply
    assert "没有当作命令" in reply, "the person is told how the line was taken"
    assert "处置情况 <编号>" in reply, "and how to run the command instead"
    st.say("wangwu", "提交")
    assert "第 1 版" in st.reply("wangwu")
    assert _submission_text(st, code) == "\n".join(paragraphs)


def test_a_real_command_with_a_code_is_run_and_the_person_is_told_how_to_keep_it_as_content(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "第一段")
    st.say("wangwu", f"查询：{code}")
    reply = st.reply("wangwu")
    assert code in reply
    assert "已按“查询”命令办理" in reply
    assert "正文：" in reply
    st.say("wangwu", f"正文：查询：{code} 的结果显示已办结")
    assert "已记下第 2 段" in st.reply("wangwu")
    st.say("wangwu", f"书面报告 {code} 第三段接着写")
    assert "已记下第 3 段" in st.reply("wangwu"), "the same report named again does not throw the draft away"
    st.say("wangwu", "提交。")
    assert "第 1 版" in st.reply("wangwu")
    assert _submission_text(st, code) == f"第一段\n查询：{code} 的结果显示已办结\n第三段接着写"


def test_guided_report_after_a_forwarded_link_submit_uses_the_links_title(st: Stack) -> None:
    st.say("zhangsan", "上报")
    st.emu.link("zhangsan", "https://weibo.com/5/ABCdef", title="某街道占道经营引发争执")
    st.drain()
    assert "提交" in st.last("zhangsan")
    st.say("zhangsan", "提交")
    assert "编号" in st.reply("zhangsan")
    with st.rt.sessions() as s:
        item = s.scalar(select(Item))
        assert item is not None
        assert item.title == "某街道占道经营引发争执", "the flow's own word is never the title"
        assert item.text == "某街道占道经营引发争执"


def test_guided_report_submit_with_nothing_asks_for_a_description(st: Stack) -> None:
    st.say("zhangsan", "上报")
    st.say("zhangsan", "提交")
    assert "还没有舆情描述" in st.reply("zhangsan")
    st.say("zhangsan", "跳过")
    assert "还没有舆情描述" in st.reply("zhangsan")
    with st.rt.sessions() as s:
        assert s.scalar(select(Item)) is None


def test_a_paragraph_beginning_with_a_command_word_is_the_description_of_a_guided_report(st: Stack) -> None:
    st.say("zhangsan", "上报")
    st.say("zhangsan", "意见：网民认为执法过程粗暴")
    assert "来源是哪里" in st.reply("zhangsan")
    st.say("zhangsan", "提交")
    with st.rt.sessions() as s:
        item = s.scalar(select(Item))
        assert item is not None
        assert item.text == "意见：网民认为执法过程粗暴"


def _statement(st: Stack, code: str) -> Statement:
    with st.rt.sessions() as s:
        row = s.scalar(
            select(Statement).join(Item, Item.id == Statement.item_id).where(Item.code == code).order_by(Statement.id)
        )
        assert row is not None
        s.expunge(row)
        return row


@pytest.mark.parametrize("joiner", ["。会同 宣传处", "。会同宣传处", "；会同：宣传处", "\n会同 宣传处", ".会同 宣传处"])
def test_hui_tong_after_punctuation_is_a_keyword_and_the_unit_is_asked_to_confirm(st: Stack, joiner: str) -> None:
    code = dispatched(st)
    public = "我局已关注到网民反映的情况，正在依法依规调查处理，结果将及时向社会公布"
    st.say("chenqi", f"口径 {code} {public}{joiner}")
    reply = st.reply("chenqi")
    kept = public + joiner[0] if joiner[0] in "。." else public  # a list separator (；) before 会同 is dropped
    assert f"口径文字：{kept}\n" in reply, "the drafter sees the parsed text"
    assert "须确认的单位：宣传处" in reply, "and the units that will be asked to confirm"
    assert _statement(st, code).text == kept, "会同 never enters the public text"
    click(st, "lisi", cards(st, "lisi", "统一口径")[-1], "同意")
    assert cards(st, "mali", "统一口径"), "宣传处's lead is asked to confirm (SPEC §12)"


def test_hui_tong_inside_a_sentence_is_text_and_an_unknown_unit_is_refused(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"口径 {code} 我局会同公安部门开展调查。")
    assert "须确认的单位：无" in st.reply("chenqi")
    assert _statement(st, code).text == "我局会同公安部门开展调查。"
    st.say("chenqi", f"口径 {code} 正在调查。会同 不存在的处")
    assert "没有找到单位“不存在的处”" in st.reply("chenqi")


def test_dispatch_keywords_after_punctuation_and_chinese_limits(st: Stack) -> None:
    st.say("zhangsan", "上报 网传执法人员与商户发生冲突的视频 https://weibo.com/9/limits")
    code = st.reply("zhangsan").split("编号 ")[1][:15]
    st.say("chenqi", f"交办 {code} 执法一队，抄送宣传处；较大，限2小时")
    reply = st.reply("chenqi")
    assert "执法一队（主办）" in reply, reply
    assert "宣传处（抄送）" in reply, reply
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        assert item.external_due_at is not None
        assert (item.external_due_at - item.dispatched_at).total_seconds() == 7200  # type: ignore[operator]


def test_an_unreadable_limit_is_refused_in_chinese_and_changes_nothing(st: Stack) -> None:
    st.say("zhangsan", "上报 另一条 https://weibo.com/9/bad-limit")
    code = st.reply("zhangsan").split("编号 ")[1][:15]
    st.say("chenqi", f"交办 {code} 执法一队 较大 限3个礼拜")
    assert "看不懂" in st.reply("chenqi")
    assert "限2小时" in st.reply("chenqi"), "the refusal shows the Chinese forms that work"
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        assert item.dispatched_at is None


def test_guided_reply_points_are_kept_verbatim(st: Stack) -> None:
    code = dispatched(st)
    line = "说明执法过程合法，已依法处理、并向当事人致歉；欢迎监督"
    st.say("chenqi", f"跟帖 {code} 张三，吴一 {line}，限30分钟")
    reply = st.reply("chenqi")
    assert f"跟帖要点：{line}" in reply, reply
    with st.rt.sessions() as s:
        task = s.scalar(select(GuidedTask))
        assert task is not None
        assert task.line == line
        assert (task.due_at - task.created_at).total_seconds() == 1800
    card = cards(st, "zhangsan", "组织跟帖")[-1]
    shown = card["body"]["template_card"]
    assert line in shown.get("main_title", {}).get("desc", "") + shown.get("sub_title_text", ""), shown


def test_a_returned_statement_asks_the_reason_and_passes_it_to_the_drafter(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"口径 {code} 第一稿")
    click(st, "lisi", cards(st, "lisi", "统一口径")[-1], "退回修改")
    assert "请直接回复退回理由" in st.reply("lisi")
    st.say("lisi", "处置情况：表述不准确，请补充调查结论")
    assert "退回理由已转给起草人" in st.reply("lisi")
    assert any("【口径退回理由】" in t and "处置情况：表述不准确，请补充调查结论" in t for t in st.texts("wangwu"))
    assert _statement(st, code).comment == "处置情况：表述不准确，请补充调查结论"
    with st.rt.sessions() as s:
        reasons = s.scalars(select(AuditEvent).where(AuditEvent.action == "statement_return_reason")).all()
        assert len(reasons) == 1


def test_the_demos_clock_speed_applies_to_typed_durations(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra={"policy": {"scale": 60}})
    code = dispatched(st)
    st.say("chenqi", f"跟帖 {code} 张三 说明情况 限2小时")
    with st.rt.sessions() as s:
        task = s.scalar(select(GuidedTask))
        assert task is not None
        assert (task.due_at - task.created_at).total_seconds() == 120, "2 h at 60× is two real minutes"


def test_extension_takes_chinese_durations_and_punctuation(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"申请延期 {code}，首报，半小时，需要补充现场核查")
    assert "申请延长 30分钟" in st.reply("wangwu"), st.reply("wangwu")
    st.say("wangwu", f"申请延期 {code} 首报 3个礼拜 需要补充")
    assert "时长“3个礼拜”看不懂" in st.reply("wangwu")


def test_cancel_in_a_one_message_conversation_is_never_stored_as_the_answer(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"跟帖 {code} 张三 说明情况")
    click(st, "zhangsan", cards(st, "zhangsan", "组织跟帖")[-1], "无法完成")
    st.say("zhangsan", "取消")
    assert "仍在您名下" in st.reply("zhangsan")
    st.say("chenqi", f"口径 {code} 正在调查。会同 宣传处")
    click(st, "lisi", cards(st, "lisi", "统一口径")[-1], "同意")
    click(st, "mali", cards(st, "mali", "统一口径")[-1], "有意见")
    st.say("mali", "取消")
    assert "没有提出意见" in st.reply("mali")
    assert _statement(st, code).state == "confirming", "取消 is not an objection"
    with st.rt.sessions() as s:
        assert s.scalar(select(GuidedAssignment.state)) == "open", "取消 is not a reason to decline"


def test_a_period_takes_chinese_dates(st: Stack) -> None:
    year = clock.local(clock.now()).year + 1
    st.say("chenqi", f"重要节点 春节 {year}年2月1日 {year}年2月5日")
    assert "已设定重要节点“春节”" in st.reply("chenqi"), st.reply("chenqi")
    st.say("chenqi", f"重要节点 春节 {year}年2月30日 {year}年3月5日")
    assert f"“{year}年2月30日”不是日期" in st.reply("chenqi")
