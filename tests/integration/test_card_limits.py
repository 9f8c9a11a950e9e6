"""Every card Liaowang sends fits what WeCom shows on a phone (main_title ≤ 26, sub_title_text ≤ 112, rows ≤ 6 with
keynames ≤ 5, values ≤ 26, buttons ≤ 10): instruction first, cut only after a whole sentence, the rest on 查看详情;
every decided card says who decided and when (Beijing time)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from core import clock
from core.clock import show
from sandbox.validate import over_limit
from tests.integration.flowkit import cards, click, code_in, item_of
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack

FIRST = {"aim": "20s", "due": "30s"}
POLICY = {
    "start": "dispatched",
    "escalate_after": "20s",
    "escalate_every": "20s",
    "escalate_max": 2,
    "clocks": {
        "first_report": {"major": FIRST, "significant": FIRST, "general": FIRST},
        "written_report": {"major": {"due": "2h"}, "significant": {"due": "2h"}, "general": {"due": "2h"}},
        "handling_report": {"all": {"due": "1d"}},
    },
    "follow_up_period": "2h",
    "follow_up_every": "1h",
}
LONG = (
    "网传城东区某街道综合执法人员在早市与流动摊贩发生肢体冲突并强行收缴三轮车的短视频在本地论坛和短视频平台持续发酵"
    "，评论区出现大量质疑执法方式的留言，部分网民要求公开执法记录仪视频并追究相关人员责任"
)
REASON = "需要调取早市周边三处监控录像并与执法记录仪视频逐段比对，还要约谈当事摊贩和两名目击商户，" * 2
STATEMENT = (
    "我局已关注到网民反映的城东区早市执法冲突情况，已第一时间成立工作组赶赴现场调查核实，"
    "调取了执法记录仪视频和周边监控录像，当事执法队员已暂停执法工作配合调查。"
    "我们将依法依规、实事求是地处理，调查结果将及时向社会公布，感谢广大网民的关注和监督。"
)
TIME = re.compile(r"\d{1,2}:\d{2}")
SENTENCE_ENDS = "。；！？\n"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages, second-scale first-report clocks and a two-hour watch."""
    return make_stack(pages=True, extra={"policy": POLICY})


def template_cards(st: Stack) -> list[dict[str, Any]]:
    """Return every template card in every inbox, as each person sees it now (after updates)."""
    return [r for r in st.emu.inbox() if r["msgtype"] == "template_card"]


def problems(record: dict[str, Any]) -> list[str]:
    """Return what is wrong with a card as a phone shows it: over a limit, or its text cut inside an instruction."""
    card = record["card"] or record["body"]["template_card"]
    found = list(record["over_limit"]) + over_limit(card)
    sub = card.get("sub_title_text", "")
    if sub.count("“") != sub.count("”"):
        found.append(f"an instruction is cut: {sub!r}")
    if sub.endswith("……") and sub[:-2][-1:] not in SENTENCE_ENDS and "\n" not in sub:
        found.append(f"the instruction itself is cut: {sub!r}")
    return found


def source_of(record: dict[str, Any]) -> str:
    """Return the card's source line."""
    return str((record["body"]["template_card"].get("source") or {}).get("desc", ""))


def test_every_card_of_a_whole_major_item_fits_the_phone_and_says_when_it_was_decided(st: Stack) -> None:
    st.say("zhangsan", f"上报 {LONG} https://weibo.com/7/{time.monotonic_ns()}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 重大")
    ack = cards(st, "wangwu", "舆情交办")[-1]
    assert ack["body"]["template_card"]["sub_title_text"].startswith("请点“签收”"), "the instruction comes first"
    click(st, "wangwu", ack, "签收")
    st.later(21)  # 提醒
    st.later(6)  # 即将超时
    warning = [
        r
        for r in st.inbox("wangwu")
        if "即将超时" in r["body"].get("template_card", {}).get("main_title", {}).get("title", "")
    ]
    assert warning, "the final warning is a card"
    st.later(4)  # missed
    st.later(21)  # escalation level 1
    st.later(21)  # escalation level 2
    st.say("wangwu", f"首报 {code} 已到现场核实，当事双方情绪稳定。")
    st.say("wangwu", f"申请延期 {code} 书面报告 1h {REASON}")
    assert cards(st, "lisi", "延期"), st.last("wangwu")
    click(st, "lisi", cards(st, "lisi", "延期")[-1], "同意")
    st.say("wangwu", f"书面报告 {code} {LONG}。经核实，执法队员存在言语不当，已责令书面检查。{REASON}")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    decide = cards(st, "liujiu", "书面报告审定")
    if decide:
        click(st, "liujiu", decide[-1], "批准")
    for userid in ("zhouba", "mali", "sunshi"):
        for card in cards(st, userid, "会商"):
            click(st, userid, card, "无不同意见")
    st.say("chenqi", f"口径 {code} {STATEMENT}会同 宣传处")
    click(st, "lisi", cards(st, "lisi", "统一口径")[-1], "同意")
    click(st, "liujiu", cards(st, "liujiu", "统一口径")[-1], "同意")
    for card in cards(st, "mali", "统一口径"):
        click(st, "mali", card, "确认")
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    st.say("chenqi", f"跟帖 {code} 张三 说明已成立工作组调查核实、当事队员已暂停执法、结果将及时公布 限2h")
    assert cards(st, "zhangsan", "组织跟帖"), st.last("chenqi")
    st.say("chenqi", f"回复来源 {code} 经核查，执法人员已停职检查，感谢监督。")
    st.say("chenqi", f"办结 {code} 处置完毕")
    st.later(3600)
    click(st, "wangwu", cards(st, "wangwu", "善后观察")[-1], "平稳")

    every = template_cards(st)
    seen = {source_of(r).removeprefix("瞭望 · ") for r in every}
    for wanted in ("舆情交办", "时限提醒", "超时督办1级", "超时督办2级", "延期申请", "书面报告审核", "统一口径",
                   "上报审批", "组织跟帖", "善后观察"):  # fmt: skip
        assert wanted in seen, f"the flow sent no {wanted} card: {sorted(seen)}"
    bad = {f"{r['userid']} {source_of(r)}": problems(r) for r in every if problems(r)}
    assert bad == {}, "cards a phone would cut"
    decided = [r for r in every if r["replaced_button"]]
    assert len(decided) >= 6
    for r in decided:
        assert TIME.search(r["replaced_button"]), f"a decided card without its time: {r['replaced_button']}"
    assert item_of(st, code).code == code


def test_the_final_warning_shows_the_instruction_and_its_details_page_has_the_whole_text(st: Stack) -> None:
    st.say("zhangsan", f"上报 {LONG} https://weibo.com/8/{time.monotonic_ns()}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 重大")
    st.later(27)
    warning = next(
        r
        for r in st.inbox("wangwu")
        if "即将超时" in r["body"].get("template_card", {}).get("main_title", {}).get("title", "")
    )
    card = warning["body"]["template_card"]
    assert problems(warning) == []
    assert card["sub_title_text"].startswith("首报将于 "), "the step and its time first (the title names the item)"
    assert f"“首报 {code} 内容”" in card["sub_title_text"]
    jump = card["jump_list"][0]
    assert jump["title"] == "查看详情"
    page = Browser(st).login("wangwu", "/h5/card/" + card["task_id"])
    assert page.status_code == 200
    assert f"申请延期 {code} 首报 &lt;时长&gt; &lt;原因&gt;" in page.text, "the typed form is on the details page"
    assert "即将超时：" + LONG[:20] in page.text
    other = Browser(st).login("gaojing", "/h5/card/" + card["task_id"])
    assert other.status_code == 403, "a unit lead of another unit neither received the card nor handles the item"
    assert "无权查看" in other.text
    assert Browser(st).login("chenqi", "/h5/card/" + card["task_id"]).status_code == 200, "the office is involved"
    assert Browser(st).login("wangwu", "/h5/card/no-such-card").status_code == 404


def test_a_decided_brief_card_says_who_and_when_in_beijing_time(st: Stack) -> None:
    st.say("zhangsan", f"上报 执法冲突视频 https://weibo.com/9/{time.monotonic_ns()}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    st.say("chenqi", f"快报 {code}")
    card = cards(st, "liujiu", "上报审批")[-1]
    click(st, "liujiu", card, "同意")
    now = next(r for r in st.inbox("liujiu") if r["msgid"] == card["msgid"])
    assert now["replaced_button"] == f"刘九 已同意 {show(clock.now())}"
    st.say("chenqi", f"报送 {code} 县委宣传部")
    assert f"于 {show(clock.now())} 报送县委宣传部" in st.last("chenqi"), "Beijing time, not UTC"


def test_card_texts_are_cut_after_a_sentence_or_outside_a_quoted_instruction() -> None:
    from workflow.views.render import fit_content, fit_sentences

    warn = "首报将于 18:00 到期。\n请发送“首报 YQ-1 内容”。\n确实来不及，请发送“申请延期 YQ-2 首报 <时长> <原因>”。"
    assert fit_sentences(warn, 40) == "首报将于 18:00 到期。\n请发送“首报 YQ-1 内容”。……"
    assert fit_sentences("请签收。", 40) == "请签收。"
    assert fit_content("一二三四五六七八九十", 6) == "一二三四……"
    assert fit_content("没有发现点“无异常”，发现了点“有情况上报”。", 18) == "没有发现点“无异常”，发现了点……"
