"""The item state machine (SPEC §7), declared once; illegal transitions raise."""

from __future__ import annotations

from enum import StrEnum


class ItemState(StrEnum):
    """Lifecycle states of an item."""

    reported = "reported"
    dispatched = "dispatched"
    acknowledged = "acknowledged"
    first_reported = "first_reported"
    written_reported = "written_reported"
    returned = "returned"
    approved = "approved"
    replied = "replied"
    closed = "closed"
    follow_up = "follow_up"
    evaluated = "evaluated"
    archived = "archived"


STATE_NAMES = {
    ItemState.reported: "已上报，待定级交办",
    ItemState.dispatched: "已交办，待签收",
    ItemState.acknowledged: "已签收，待首报",
    ItemState.first_reported: "已首报，待书面报告",
    ItemState.written_reported: "书面报告待审核",
    ItemState.returned: "已退回修改",
    ItemState.approved: "已审核，待会商回复",
    ItemState.replied: "已回复来源",
    ItemState.closed: "已办结",
    ItemState.follow_up: "善后观察中",
    ItemState.evaluated: "已总结评估",
    ItemState.archived: "已立卷归档",
}

S = ItemState
TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    S.reported: frozenset({S.dispatched}),
    S.dispatched: frozenset({S.acknowledged}),
    S.acknowledged: frozenset({S.first_reported, S.written_reported}),
    S.first_reported: frozenset({S.written_reported}),
    S.written_reported: frozenset({S.approved, S.returned}),
    S.returned: frozenset({S.written_reported}),
    S.approved: frozenset({S.replied}),
    S.replied: frozenset({S.closed}),
    S.closed: frozenset({S.follow_up, S.evaluated}),
    S.follow_up: frozenset({S.evaluated, S.acknowledged}),
    S.evaluated: frozenset({S.archived}),
    S.archived: frozenset(),
}


class IllegalTransition(Exception):
    """Raised when a state change is not in TRANSITIONS."""

    def __init__(self, current: ItemState, target: ItemState) -> None:
        super().__init__(f"illegal transition {current} -> {target}")
        self.current, self.target = current, target


def check_transition(current: ItemState | str, target: ItemState | str) -> ItemState:
    """Return target as an ItemState if current → target is allowed, else raise IllegalTransition."""
    cur, tgt = ItemState(current), ItemState(target)
    if tgt not in TRANSITIONS[cur]:
        raise IllegalTransition(cur, tgt)
    return tgt
