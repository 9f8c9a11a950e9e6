"""The case file (/h5/item/<编号>): one item driven through the WeCom emulator, then read as the office reads it."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from core import clock
from core.clock import local
from models import Item
from tests.integration.flowkit import cards, click, dispatched
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_deadlines import POLICY
from workflow.record.archive import timeline

AT = r"((\d{4}年)?\d+月\d+日 )?\d\d:\d\d"  # a Beijing time as people read it
CODES = ("clock_start", "clock_met", "clock_missed", "extension_decision", "first_report", "written_report",
         "statement_drafted", "brief_sent", "instruction", "significant", "pending", "approved", "None")  # fmt: skip
USERIDS = ("zhangsan", "wangwu", "lisi", "chenqi", "zhouba", "liujiu")


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """H5 pages, clocks of seconds (首报 due 30 s, 书面报告 due 90 s for 较大) on a clock the test moves."""
    return make_stack(pages=True, extra={"policy": POLICY})


def text_of(page: str) -> str:
    """The page as a person reads it: tags gone, entities decoded, blank runs folded."""
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", page, flags=re.S)
    body = re.sub(r"<(br|/li|/div|/p|/h\d|/dd|/dt|/time|/td|/th|/tr|/svg|/text)[^>]*>", "\n", body)
    return re.sub(r"[ \t]*\n\s*", "\n", html.unescape(re.sub(r"<[^>]+>", "", body)))


def section(text: str, title: str, upto: str) -> str:
    """The lines of text between heading title and heading upto."""
    return text.split(f"\n{title}\n", 1)[1].split(f"\n{upto}\n", 1)[0]


def whole_story(st: Stack) -> str:
    """An item through 签收, a missed 首报, an extension, 书面报告 and approval, 会商, 口径 and its publication,
    a 快报 sent upward, a 批示, a guided reply done, a 续报 and the 回复来源; return its 编号."""
    code = dispatched(st, grade="较大")
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "签收")
    st.later(31)  # the 首报 (30 s) is missed
    st.say("wangwu", f"首报 {code} 已核实，系商户占道经营纠纷")
    st.say("wangwu", f"申请延期 {code} 书面报告 1m 需要补充现场核查材料")
    ext = [r for r in st.inbox("lisi") if r["msgtype"] == "template_card" and "延期申请" in str(r["body"])][-1]
    click(st, "lisi", ext, "同意")
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"口径 {code} 我局已关注到网民反映的情况，正在依法依规调查处理。")
    click(st, "lisi", cards(st, "lisi", "统一口径")[-1], "同意")
    st.say("chenqi", f"发布 {code} 官方微博 https://weibo.com/gov/1")
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    st.say("chenqi", f"报送 {code} 县委宣传部")
    st.say("liujiu", f"批示 {code} 请加强回访，及时公布调查结果")
    st.say("chenqi", f"跟帖 {code} 张三 说明已成立工作组调查核实 限2h")
    st.say("zhangsan", f"已跟帖 {code} https://weibo.com/5/6")
    st.say("wangwu", f"续报 {code} 当事商户已表示谅解，评论量下降")
    st.say("chenqi", f"回复来源 {code} 经核查，执法人员已依法处理，感谢监督。")
    return code


def test_the_office_reads_the_whole_story_in_words_with_names_outcomes_and_versions(st: Stack) -> None:
    code = whole_story(st)
    office = Browser(st)
    page = office.login("chenqi", f"/h5/item/{code}")
    assert page.status_code == 200
    text = text_of(page.text)
    brief = re.search(r'href="([^"]*/brief/\d+\.docx)"', page.text)
    assert brief, "the 快报's Word file is offered to the office"
    got = office.get(brief.group(1))
    assert got.status_code == 200
    assert got.content.startswith(b"PK")
    assert "attachment" in got.headers["Content-Disposition"]
    lead = Browser(st)
    assert "/brief/" not in lead.login("wangwu", f"/h5/item/{code}").text
    refused = lead.get(brief.group(1))
    assert refused.status_code == 403
    assert "快报和专报由领导小组办公室和领导查看" in refused.text

    story = section(text, "处置经过", "时限")
    assert re.search(rf"{AT}\n陈七 定级交办：较大，主办 执法一队", story), story
    assert re.search(rf"{AT}\n王五 签收", story), story
    assert re.search(rf"系统 首报时限超时：执法一队，应于 {AT}", story), story
    assert "王五 首报超时后完成" in story, story
    assert re.search(rf"李四 同意书面报告延期：最迟改为 {AT}", story), story
    assert "李四 批准书面报告 第 1 版" in story, story
    assert "周八 无不同意见" in story, story
    assert "刘九 领导批示：请加强回访" in story, story
    assert re.search(r"陈七 报送上级：快报〔\d{4}〕第1期，报送县委宣传部", story), story
    assert "书面报告开始计时" in story, "the clocks' starts are told by their names"

    clocks = section(text, "时限", "首报与续报")
    first = clocks.split("首报 · 执法一队", 1)[1].split("书面报告 · ", 1)[0]
    assert re.search(rf"结果\n超时后完成（{AT}，超时 1秒）", first), first
    written = clocks.split("书面报告 · 执法一队", 1)[1]
    assert re.search(rf"结果\n{AT} 按时完成", written), written
    assert re.search(r"王五 申请延长 1分钟：需要补充现场核查材料\n已同意（李四 ", written), written

    reports = section(text, "首报与续报", "书面报告")
    assert "首报 · 王五" in reports, reports
    assert "系商户占道经营纠纷" in reports, reports
    assert "续报 · 王五" in reports, reports
    assert "当事商户已表示谅解" in reports, reports
    assert re.search(r"第 1 版 · 执法一队（主办）\n已批准", text), text
    assert "李四 " in section(text, "书面报告", "会商意见")
    assert "周八：无不同意见" in section(text, "会商意见", "回复来源")
    line = section(text, "对外口径", "组织跟帖")
    assert "第 1 版 已定稿" in line, line
    assert "陈七 拟定" in line, line
    assert "发布于官方微博" in line, line
    assert re.search(rf"张三：已完成 {AT}（https://weibo.com/5/6）", section(text, "组织跟帖", "上报与批示"))
    replied = section(text, "回复来源", "对外口径")
    assert re.search(rf"{AT} 陈七\n经核查，执法人员已依法处理，感谢监督。", replied), replied
    upward = section(text, "上报与批示", "考核扣分与申诉")
    assert "快报" in upward, upward
    assert "由陈七报送县委宣传部" in upward, upward
    assert "批示 · 刘九" in upward, upward
    assert "请加强回访" in upward, upward
    assert "迟报" in section(text, "考核扣分与申诉", "打印或存为 PDF"), "the late 首报 is a deduction"

    summary = text.split("\n" + "网传执法人员", 1)[0]
    assert code in summary
    assert "较大" in summary
    for word in CODES:
        assert word not in text, f"no internal code on the page ({word})"
    for userid in USERIDS:
        assert userid not in text, f"names, not userids ({userid})"


def test_the_case_file_and_the_archive_pdf_tell_the_same_lines_and_what_is_owed_is_on_top(st: Stack) -> None:
    code = dispatched(st, grade="较大")
    st.later(90)
    office = Browser(st)
    text = text_of(office.login("chenqi", f"/h5/item/{code}").text)
    top = text.split("\n网传执法人员", 1)[0]
    assert re.search(rf"执法一队：首报，最迟 {AT}（已超时 1分钟，仍须完成）", top), top
    assert "执法一队：书面报告，最迟" in top, top
    st.say("wangwu", f"申请延期 {code} 处置情况报告 30m 等待调查结论")
    key = re.search(r"(C\d+) 执法一队 迟报", text)
    assert key, text
    st.say("wangwu", f"申诉 {key.group(1)} 交办时已是深夜，无法及时联系当事人")
    text = text_of(office.get(f"/h5/item/{code}").text)
    top = text.split("\n网传执法人员", 1)[0]
    assert "王五申请处置情况报告延长 30分钟，待审批" in top, top
    assert f"{key.group(1)} 执法一队迟报的申诉待审定" in top, top
    with st.rt.sessions() as s:
        item = s.scalars(select(Item).where(Item.code == code)).one()
        archived_lines = timeline(s, item)
    story = section(text, "处置经过", "时限")
    this_year = f"{local(clock.now()).year}年"  # the archive writes every year; the page leaves out this one's
    for when, who, what, detail in archived_lines:
        line = f"{when}\n{who} {what}" + (f"：{detail}" if detail else "")
        assert line.replace(this_year, "") in story, (when, who, what, story)
    lead = Browser(st).login("wangwu", f"/h5/item/{code}").text
    assert "考核扣分" not in lead, "deductions are for the office and leaders"
    assert "首报时限超时" in text_of(lead)
    assert Browser(st).login("sunshi", f"/h5/item/{code}").status_code == 403, "visibility as before"
