"""交办 and 签收 refusals: wrong person, wrong item, wrong unit — a Chinese sentence and no change."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from models import AuditEvent, Card, Item, ItemUnit
from tests.integration.flowkit import dispatched
from tests.integration.harness import Stack


def _report(stack: Stack) -> str:
    stack.say("zhangsan", "上报 测试交办")
    return stack.last("zhangsan").split("编号 ")[1].split("。")[0]


def _snapshot(stack: Stack) -> tuple[int, int, int, str]:
    with stack.rt.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(ItemUnit)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            s.scalar(select(func.count()).select_from(Card)) or 0,
            s.scalar(select(Item.state)) or "",
        )


def test_only_the_office_may_dispatch(stack: Stack) -> None:
    code = _report(stack)
    before = _snapshot(stack)
    stack.say("zhangsan", f"交办 {code} 执法一队")
    assert "只有领导小组办公室可以定级交办" in stack.last("zhangsan")
    assert _snapshot(stack) == before


def test_bad_dispatch_commands_are_refused_without_change(stack: Stack) -> None:
    code = _report(stack)
    before = _snapshot(stack)
    cases = [
        (f"交办 {code}", "交办格式"),
        (f"交办 {code} 不存在的单位", "找不到单位“不存在的单位”"),
        ("交办 YQ-20000101-999 执法一队", "没有找到编号"),
        (f"交办 {code} 执法一队 执法一队", "同一个单位写了两次"),
        (f"交办 {code} 局办公室", "还没有配置单位负责人"),
    ]
    for text, words in cases:
        stack.say("chenqi", text)
        assert words in stack.last("chenqi"), text
    assert _snapshot(stack) == before


def test_dispatch_twice_is_refused(stack: Stack) -> None:
    code = _report(stack)
    stack.say("chenqi", f"交办 {code} 执法一队")
    before = _snapshot(stack)
    stack.say("chenqi", f"交办 {code} 城东区局 重大")
    assert "已经交办过了" in stack.last("chenqi")
    assert _snapshot(stack) == before


def test_co_handling_units_get_cards_and_lead_acknowledgement_moves_the_item(stack: Stack) -> None:
    code = _report(stack)
    stack.say("chenqi", f"交办 {code} 执法一队，城东区局 重大")
    assert "执法一队（主办）、城东区局（协办）" in stack.last("chenqi")
    assert [r for r in stack.inbox("sunshi") if not r.get("chatid")][-1]["msgtype"] == "template_card"
    assert any(r.get("chatid") for r in stack.inbox("liujiu")), "a major item opens its group (一事一群)"
    assert not any(r.get("chatid") for r in stack.inbox("sunshi")), "a unit that must act is told directly"
    stack.say("sunshi", f"签收 {code}")
    with stack.rt.sessions() as s:
        assert s.scalar(select(Item.state)) == "dispatched"
    stack.say("wangwu", f"签收 {code}")
    with stack.rt.sessions() as s:
        assert s.scalar(select(Item.state)) == "acknowledged"


def test_only_the_units_leads_may_acknowledge(stack: Stack) -> None:
    code = _report(stack)
    stack.say("chenqi", f"交办 {code} 执法一队")
    card = stack.inbox("wangwu")[-1]["body"]["template_card"]
    before = _snapshot(stack)
    stack.say("zhangsan", f"签收 {code}")
    assert "只有承办单位负责人可以签收" in stack.last("zhangsan")
    stack.say("sunshi", f"签收 {code}")
    assert "只有承办单位负责人可以签收" in stack.last("sunshi")
    stack.say("wangwu", "签收 YQ-19990101-001")
    assert "没有找到编号" in stack.last("wangwu")
    assert _snapshot(stack) == before
    assert not stack.inbox("wangwu")[0].get("replaced_button")
    assert card["task_id"]


def test_acknowledging_before_dispatch_is_refused(stack: Stack) -> None:
    code = _report(stack)
    stack.say("wangwu", f"签收 {code}")
    assert "还没有交办" in stack.last("wangwu")


def test_a_grade_set_before_dispatch_is_kept_when_the_dispatch_names_none(stack: Stack) -> None:
    code = _report(stack)
    stack.say("chenqi", f"定级 {code} 重大")
    stack.say("chenqi", f"交办 {code} 执法一队")
    with stack.rt.sessions() as s:
        assert s.scalar(select(Item.grade)) == "major"


def test_lead_co_handling_and_copy_are_named_one_way_and_a_county_can_co_handle(stack: Stack) -> None:
    stack.say("wuyi", "上报 两个县区交界处的噪音投诉")
    code = re.search(r"YQ-\d{8}-\d{3}", stack.reply("wuyi")).group(0)  # type: ignore[union-attr]
    stack.say("chenqi", f"交办 {code} 城东区局 西山县局 法制处")
    confirmation = stack.reply("chenqi")
    assert "城东区局（主办）" in confirmation
    assert "西山县局（协办）" in confirmation, "another county bureau co-handles"
    assert "法制处（抄送）" in confirmation, "a department after a county lead is the copied business department"
    assert any(r["msgtype"] == "template_card" and "签收" in str(r["body"]) for r in stack.inbox("zhengqiang"))
    copy = [t for t in stack.texts("gaojing") if "【抄送】" in t]
    assert copy
    assert "业务处室" in copy[-1]
    stack.say("chenqi", f"查询 {code}")
    status = stack.reply("chenqi")
    for words in ("城东区局（主办", "西山县局（协办", "法制处（抄送"):
        assert words in status, (words, status)


def test_a_group_refused_by_wecom_is_given_up_once_and_the_office_told_how_to_fix_it(stack: Stack) -> None:
    stack.emu.config(visibility_root=False)  # the app's 可见范围 is not the whole corp
    code = dispatched(stack, units="执法一队", grade="重大")
    notices = [t for t in stack.texts("chenqi") if "一事一群未建立" in t]
    assert len(notices) == 1
    assert "可见范围" in notices[0]
    assert not any(r.get("chatid") for r in stack.inbox("wangwu")), "no group"
    calls = stack.emu.stats()["calls"]
    stack.say("wangwu", f"签收 {code}")
    stack.later(600)
    after = stack.emu.stats()["calls"]
    assert after.get("appchat/create", 0) == calls.get("appchat/create", 0) == 1, "never retried"
    assert after.get("appchat/send", 0) == 0, "no group message is tried"
    assert "签收" in stack.last("wangwu") or any("签收" in t for t in stack.texts("chenqi")), "the item goes on"
