"""The item state machine (SPEC §7), declared once; illegal transitions raise."""

from __future__ import annotations

from dataclasses import dataclass
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
    merged = "merged"  # merged into the earlier item of the same event: a read-only pointer to it


@dataclass(frozen=True)
class Next:
    """The next step of the procedure from a state, declared once: what it is, who owes it (a relation named in
    models/procedure.py), what to send for it ({code}), and how the board says it ({who}: the people who owe it)."""

    step: str
    who: str
    command: str = ""
    board: str = "待{step}：{who}"

    def on_board(self, who: str) -> str:
        """Return the board's phrase for this step owed by who."""
        return self.board.format(step=self.step, who=who)

    def todo(self, code: str) -> str:
        """Return the to-do line's phrase for this step on item code ("待办结（办结 YQ-…）")."""
        return f"待{self.step}（{self.command.format(code=code)}）"


NEXT_STEP: dict[ItemState, Next] = {
    ItemState.reported: Next("定级交办", "office", "交办 {code} <单位>"),
    ItemState.dispatched: Next("签收", "lead_unit", "签收 {code}"),
    ItemState.acknowledged: Next("首报", "lead_unit", "首报 {code} 内容"),
    ItemState.first_reported: Next("书面报告", "lead_unit", "书面报告 {code}"),
    ItemState.written_reported: Next("审核", "decider", "批准 {code}"),
    ItemState.returned: Next("修改后重新报送", "lead_unit", "书面报告 {code}", board="退回修改中：{who}"),
    ItemState.approved: Next("回复来源", "office", "回复来源 {code} 答复内容"),
    ItemState.replied: Next("办结", "office", "办结 {code}"),
    ItemState.closed: Next("总结评估", "office", "总结评估 {code} 内容"),
    ItemState.follow_up: Next("回报态势", "lead_unit", "反弹 {code} 情况", board="善后观察：{who}{step}"),
}  # evaluated → 立卷归档 is the office's last step; archived has none
STATE_NAMES = {
    ItemState.reported: f"已上报，待{NEXT_STEP[ItemState.reported].step}",
    ItemState.dispatched: f"已交办，待{NEXT_STEP[ItemState.dispatched].step}",
    ItemState.acknowledged: f"已签收，待{NEXT_STEP[ItemState.acknowledged].step}",
    ItemState.first_reported: f"已首报，待{NEXT_STEP[ItemState.first_reported].step}",
    ItemState.written_reported: f"书面报告待{NEXT_STEP[ItemState.written_reported].step}",
    ItemState.returned: "已退回修改",
    ItemState.approved: "已审核，待会商回复",
    ItemState.replied: "已回复来源",
    ItemState.closed: "已办结",
    ItemState.follow_up: "善后观察中",
    ItemState.evaluated: "已总结评估",
    ItemState.archived: "已立卷归档",
    ItemState.merged: "已并入同一事件的另一条目",
}

S = ItemState
TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    S.reported: frozenset({S.dispatched, S.merged}),
    S.dispatched: frozenset({S.acknowledged, S.merged}),
    S.acknowledged: frozenset({S.first_reported, S.written_reported, S.merged}),
    S.first_reported: frozenset({S.written_reported, S.merged}),
    S.written_reported: frozenset({S.approved, S.returned, S.merged}),
    S.returned: frozenset({S.written_reported, S.merged}),
    S.approved: frozenset({S.replied, S.merged}),
    S.replied: frozenset({S.closed, S.merged}),
    S.closed: frozenset({S.follow_up, S.evaluated}),
    S.follow_up: frozenset({S.evaluated, S.acknowledged}),
    S.evaluated: frozenset({S.archived}),
    S.archived: frozenset(),
    S.merged: frozenset(),
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


class ClockState(StrEnum):
    """A clock (时限): running, overdue and still owed, met in time, met after its due, or waived by the office."""

    open = "open"
    missed = "missed"
    met = "met"
    met_late = "met_late"
    waived = "waived"


OPEN_CLOCK_STATES = (ClockState.open, ClockState.missed)  # still owed: reminders and escalations may fire
CLOCK_STATE_NAMES = {
    ClockState.open: "进行中",
    ClockState.missed: "已超时",
    ClockState.met: "已按时完成",
    ClockState.met_late: "超时后完成",
    ClockState.waived: "已免除",
}


class CardState(StrEnum):
    """An interactive card: its buttons still work (open), or it was answered or overtaken (done)."""

    open = "open"
    done = "done"


class CardPurpose(StrEnum):
    """What an interactive card asks of its recipients; models/procedure.py CARDS declares who sends and closes each."""

    reminder = "reminder"
    escalation = "escalation"
    ack = "ack"
    approval = "approval"
    upload = "upload"
    opinion = "opinion"
    watch = "watch"
    statement = "statement"
    statement_confirm = "statement_confirm"
    brief = "brief"
    dispute = "dispute"
    extension = "extension"
    todo = "todo"
    pick = "pick"
    same_event = "same_event"


class Subject(StrEnum):
    """What a card is about (its subject kind; the card row holds the id): cards are found by subject, never by task id.

    item: the item itself; unit: the unit's part in the item (the card's unit_id); person: the person it was sent to
    (我的待办); the others name their own rows.
    """

    item = "item"
    unit = "unit"
    clock = "clock"
    submission = "submission"
    statement = "statement"
    brief = "brief"
    dispute = "dispute"
    extension = "extension"
    watch = "watch"
    person = "person"
    suggestion = "suggestion"


class SubmissionState(StrEnum):
    """A written report (书面报告) version on its way through 审核 (and 审定 for major items)."""

    pending = "pending"
    reviewed = "reviewed"
    approved = "approved"
    returned = "returned"
    superseded = "superseded"
    contribution = "contribution"


AWAITING = (SubmissionState.pending, SubmissionState.reviewed)  # a decision is owed: 审核, or 审定 for major items
SUBMISSION_STATE_NAMES = {
    SubmissionState.pending: "待审核",
    SubmissionState.reviewed: "已审核，待领导小组审定",
    SubmissionState.approved: "已批准",
    SubmissionState.returned: "已退回修改",
    SubmissionState.superseded: "已被新版本取代",
    SubmissionState.contribution: "协办材料",
}


class WatchState(StrEnum):
    """The 善后 watch after closing: watching, ended calm, or ended by a rebound."""

    watching = "watching"
    ended = "ended"
    rebound = "rebound"


class ExtensionState(StrEnum):
    """A request to extend a clock (申请延期) and its decision."""

    pending = "pending"
    approved = "approved"
    refused = "refused"


class InboxState(StrEnum):
    """A received callback in the durable inbox: waiting to be handled, handled, or given up on."""

    pending = "pending"
    done = "done"
    failed = "failed"


class OutboxKind(StrEnum):
    """What an outbox row asks of WeCom: a message, a card update, a group's creation or line, a 公众号 客服消息."""

    send = "send"
    update_card = "update_card"
    appchat_create = "appchat_create"
    appchat = "appchat"
    mp_send = "mp_send"


class OutboxState(StrEnum):
    """A message in the outbox: waiting, claimed by a sender, sent, held for a digest, or given up on."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    held = "held"
    failed = "failed"
