"""Each step starts its clocks once: the report's 通报相关单位 and the dispatch's unit clocks are one row each, and the
history people read says so once (the engine's apply and the report's own start must not both start them)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from models import AuditEvent, Item
from models.clock import Clock
from tests.integration.flowkit import dispatched
from tests.integration.harness import Stack


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack on a frozen clock."""
    return make_stack()


def test_reporting_and_dispatching_start_each_clock_once(st: Stack) -> None:
    code = dispatched(st)
    with st.rt.sessions() as s:
        item = s.scalar(select(Item).where(Item.code == code))
        assert item is not None
        kinds = Counter(s.scalars(select(Clock.kind).where(Clock.item_id == item.id)))
        starts = Counter(
            (e.detail or {}).get("kind")
            for e in s.scalars(select(AuditEvent).where(AuditEvent.item_id == item.id))
            if e.action == "clock_start"
        )
    assert kinds, "the report and the dispatch start clocks"
    assert max(kinds.values()) == 1, kinds
    assert starts == kinds, (starts, kinds)
    st.say("chenqi", f"查询 {code}")
    history = st.last("chenqi")
    assert history.count("通报相关单位开始计时") <= 1, history
