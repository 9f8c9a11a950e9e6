"""What people type is content: report paragraphs that begin with a heading and a colon, the guided report's own
words, keywords after punctuation in 口径, 跟帖 要点 verbatim, and the reason asked on 口径 退回修改."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Item, Submission
from tests.integration.flowkit import dispatched
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
