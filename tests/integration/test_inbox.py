"""The durable inbox: a stored callback is never lost, is handled in order; a crash is retried, then reported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from handlers.context import Ctx
from handlers.registry import COMMANDS, command
from models import ProcessedCallback
from tests.integration.harness import Stack


@pytest.fixture()
def crashing_command() -> Iterator[None]:
    """Register a command whose handler always fails (a stand-in for a bug or an outage)."""

    @command("崩溃测试")
    def crash(_ctx: Ctx) -> str:
        raise RuntimeError("simulated failure")

    yield
    COMMANDS.pop("崩溃测试", None)


def _rows(stack: Stack) -> list[ProcessedCallback]:
    with stack.rt.sessions() as s:
        return list(s.scalars(select(ProcessedCallback).order_by(ProcessedCallback.id)))


def test_the_callback_answers_before_handling_and_nothing_is_lost(stack: Stack) -> None:
    out = stack.emu.say("zhangsan", "上报 先存后办")
    assert out["statuses"] == [200]
    (row,) = _rows(stack)
    assert row.state == "pending"
    assert stack.inbox("zhangsan") == []
    stack.rt.redis.flushall()  # even losing Redis entirely loses nothing: the row is in the database
    stack.drain()
    assert _rows(stack)[0].state == "done"
    assert "已收到您的上报" in stack.last("zhangsan")


def test_messages_are_handled_in_the_order_they_arrived(stack: Stack) -> None:
    for text in ("上报", "先发的描述", "1", "2", "提交"):
        stack.emu.say("zhangsan", text)
    stack.drain()
    replies = stack.texts("zhangsan")
    assert "开始上报舆情" in replies[0]
    assert "来源是哪里" in replies[1]
    assert "建议等级" in replies[2]
    assert "截图" in replies[3]
    assert "已收到您的上报" in replies[4]


def test_a_failing_handler_is_retried_then_the_person_is_told(stack: Stack, crashing_command: None) -> None:
    stack.say("zhangsan", "崩溃测试")
    stack.say("zhangsan", "帮助")
    assert stack.inbox("zhangsan") == [], "a later message waits behind the failed one"
    (first, second) = _rows(stack)
    assert first.state == "pending"
    assert first.attempts == 1
    assert "simulated failure" in str(first.error)
    for _ in range(5):
        stack.later(40)
    rows = _rows(stack)
    assert [r.state for r in rows] == ["failed", "done"]
    texts = stack.texts("zhangsan")
    assert "处理您的消息时出错" in texts[0]
    assert "瞭望 · 舆情处置助手" in texts[1]
