"""Outbox delivery: retries after WeCom faults deliver each message exactly once; the token is shared."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from jobs.queueing import enqueue_deliveries, queues
from jobs.sweep import sweep
from models import OutboxMessage
from models.state import OutboxState
from tests.integration.harness import Stack


def _help_count(stack: Stack, userid: str) -> int:
    return sum("瞭望 · 舆情处置助手" in t for t in stack.texts(userid))


def test_frequency_limit_then_success_delivers_once(stack: Stack) -> None:
    stack.emu.fault("message/send", errcode=45009, times=2)
    stack.say("zhangsan", "帮助")
    assert _help_count(stack, "zhangsan") == 0
    assert stack.outbox_states() == {"pending": 1}
    stack.later(1.1)
    assert _help_count(stack, "zhangsan") == 0
    stack.later(2.1)
    assert _help_count(stack, "zhangsan") == 1
    stack.later(60)
    assert _help_count(stack, "zhangsan") == 1
    assert stack.outbox_states() == {"sent": 1}


def test_system_busy_and_http_5xx_are_retried(stack: Stack) -> None:
    stack.emu.fault("message/send", errcode=-1, times=1)
    stack.emu.fault("message/send", http_status=502, times=1)
    stack.say("zhangsan", "帮助")
    for _ in range(4):
        stack.later(5)
    assert _help_count(stack, "zhangsan") == 1
    assert stack.outbox_states() == {"sent": 1}


def test_expired_token_is_refreshed_once_and_shared(stack: Stack) -> None:
    stack.say("zhangsan", "帮助")
    gettoken_before = stack.emu.stats()["gettoken"]
    assert gettoken_before == 1
    stack.say("zhangsan", "帮助")
    assert stack.emu.stats()["gettoken"] == 1, "the cached token in Redis is reused"
    stack.emu.expire_tokens()
    stack.say("zhangsan", "帮助")
    assert stack.emu.stats()["gettoken"] == 2
    assert _help_count(stack, "zhangsan") == 3


def test_a_token_that_keeps_failing_stops_after_one_refresh(stack: Stack) -> None:
    stack.emu.fault("message/send", errcode=42001, times=100)
    stack.say("zhangsan", "帮助")
    calls = stack.emu.stats()["calls"].get("message/send", 0)
    assert calls == 2, "one call, one refresh, one retry — never an endless loop"
    assert stack.outbox_states() == {"pending": 1}


def test_a_proxy_page_answered_with_200_is_retried_like_an_outage(stack: Stack) -> None:
    stack.emu.fault("message/send", page="<html><body>502 Bad Gateway</body></html>", times=2)
    stack.say("zhangsan", "帮助")
    assert _help_count(stack, "zhangsan") == 0
    assert stack.outbox_states() == {"pending": 1}, "not JSON: the outcome is unknown, so it is retried"
    for _ in range(3):
        stack.later(5)
    assert _help_count(stack, "zhangsan") == 1
    assert stack.outbox_states() == {"sent": 1}


@pytest.mark.parametrize("errcode", [40058, 50001])  # a bad parameter; a redirect URL outside the trusted domain
def test_an_unrecoverable_error_is_not_retried(stack: Stack, errcode: int) -> None:
    stack.emu.fault("message/send", errcode=errcode, times=1)
    stack.say("zhangsan", "帮助")
    stack.later(30)
    assert _help_count(stack, "zhangsan") == 0
    assert stack.outbox_states() == {"failed": 1}


def test_lost_jobs_are_recovered_by_the_sweep_after_a_redis_flush(stack: Stack) -> None:
    stack.say("zhangsan", "上报 Redis 被清空也不丢消息")
    stack.rt.redis.flushall()
    stack.emu.fault("message/send", errcode=45009, times=1)
    stack.say("zhangsan", "帮助")
    stack.rt.redis.flushall()
    assert "pending" in stack.outbox_states()
    stack.later(10)
    assert stack.outbox_states().keys() == {"sent"}
    assert _help_count(stack, "zhangsan") == 1


def test_every_message_type_is_delivered_as_written(stack: Stack) -> None:
    from core import clock
    from workflow.engine.outbox import emit

    bodies = [
        {"msgtype": "text", "text": {"content": "文本"}},
        {"msgtype": "markdown", "markdown": {"content": "**加粗**"}},
        {"msgtype": "textcard", "textcard": {"title": "标题", "description": "说明", "url": "https://x.cn/a"}},
        {
            "msgtype": "template_card",
            "template_card": {
                "card_type": "text_notice",
                "main_title": {"title": "通知"},
                "card_action": {"type": 1, "url": "https://x.cn"},
            },
        },
    ]
    with stack.rt.sessions() as s, s.begin():
        for i, body in enumerate(bodies):
            emit(s, ["zhangsan", "wangwu"], body, f"kind-test-{i}", clock.now())
    stack.drain()
    got = stack.inbox("wangwu")
    assert [r["msgtype"] for r in got] == ["text", "markdown", "textcard", "template_card"]
    assert got[2]["body"]["textcard"]["title"] == "标题"
    assert len(stack.inbox("zhangsan")) == 4
    assert stack.outbox_states() == {"sent": 4}


def test_the_sweep_adds_no_job_for_rows_a_waiting_batch_job_already_covers(stack: Stack) -> None:
    stack.emu.fault("message/send", errcode=45009, times=2)  # both sends fail once: the rows wait for a retry
    stack.say("zhangsan", "上报 一批出箱消息在等同一个任务")
    stack.rt.redis.flushall()  # the retries are lost with Redis
    with stack.rt.sessions() as s:
        ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.state == OutboxState.pending)))
    assert len(ids) >= 2, ids
    enqueue_deliveries(stack.rt.queue, ids)  # one job for the whole batch, waiting for a worker
    clock.advance(timedelta(minutes=5))
    sweep(grace_seconds=0)
    waiting = [j for q in queues(stack.rt.queue) for j in q.job_ids]
    assert waiting == [f"deliver-{ids[0]}-and-{len(ids) - 1}"], "no job added for rows the batch job covers"
    stack.drain()
    assert stack.outbox_states().keys() == {"sent"}
    replies = [r for r in stack.inbox("zhangsan") if str(r["body"].get("idem_key", "")).startswith("reply:")]
    assert len(replies) == 1, "the reporter's answer arrives once"
