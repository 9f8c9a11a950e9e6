"""The whole loop through the emulator: report → dispatch → card → 签收 → card updated → notices."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEvent, Item
from tests.integration.harness import Stack


def _code(text: str) -> str:
    m = re.search(r"YQ-\d{8}-\d{3}", text)
    assert m, text
    return m.group(0)


def test_report_dispatch_acknowledge_by_card(stack: Stack) -> None:
    stack.say("zhangsan", "上报 微博出现执法一队执法视频，评论较多 https://weibo.com/123/AbCd?utm_source=x")
    reply = stack.last("zhangsan")
    code = _code(reply)
    assert "已收到您的上报" in reply
    assert code in stack.last("chenqi")
    assert "交办" in stack.last("chenqi")

    stack.say("chenqi", f"交办 {code} 执法一队 较大")
    assert "已交办" in stack.last("chenqi")
    card_rec = stack.inbox("wangwu")[-1]
    assert card_rec["msgtype"] == "template_card"
    card = card_rec["body"]["template_card"]
    assert card["card_type"] == "button_interaction"
    assert card["button_list"][0]["text"] == "签收"
    assert "较大" in card["main_title"]["title"]
    assert "抄送" in stack.last("zhouba")
    assert code in stack.last("zhouba")

    stack.emu.card_click("wangwu", card["task_id"], card["button_list"][0]["key"])
    stack.drain()
    assert "已签收" in stack.reply("wangwu")
    updated = next(r for r in stack.inbox("wangwu") if r["task_id"] == card["task_id"])
    assert updated.get("replaced_button", "").startswith("王五 已签收")
    assert "王五" in stack.last("chenqi")
    assert "签收" in stack.last("chenqi")
    assert "已由执法一队签收" in stack.last("zhangsan")
    with stack.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        assert item.state == "acknowledged"
        assert item.grade == "significant"
        actions = [
            a
            for a in s.scalars(select(AuditEvent.action).where(AuditEvent.item_id == item.id))
            if not a.startswith("clock_")
        ]
        assert actions == ["report", "dispatch", "acknowledge"]


def test_acknowledge_by_text_updates_the_card_too(stack: Stack) -> None:
    stack.say("wuyi", "上报 城东区有人反映噪音扰民")
    code = _code(stack.last("wuyi"))
    stack.say("chenqi", f"交办 {code} 城东区局")
    stack.say("sunshi", f"签收 {code}")
    assert "已签收" in stack.reply("sunshi")
    card = next(r for r in stack.inbox("sunshi") if (r["task_id"] or "").startswith("ack-"))
    assert card.get("replaced_button", "").startswith("孙十 已签收")
    stack.say("sunshi", f"签收 {code}")
    assert "无需重复签收" in stack.last("sunshi")


def test_todo_and_query(stack: Stack) -> None:
    stack.say("zhangsan", "上报 有人转发不实消息")
    code = _code(stack.last("zhangsan"))
    stack.say("chenqi", "我的待办")
    assert "待交办" in stack.last("chenqi")
    assert code in stack.last("chenqi")
    stack.say("chenqi", f"交办 {code} team1")
    stack.say("wangwu", "我的待办")
    assert f"签收 {code}" in stack.last("wangwu")
    stack.say("zhangsan", f"查询 {code}")
    history = stack.last("zhangsan")
    assert "已交办，待签收" in history
    assert "定级交办" in history
    assert "执法一队（主办，未签收）" in history
    stack.say("sunshi", f"查询 {code}")
    assert "无权查看" in stack.last("sunshi")
