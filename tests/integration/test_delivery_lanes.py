"""Batched delivery: a job sends a batch of due rows of its lane once each, and a slow WeCom call holds one sending
thread, not the delivery lane (jobs.deliver)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from core import clock
from jobs import deliver
from models import OutboxMessage
from tests.integration.harness import Stack
from workflow.engine.outbox import emit
from workflow.views import render

PEOPLE = ("zhangsan", "lisi", "wangwu", "zhaoliu")


def _emit(stack: Stack, rows: list[tuple[str, str, str]]) -> list[int]:
    """Write outbox rows (recipient, text, key) in one transaction; return their ids."""
    with stack.rt.sessions() as s, s.begin():
        out = [emit(s, [u], render.text(t), key, clock.now()) for u, t, key in rows]
        ids = [r.id for r in out if r is not None]
    return ids


def _state(stack: Stack, oid: int) -> str:
    with stack.rt.sessions() as s:
        return str(s.scalar(select(OutboxMessage.state).where(OutboxMessage.id == oid)))


def test_one_job_sends_the_batch_of_its_lane_once_each_in_order_per_person(stack: Stack) -> None:
    rows = [(u, f"批量通知{u}第{i}条", f"test:batch:{u}:{i}") for i in range(3) for u in PEOPLE]
    ids = _emit(stack, rows)
    reply = _emit(stack, [("zhangsan", "这是回复", "reply:test-batch")])[0]
    calls = stack.emu.stats()["calls"].get("message/send", 0)

    assert deliver.deliver(ids[0]) == "sent"
    assert stack.outbox_states() == {"sent": len(ids), "pending": 1}, "one job took the whole batch of notices"
    assert _state(stack, reply) == "pending", "a notice's job never takes a reply: replies have their own lane"
    assert [deliver.deliver(i) for i in ids[1:]] == ["skip"] * (len(ids) - 1), "their own jobs find them sent"

    stack.drain()
    assert stack.outbox_states() == {"sent": len(ids) + 1}
    assert stack.emu.stats()["calls"]["message/send"] - calls == len(ids) + 1, "each row sent once"
    assert stack.emu.stats()["duplicates_suppressed"] == 0
    for u in PEOPLE:
        got = [t for t in stack.texts(u) if "批量通知" in t]
        assert got == [f"批量通知{u}第{i}条" for i in range(3)], "one person's messages arrive in the order written"
    assert stack.texts("zhangsan")[-1] == "这是回复"


def test_a_failed_send_in_a_batch_is_retried_alone_and_the_others_are_sent_once(stack: Stack) -> None:
    stack.emu.fault("message/send", errcode=-1, times=1)
    ids = _emit(stack, [(u, f"部分失败{u}", f"test:partial:{u}") for u in PEOPLE])
    stack.drain()
    assert stack.outbox_states() == {"sent": len(ids) - 1, "pending": 1}
    stack.later(5)
    assert stack.outbox_states() == {"sent": len(ids)}
    for u in PEOPLE:
        assert [t for t in stack.texts(u) if "部分失败" in t] == [f"部分失败{u}"], "everyone gets it exactly once"


@pytest.fixture
def lanes(make_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """A stack whose deliveries run as in a worker process: a job waits at most 0.3 s for its sends."""
    st: Stack = make_stack(outbox_cfg={"backoff_base": 1, "max_attempts": 5, "lane_wait": 0.3})
    monkeypatch.setattr(deliver, "_lane_wait", None)  # put back after the test
    deliver.start_lanes(st.rt)
    return st


def test_a_slow_wecom_call_does_not_delay_another_persons_reply(lanes: Stack) -> None:
    st = lanes
    st.say("zhangsan", "帮助")
    st.say("wangwu", "帮助")
    before = st.emu.cursor()
    st.emu.fault("message/send", delay=4.0, when="after", times=1)  # answered 4 s late (within the 5 s timeout)
    st.say("zhangsan", "我的待办")
    slow = max(r.id for r in _rows(st, "reply:"))
    assert _state(st, slow) == "sending", "the slow call is still waiting for WeCom's answer"

    st.say("wangwu", "我的待办")
    assert _state(st, slow) == "sending", "wangwu's reply went out while zhangsan's call was still open"
    assert any(r["userid"] == "wangwu" for r in st.emu.inbox(since=before))

    deadline = time.monotonic() + 15
    while _state(st, slow) != "sent" and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the slow answer to be settled by its sending thread
    assert _state(st, slow) == "sent"
    st.drain()
    assert st.outbox_states() == {"sent": 4}
    assert st.emu.stats()["duplicates_suppressed"] == 0, "the slow call was not sent again"
    assert sum(r["userid"] == "zhangsan" for r in st.emu.inbox(since=before)) == 1


def _rows(st: Stack, prefix: str) -> list[OutboxMessage]:
    with st.rt.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.idem_key.like(prefix + "%"))))


@pytest.fixture
def one_thread(make_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """As in a worker process, with one sending thread per lane (fresh pools, put back after the test)."""
    st: Stack = make_stack(outbox_cfg={"backoff_base": 1, "max_attempts": 5, "lane_wait": 0.3, "send_threads": 1})
    monkeypatch.setattr(deliver, "_lane_wait", None)
    monkeypatch.setattr(deliver, "_pools", {})
    deliver.start_lanes(st.rt)
    return st


def test_slow_notices_fill_their_own_lane_never_the_replies_and_wait_without_holding_the_worker(
    one_thread: Stack,
) -> None:
    st = one_thread
    before = st.emu.cursor()
    st.emu.fault("message/send", delay=4.0, when="after", times=1)  # the first notice is answered 4 s late
    slow = _emit(st, [("lisi", "慢的通知", "test:slow-notice")])[0]
    st.drain()
    assert _state(st, slow) == "sending", "its call holds the one notice thread"
    queued = _emit(st, [("wangwu", "排队的通知", "test:queued-notice")])[0]
    st.drain()  # its job finds no free notice thread: the row goes back for a moment, the job ends at once
    assert _state(st, queued) == "pending"
    reply = _emit(st, [("zhaoliu", "不受影响的回复", "reply:test-unaffected")])[0]
    st.drain()
    assert _state(st, reply) == "sent", "the reply lane has its own thread"
    assert _state(st, slow) == "sending", "while the slow notice is still waiting for WeCom"

    deadline = time.monotonic() + 15
    while _state(st, slow) != "sent" and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the slow answer to be settled by its sending thread
    st.later(2)  # the notice put back is due again
    assert st.outbox_states() == {"sent": 3}
    got = {u: [r for r in st.emu.inbox(since=before) if r["userid"] == u] for u in ("lisi", "wangwu", "zhaoliu")}
    assert {u: len(v) for u, v in got.items()} == {"lisi": 1, "wangwu": 1, "zhaoliu": 1}, "each exactly once"
    assert st.emu.stats()["duplicates_suppressed"] == 0


def test_a_call_refused_for_its_token_does_not_make_others_wait_for_the_new_one(lanes: Stack) -> None:
    st = lanes
    st.say("zhangsan", "帮助")
    st.say("wangwu", "帮助")
    before, tokens = st.emu.cursor(), st.emu.stats()["gettoken"]
    st.emu.fault("message/send", errcode=42001, times=1)  # zhangsan's next reply is refused for its token …
    st.emu.fault("gettoken", delay=3.0, when="after", times=1)  # … and the new token is 3 s in coming
    st.say("zhangsan", "我的待办")
    waiting = max(r.id for r in _rows(st, "reply:"))
    assert _state(st, waiting) == "sending", "zhangsan's call waits for the new token"

    st.say("wangwu", "我的待办")
    assert _state(st, waiting) == "sending"
    assert any(r["userid"] == "wangwu" for r in st.emu.inbox(since=before)), "wangwu's reply went out meanwhile"

    deadline = time.monotonic() + 15
    while _state(st, waiting) != "sent" and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the new token and the call made with it
    assert _state(st, waiting) == "sent"
    assert st.emu.stats()["gettoken"] - tokens == 1, "one new token, fetched once"
    assert sum(r["userid"] == "zhangsan" for r in st.emu.inbox(since=before)) == 1
