"""Nothing doubled, nothing stuck: unknown send outcomes, a dead consumer's lease, floods, hostile query strings."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from core import clock
from jobs.inbox import Lease, LeaseLost, renew
from models import InboxLease, OutboxMessage
from tests.integration.harness import Stack


def _helps(st: Stack, userid: str) -> int:
    return sum("舆情处置助手" in t for t in st.texts(userid))


@pytest.fixture()
def impatient(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack that gives up on WeCom's answer after half a second."""
    return make_stack(wecom_timeout=0.5)


def test_a_reply_whose_answer_was_lost_after_delivery_arrives_once(impatient: Stack) -> None:
    impatient.emu.fault("message/send", delay=1.5, when="after", times=1)  # delivered, but the answer is late
    impatient.say("zhangsan", "帮助")
    assert _helps(impatient, "zhangsan") == 1, "WeCom delivered it although Liaowang gave up waiting"
    assert impatient.outbox_states() == {"pending": 1}, "the outcome is unknown, so the row is retried"
    impatient.later(10)
    assert impatient.outbox_states() == {"sent": 1}
    assert _helps(impatient, "zhangsan") == 1, "WeCom's duplicate check dropped the retry"
    assert impatient.emu.stats()["duplicates_suppressed"] == 1


def test_a_card_whose_first_send_got_through_is_not_sent_again_after_the_duplicate_window(impatient: Stack) -> None:
    impatient.say("zhangsan", "上报 卡片首发成功但应答丢失")
    code = impatient.last("zhangsan").split("编号 ")[1].split("。")[0]
    impatient.emu.fault("message/send", delay=0.8, when="after", times=5)  # delivered, answered too late
    impatient.say("chenqi", f"交办 {code} 执法一队")  # the unit's leads get a 签收 card
    impatient.emu.clear_faults()
    impatient.emu.advance(1801)  # past WeCom's duplicate check: the retry reaches WeCom as a new request (42014)
    impatient.later(30)
    with impatient.rt.sessions() as s:
        rows = s.execute(
            select(OutboxMessage.card_task_id, OutboxMessage.sent_to, OutboxMessage.state).where(
                OutboxMessage.card_task_id.is_not(None)
            )
        ).all()
    assert rows, "交办 sends the unit's leads a card"
    for task_id, sent_to, state in rows:
        assert state == "sent", "the refusal of a second copy means the first arrived: not a failure"
        for userid in sent_to.split("|"):
            got = [r for r in impatient.inbox(userid) if r["msgtype"] == "template_card"]
            assert [r["body"]["template_card"]["task_id"] for r in got].count(task_id) == 1


def test_the_same_text_asked_twice_is_answered_twice(impatient: Stack) -> None:
    impatient.say("zhangsan", "帮助")
    impatient.say("zhangsan", "帮助")
    assert _helps(impatient, "zhangsan") == 2, "the key is per inbound message, not per text"
    assert impatient.emu.stats()["duplicates_suppressed"] == 0


def test_a_send_lost_before_it_reached_wecom_is_sent_again(impatient: Stack) -> None:
    impatient.emu.fault("message/send", delay=0.2, when="before", times=1)
    impatient.say("zhangsan", "帮助")
    assert _helps(impatient, "zhangsan") == 0
    impatient.later(10)
    assert _helps(impatient, "zhangsan") == 1


def test_a_dead_consumers_lease_blocks_only_its_person_and_only_until_it_expires(stack: Stack) -> None:
    dead = Lease("zhangsan", "killed-host:4242:1", 7)
    with stack.rt.sessions() as s, s.begin():  # what a consumer killed mid-message leaves behind
        s.add(
            InboxLease(
                userid=dead.userid, holder=dead.holder, fence=dead.fence, expires_at=clock.now() + timedelta(seconds=10)
            )
        )
    for userid in ("zhangsan", "wangwu", "chenqi", "lisi"):
        stack.emu.say(userid, "帮助")
    stack.drain()
    assert [_helps(stack, u) for u in ("wangwu", "chenqi", "lisi")] == [1, 1, 1], "nobody else waits"
    assert _helps(stack, "zhangsan") == 0
    stack.later(11)
    assert _helps(stack, "zhangsan") == 1, "the lease expired and another consumer took zhangsan over"
    with stack.rt.sessions() as s, s.begin(), pytest.raises(LeaseLost):
        renew(s, dead, clock.now())  # the old holder, were it alive, could commit nothing


def test_one_message_never_floods_its_sender(stack: Stack) -> None:
    stack.say("zhangsan", "上报 很长的描述 " + "舆情内容很长。\n" * 1500)
    stack.say("zhangsan", "查询 " + "某" * 13000)
    got = stack.texts("zhangsan")
    assert len(got) <= 2 * stack.rt.config.outbox.get("max_per_message", 3)
    assert len(got[-1]) < 200, "an unknown 编号 is not echoed back in full"
    assert max(len(t.encode()) for t in got) <= 2048


def test_a_reply_longer_than_the_cap_is_cut_with_a_pointer(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(outbox_cfg={"backoff_base": 1, "max_attempts": 5, "max_per_message": 2})
    for i in range(60):
        st.emu.say("zhangsan", f"上报 第{i}条 " + "很长的标题文字" * 20 + f" https://example.cn/{i}")
    st.drain()
    st.later(61)  # chenqi's minute budget went on the sixty notices
    before = len(st.texts("chenqi"))
    st.say("chenqi", "我的待办")
    answer = [t for t in st.texts("chenqi")[before:] if "【汇总】" not in t]
    assert len(answer) == 2, "the list is longer than two messages, and two is the cap"
    assert "内容较长" in answer[-1], "the last one says the rest was cut and where to see it"


@pytest.mark.parametrize(
    "query",
    [
        "unit=a%0d%0aSet-Cookie:%20x=1",
        "grade=%0a%0d",
        "unit=" + "x" * 5000,
        "unit=%ff%fe&grade=%00",
        "code=%0d%0aLocation:%20evil&state=lw",
    ],
)
def test_hostile_board_queries_are_never_a_server_error(stack: Stack, query: str) -> None:
    resp = requests.get(f"{stack.app_url}/h5/board?{query}", allow_redirects=False, timeout=5)
    assert resp.status_code < 500, resp.text[:200]
    assert "\n" not in resp.headers.get("Location", "")
    assert "Set-Cookie: x" not in str(resp.headers)
