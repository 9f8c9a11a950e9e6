"""The per-person send budget: notices beyond it are merged into one digest, replies wait; WeCom drops nothing."""

from __future__ import annotations

import re

import pytest

from tests.integration.harness import Stack


def test_a_reply_gets_through_while_notices_fill_the_budget(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra={"policy": {"per_minute_budget": 4}})
    for i in range(12):
        st.emu.say("zhangsan", f"上报 第{i + 1}条")
    st.drain()
    assert len(st.texts("chenqi")) == 3, "notices use three of the four"
    st.say("chenqi", "帮助")
    assert "舆情处置助手" in st.reply("chenqi"), "the fourth is the office's own answer, at once"


@pytest.fixture()
def tight(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack whose per-person budget is 3 messages a minute, on a clock that only the test moves."""
    return make_stack(extra={"policy": {"per_minute_budget": 3}})


TOPICS = (
    "人民路菜市场停车乱收费",
    "锦绣花园小区电梯困人",
    "城东中学食堂饭菜变质",
    "高速收费站排长队两小时",
    "河道发现大量死鱼",
    "公交车司机与乘客冲突",
    "医院挂号系统瘫痪一上午",
)


def test_notices_over_the_budget_become_one_digest(tight: Stack) -> None:
    for i, what in enumerate(TOPICS):  # seven different events (alike ones would add 同一事件 suggestions)
        tight.emu.say("zhangsan", f"上报 第{i + 1}条 {what}")
    tight.drain()
    office = tight.texts("chenqi")
    assert len(office) == 2, "notices may use two of the three: one is kept for replies"
    assert all("新舆情待交办" in t for t in office)
    assert len(tight.texts("zhangsan")) == 3, "replies count against the budget too: the rest wait, unmerged"
    tight.later(62)
    assert len(tight.texts("zhangsan")) == 6
    office = tight.texts("chenqi")
    assert len(office) == 3
    digest = office[-1]
    assert "【汇总】" in digest
    assert "以下 5 条合并发送" in digest
    assert f"第7条 {TOPICS[6]}"[:20] in digest
    assert tight.emu.stats()["dropped_total"] == 0
    tight.later(120)
    assert len(tight.texts("chenqi")) == 3, "each held message is in exactly one digest"
    replies = tight.texts("zhangsan")
    assert len(replies) == 7, "every reply arrives, in full, once"
    assert len({re.search(r"YQ-\d{8}-\d{3}", r).group(0) for r in replies}) == 7  # type: ignore[union-attr]
    assert tight.outbox_states().get("held") == 5


def test_the_budget_survives_redis_losing_its_data(tight: Stack) -> None:
    for i in range(2):
        tight.emu.say("zhangsan", f"上报 第{i + 1}条")
    tight.drain()
    assert len(tight.texts("chenqi")) == 2, "the office's notice share of the minute is used up"
    tight.rt.redis.flushall()  # Redis restarted without its data, or flushed
    tight.say("zhangsan", "上报 第3条")
    assert len(tight.texts("chenqi")) == 2, "the last minute's sends were rebuilt from the database"
    tight.later(62)
    assert "【汇总】" in tight.last("chenqi")


def test_the_hourly_budget_holds_notices_too(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra={"policy": {"per_minute_budget": 20, "per_hour_budget": 5}})
    for i in range(7):
        st.say("zhangsan", f"上报 第{i + 1}条需要关注")
        st.later(61)  # a minute apart: only the hour fills up
    office = st.texts("chenqi")
    assert len(office) == 5, "five notices in the hour; the rest are held"
    st.later(3600)
    digests = [t for t in st.texts("chenqi") if "【汇总】" in t]
    assert digests, "the held notices come as digests once the hour has room"
    assert "第6条需要关注" in "".join(digests)
    assert "第7条需要关注" in "".join(digests)
    assert st.emu.stats()["dropped_total"] == 0, "WeCom dropped nothing"
