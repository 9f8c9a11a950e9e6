"""How typed commands are read: a 编号 ends where its shape ends (punctuation and Chinese after it are content),
full-width 编号, prose that only looks like a command inside a conversation, “正文：” protecting flow words, the
separator before 会同, 申请延期 in the app's own words and with a new deadline, and 特别重大 said aloud."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from models import Clock, Item, Statement, Submission
from tests.integration.flowkit import code_in, dispatched
from tests.integration.harness import Stack

FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A plain stack."""
    return make_stack()


def _first_report_text(st: Stack, code: str) -> str:
    """The content of the 首报 as the office receives it."""
    told = [t for t in st.texts("chenqi") if t.startswith(f"【首报】{code}")]
    assert told, "the office was told of the first report"
    return told[-1].split("首报：", 1)[1]


def _submission_text(st: Stack, code: str) -> str:
    with st.rt.sessions() as s:
        sub = s.scalar(
            select(Submission)
            .join(Item, Item.id == Submission.item_id)
            .where(Item.code == code)
            .order_by(Submission.version.desc())
        )
        assert sub is not None, "the written report was submitted"
        return sub.text


def test_a_code_followed_by_punctuation_or_chinese_ends_where_its_shape_ends(st: Stack) -> None:
    code, other = dispatched(st), dispatched(st)
    st.say("wangwu", f"签收 {code}。")
    assert f"已签收 {code}" in st.reply("wangwu")
    st.say("wangwu", f"首报 {code.lower()}：经核实，系依法拆除违建。")
    assert f"已记录 {code} 的首报" in st.reply("wangwu")
    assert _first_report_text(st, code) == "经核实，系依法拆除违建。", "the content is kept as typed"
    st.say("wangwu", f"签收 {other}")
    st.say("wangwu", f"首报：{other}，已核实，系商户纠纷")
    assert f"已记录 {other} 的首报" in st.reply("wangwu")
    assert _first_report_text(st, other) == "已核实，系商户纠纷"
    st.say("wangwu", f"查询 {other}。")
    reply = st.reply("wangwu")
    assert other in reply
    assert "没有找到" not in reply
    st.say("wangwu", f"书面报告 {code} 初稿")
    st.say("lisi", f"退回修改 {code.lower()}：请补充现场照片。")
    assert "已转给执法一队" in st.reply("lisi")
    assert any("【修改意见】" in t and "请补充现场照片。" in t for t in st.texts("wangwu"))
    st.say("wangwu", "查询 YQ-20990101-001号")
    assert "没有找到编号为 YQ-20990101-001 的舆情" in st.reply("wangwu"), "a missing 编号 is named cleanly"


def test_a_fact_key_followed_by_a_colon_is_disputed(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"扣分 {code} 执法一队 漏报 主要 群众先于本单位发现")
    fact = st.reply("chenqi").split("：")[0].removeprefix("已记录 ")
    assert fact.startswith("F"), fact
    st.say("wangwu", f"申诉 {fact.lower()}：已于到期前电话报告办公室")
    assert f"已提交对 {fact}" in st.reply("wangwu")


def test_a_full_width_code_is_read_as_the_code(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code.translate(FULL_WIDTH)}")
    assert f"已签收 {code}" in st.reply("wangwu")
    st.say("wangwu", f"首报 {code.replace('-', '－')} 全角ＡＢＣ内容不变")
    assert f"已记录 {code} 的首报" in st.reply("wangwu")
    assert _first_report_text(st, code) == "全角ＡＢＣ内容不变", "only the 编号 is normalised, never the content"


def test_paragraphs_that_look_like_commands_stay_in_the_report(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    paragraphs = [
        "批示：G20峰会期间从严管控占道经营。",
        "评估：G3高速沿线摊点已清理。",
        "意见：C2路段建议设置便民疏导点。",
        f"续报：{code}号舆情后续无新情况",
    ]
    for n, p in enumerate(paragraphs, start=1):
        st.say("wangwu", p)
        reply = st.reply("wangwu")
        assert f"已记下第 {n} 段" in reply, (p, reply)
    st.say("wangwu", "提交")
    assert "第 1 版" in st.reply("wangwu")
    assert _submission_text(st, code) == "\n".join(paragraphs)


def test_a_command_typed_in_a_guided_report_says_the_report_is_still_open_and_how_to_keep_it(st: Stack) -> None:
    code = dispatched(st)
    st.say("zhaoliu", "上报")
    line = f"查询 {code} 时发现，该视频又被大V转发"
    st.say("zhaoliu", line)
    reply = st.reply("zhaoliu")
    assert "上报舆情，还没有完成" in reply
    assert "正文：" in reply, "how to send the line as the description"
    st.say("zhaoliu", f"正文：{line}")
    assert "来源是哪里" in st.reply("zhaoliu")
    st.say("zhaoliu", "提交")
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.text == line))
        assert item is not None, "the description was kept"


def test_content_after_the_content_mark_is_never_a_flow_word(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"书面报告 {code}")
    st.say("wangwu", "正文：取消")
    assert "已记下第 1 段" in st.reply("wangwu"), "取消 after 正文： is content"
    st.say("wangwu", "正文:提交")
    assert "已记下第 2 段" in st.reply("wangwu"), "提交 after 正文: is content"
    st.say("wangwu", "提交")
    assert "第 1 版" in st.reply("wangwu")
    assert _submission_text(st, code) == "取消\n提交"


def test_the_separator_before_huitong_is_not_part_of_the_public_text(st: Stack) -> None:
    code = dispatched(st)
    st.say("chenqi", f"口径 {code} 通告中的错别字已更正，感谢网友指正;会同:法制处,城东区局")
    assert "已提交口径第 1 版" in st.reply("chenqi")
    with st.rt.sessions() as s:
        texts = list(s.scalars(select(Statement.text)))
    assert texts == ["通告中的错别字已更正，感谢网友指正"]


def _due(st: Stack, code: str, label: str) -> str:
    with st.rt.sessions() as s:
        c = s.scalar(select(Clock).join(Item, Item.id == Clock.item_id).where(Item.code == code, Clock.label == label))
        assert c is not None
        return clock.show(c.due_at + timedelta(minutes=30), True)


def test_extension_takes_command_names_and_a_new_deadline_and_refuses_zero_clearly(st: Stack) -> None:
    code, other = dispatched(st), dispatched(st)
    st.say("wangwu", f"签收 {code}")
    st.say("wangwu", f"申请延期 {code} 处置报告 半小时 需要等待街道核查结果")
    assert "处置情况报告的延期申请已提交" in st.reply("wangwu")
    st.say("wangwu", f"签收 {other}")
    st.say("wangwu", f"申请延期 {other} 书面报告 至{_due(st, other, '书面报告')}，等待调查结论")
    reply = st.reply("wangwu")
    assert "书面报告的延期申请已提交" in reply, reply
    assert "30分钟" in reply, "the new deadline is read as the time it adds"
    st.say("wangwu", f"申请延期 {other} 首报 0分钟 等待")
    reply = st.reply("wangwu")
    assert "大于零" in reply, reply
    assert "看不懂" not in reply
    st.say("zhangsan", "上报 网传某路段占道经营 https://weibo.com/7/zero")
    third = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {third} 执法一队 较大 限0分钟")
    reply = st.reply("chenqi")
    assert "大于零" in reply, reply
    assert "看不懂" not in reply
    assert "已交办" not in reply


def test_dispatch_says_that_te_bie_zhong_da_is_handled_as_major(st: Stack) -> None:
    st.say("zhangsan", "上报 网传某小区发生群体性事件 https://weibo.com/8/major")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 特别重大")
    reply = st.reply("chenqi")
    assert "等级：重大（特别重大按重大处置）" in reply, reply
