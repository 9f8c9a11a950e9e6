"""One message per person per step (issue 20): actors directly, followers in the item's group or one direct line."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from bench.messages import ROLES, TARGETS, lifecycle, tally
from core import clock
from models import Item
from tests.integration.flowkit import buttons, click, code_in, current, dispatched
from tests.integration.harness import Stack, text_of

GROUP = ("liujiu", "yangguang", "zhouba")  # the leaders and the general office follow a major item in its group


def _cards(st: Stack, userid: str, prefix: str) -> list[dict[str, Any]]:
    """The template cards userid received whose task id starts with prefix (ack-, opin-, esc-, wr-), oldest first."""
    return [
        r
        for r in st.inbox(userid)
        if r["msgtype"] == "template_card" and r["body"]["template_card"]["task_id"].startswith(prefix)
    ]


def _is_reply(record: dict[str, Any]) -> bool:
    return bool(record.get("passive")) or str(record["body"].get("idem_key", "")).startswith("reply:")


def test_one_major_item_with_a_rebound_stays_within_each_roles_ceiling(make_stack) -> None:  # type: ignore[no-untyped-def]
    now = clock.local(clock.now())
    clock.freeze(now.replace(day=10, hour=9, minute=0, second=0, microsecond=0))  # mid-month: no monthly bulletin
    st = make_stack()
    code = lifecycle(st)
    for role, ceiling in TARGETS.items():
        got = tally(st, ROLES[role])
        assert got.total <= ceiling, (role, got.total, got.direct, got.replies, got.group)
    for userid in ("chenqi", "wangwu", "gaojing", "lisi", "zhangsan"):  # they work the item: direct messages
        inbox = st.inbox(userid)
        assert not [r for r in inbox if r.get("chatid")], f"{userid} is not in the group"
        notices = [(text_of(r), r["at"]) for r in inbox if r["msgtype"] == "text" and not _is_reply(r)]
        assert not [t for t, n in Counter(notices).items() if n > 1], f"{userid} got a notice twice at once"
    for userid in GROUP:  # they follow in the group; directly only what they must act on (cards) and answers
        inbox = st.inbox(userid)
        assert any(r.get("chatid") for r in inbox), userid
        direct = [text_of(r) for r in inbox if not r.get("chatid") and not _is_reply(r)]
        assert all(t.startswith("[卡片]") for t in direct), (userid, direct)
    with st.rt.sessions() as s:
        assert s.scalar(select(Item.state).where(Item.code == code)) == "archived"


def test_a_step_reaches_a_group_member_in_the_group_and_a_worker_directly_once(stack: Stack) -> None:
    code = dispatched(stack, grade="重大")
    stack.say("wangwu", f"签收 {code}")
    stack.say("wangwu", f"首报 {code} 已核实，视频属实，正在约谈当事队员。")
    for follower in ("liujiu", "zhouba"):
        lines = [text_of(r) for r in stack.inbox(follower) if r.get("chatid")]
        assert any("首报" in t for t in lines), (follower, lines)
        assert not any("【首报】" in t for t in stack.texts(follower)), f"{follower} got the 首报 twice"
    for worker in ("lisi", "chenqi"):  # the supervisor and the office are told directly, once, not in a group
        assert sum("【首报】" in t for t in stack.texts(worker)) == 1, worker
        assert not any(r.get("chatid") for r in stack.inbox(worker)), worker
    assert len(_cards(stack, "wangwu", "ack-")) == 1, "the unit that must act gets its card directly"


def test_an_office_clock_that_runs_out_is_escalated_to_the_leaders_not_the_office(stack: Stack) -> None:
    stack.say("zhangsan", "上报 网传某路段违停整治引发争议 https://weibo.com/9/5551234")
    code = code_in(stack.last("zhangsan"))
    stack.later(24 * 3600)  # nobody dispatched it: the office's own 通报相关单位 clock runs out
    stack.later(10 * 60)  # and the next escalation level falls due
    assert any("已超时" in t and code in t for t in stack.texts("chenqi")), "the office is told it owes the step"
    assert not _cards(stack, "chenqi", "esc-"), "the office is not escalated to about its own clock"
    assert not _cards(stack, "hemin", "esc-")
    for leader in ("liujiu", "yangguang"):
        assert len(_cards(stack, leader, "esc-")) == 1, f"{leader}: one card per clock, not one per level"
    assert not _cards(stack, "lisi", "esc-"), "no unit owes it: no supervisor is involved"


def test_a_co_handler_is_called_协办_and_is_not_asked_for_a_first_report(stack: Stack) -> None:
    code = dispatched(stack, units="执法一队 法制处")
    [lead_card] = _cards(stack, "wangwu", "ack-")
    [co_card] = _cards(stack, "gaojing", "ack-")
    fields = {f["keyname"]: f["value"] for f in co_card["body"]["template_card"]["horizontal_content_list"]}
    assert fields.get("协办单位") == "法制处", fields
    assert "承办单位" not in fields
    lead_fields = {f["keyname"]: f["value"] for f in lead_card["body"]["template_card"]["horizontal_content_list"]}
    assert lead_fields.get("主办单位") == "执法一队", lead_fields
    click(stack, "gaojing", co_card, "签收")
    answer = stack.reply("gaojing")
    assert "协办单位" in answer
    assert "首报" not in answer, answer
    assert not _cards(stack, "gaojing", "wr-"), "only the lead unit is asked for the written report"
    stack.say("wangwu", f"签收 {code}")
    assert "首报" in stack.reply("wangwu")
    [upload] = _cards(stack, "wangwu", "wr-")
    upload_fields = {f["keyname"]: f["value"] for f in upload["body"]["template_card"]["horizontal_content_list"]}
    assert upload_fields.get("主办单位") == "执法一队", upload_fields


def test_consult_cards_close_once_answered_and_when_the_source_is_answered(stack: Stack) -> None:
    code = dispatched(stack, units="执法一队 法制处")
    stack.say("wangwu", f"书面报告 {code} 经核实，已妥善处置，拟答复如下……")
    approval = [r for r in stack.inbox("lisi") if r["msgtype"] == "template_card" and "批准" in buttons(r)]
    click(stack, "lisi", approval[-1], "批准")
    [office_card] = _cards(stack, "zhouba", "opin-")
    [unit_card] = _cards(stack, "gaojing", "opin-")
    stack.say("zhouba", f"会商意见 {code} 无意见")  # answered by text, not on the card
    assert current(stack, "zhouba", office_card)["replaced_button"].startswith("周八 无不同意见")
    assert not current(stack, "gaojing", unit_card).get("replaced_button"), "法制处 has not answered yet"
    stack.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    assert current(stack, "gaojing", unit_card)["replaced_button"].startswith("已回复来源"), "nothing left to answer"
