"""Timelines say what happened in words (which clock, whose, which decision, by name); refusals after 归档 read well."""

from __future__ import annotations

import re

import pytest

from models import Item
from tests.integration.flowkit import cards, click, dispatched, item_of
from tests.integration.harness import Stack
from tests.integration.test_record import POLICY, archived
from workflow.record.archive import timeline

AT = r"(\d+月\d+日 )?\d\d:\d\d"  # a Beijing time as people read it
GARBLED = ("已已", "（当前：已立卷归档）", "当前：已立卷归档")


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (as tests/integration/test_record.py)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def group_lines(st: Stack, userid: str, item: Item) -> list[str]:
    """The 一事一群 lines userid read in the item's group."""
    return [r["body"]["text"]["content"] for r in st.inbox(userid) if r.get("chatid") == item.chat_id]


def decide_extension(st: Stack, button: str) -> None:
    """The supervisor 李四 answers the newest 延期申请 card."""
    card = [r for r in st.inbox("lisi") if r["msgtype"] == "template_card" and "延期申请" in str(r["body"])][-1]
    click(st, "lisi", card, button)


def test_clocks_extensions_and_opinions_are_told_in_words_with_names(st: Stack) -> None:
    code = dispatched(st, grade="重大")
    item = item_of(st, code)
    assert item.chat_id, "a major item has its group"
    st.later(31 * 60)  # the 首报 (30 min for 重大) is missed by 执法一队
    st.say("wangwu", f"申请延期 {code} 书面报告 30m 需要补充现场核查材料")
    decide_extension(st, "同意")
    st.say("wangwu", f"申请延期 {code} 处置情况报告 1h 等待调查结论")
    decide_extension(st, "不同意")
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "liujiu", [r for r in st.inbox("liujiu") if r["msgtype"] == "template_card"][-1], "批准")
    st.say("chenqi", f"会商 {code} 宣传处 请就答复口径提出意见")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")

    lines = "\n".join(group_lines(st, "liujiu", item))  # the leaders follow the item in its group
    assert re.search(rf"系统 首报时限超时：执法一队，应于 {AT}", lines), lines
    assert re.search(rf"李四 同意书面报告延期：最迟改为 {AT}", lines), lines
    assert re.search(rf"李四 不同意处置情况报告延期：仍须在 {AT} 前完成", lines), lines
    assert "周八 无不同意见" in lines, lines
    assert "审批延期" not in lines, "the decision is said, not just that there was one"
    assert "系统 时限超时" not in lines

    st.say("chenqi", f"查询 {code}")
    told = st.reply("chenqi")
    assert re.search(r"系统 首报时限超时：执法一队，应于 ", told), told
    assert "李四 同意书面报告延期：最迟改为" in told, told
    assert "李四 不同意处置情况报告延期" in told, told
    assert "周八 无不同意见" in told, told
    assert "周八 提出会商意见" not in told, "a 无不同意见 click is not an opinion"
    consult = next(line for line in told.splitlines() if "征求会商意见" in line and "陈七" in line)
    assert "征求" in consult
    assert "['" not in told, "no Python list"
    for userid in ("zhouba", "wangwu", "lisi", "wuyi"):
        assert userid not in told, f"names, not userids ({userid})"


def test_refusals_after_archiving_read_naturally_and_the_archive_timeline_names_decisions(st: Stack) -> None:
    code = archived(st)
    for userid, text in [
        ("chenqi", f"总结评估 {code} 再补充一点"),
        ("chenqi", f"归档 {code}"),
        ("chenqi", f"办结 {code}"),
        ("chenqi", f"回复来源 {code} 补充答复"),
        ("chenqi", f"会商 {code} 宣传处"),
        ("chenqi", f"交办 {code} 执法一队 较大"),
        ("chenqi", f"定级 {code} 重大"),
        ("wangwu", f"首报 {code} 已核实"),
        ("wangwu", f"书面报告 {code} 补充材料"),
        ("liujiu", f"批示 {code} 请加强回访"),
    ]:
        st.say(userid, text)
        said = st.reply(userid)
        assert code in said, (text, said)
        assert "已立卷归档" in said, (text, said)
        for bad in GARBLED:
            assert bad not in said, (text, said)
    st.say("chenqi", f"总结评估 {code} 再补充一点")
    assert f"{code} 已立卷归档，不能再总结评估" in st.reply("chenqi")
    with st.rt.sessions() as s:
        from sqlalchemy import select

        rows = timeline(s, s.scalars(select(Item).where(Item.code == code)).one())
    assert any(who == "周八" and what == "无不同意见" for _at, who, what, _detail in rows), rows
    assert not any(what == "提出会商意见" for _at, _who, what, _detail in rows), rows
    assert not any("['" in detail for *_rest, detail in rows), rows
