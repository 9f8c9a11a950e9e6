"""What a person owes (我的待办) and an item's state and history (查询), for people involved."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import local, show
from core.durations import format_duration
from models import (
    AuditEvent,
    Card,
    GuidedAssignment,
    GuidedState,
    GuidedTask,
    Item,
    ItemState,
    ItemUnit,
    Opinion,
    Patrol,
    PatrolState,
    Person,
    Role,
    Unit,
)
from models.clock import OPEN_STATES, Clock
from models.events import Event
from models.item import FLOW_NAMES, PART_NAMES
from models.procedure import Act
from models.state import CLOCK_STATE_NAMES, CardPurpose, ClockState
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.incident import merge, statement
from workflow.views import render, timeline
from workflow.views.owed import PICK_BUTTONS, Owed, owed_on, owed_steps
from workflow.views.todos_more import more

TODO_SOURCE = "瞭望 · 我的待办"

ACTIONS: dict[str, str] = {
    Act.report: "上报",
    Act.report_merged: "重复上报（已合并）",
    Act.dispatch: "定级交办",
    Act.acknowledge: "签收",
    Act.first_report: "首报",
    Act.written_report: "书面报告",
    Act.handling_report: "处置情况报告",
    Act.regrade: "调整等级",
    Event.clock_missed: "时限超时",
    Event.clock_escalated: "超时督办",
    Event.extension_request: "申请延期",
    Event.extension_decision: "审批延期",
    Event.clock_waived: "免除时限",
    Event.clock_miss_withdrawn: "撤销超时记录",
    Act.progress_report: "续报",
    Act.approve: "批准书面报告",
    Act.return_: "退回修改",
    Event.return_reason: "提出修改意见",
    Event.statement_return_reason: "说明口径退回理由",
    Act.consult: "征求会商意见",
    Act.opinion: "提出会商意见",
    Act.reply_source: "回复来源",
    Act.close: "办结",
    Act.follow_up: "进入善后观察",
    Act.follow_up_calm: "回报态势平稳",
    Act.rebound: "报告舆情反弹",
    Event.follow_up_end: "善后观察期满",
    Act.evaluate: "总结评估",
    Act.archive: "立卷归档",
    Act.review: "审核书面报告",
    Event.fact_recorded: "记录考核扣分",
    Act.fact_disputed: "对扣分事项申诉",
    Event.dispute_decided: "审定申诉",
    Act.guide_replies: "组织跟帖",
    Event.guided_reply_proved: "完成跟帖",
    Event.guided_reply_declined: "说明无法跟帖",
    Event.guided_reply_missed: "跟帖超时未完成",
    Event.statement_drafted: "拟定对外口径",
    Event.statement_decided: "审批对外口径",
    Event.statement_confirmed: "确认对外口径",
    Event.statement_approved: "口径定稿",
    Event.statement_published: "登记发布",
    Event.period_grade: "重要节点期间建议等级上调",
    Event.brief_requested: "拟报送快报或专报",
    Event.brief_decided: "审批快报或专报",
    Event.brief_sent: "报送上级",
    Act.instruction: "领导批示",
    Event.archive_packaged: "生成案卷",
    Event.attachments_pruned: "按保存期限删除附件",
    Event.same_event_suggested: "提示可能为同一事件",
    Act.merge: "并入同一事件的另一条目",
    Act.absorb: "合并同一事件的条目",
    Act.not_same: "确认不是同一事件",
}
HIDDEN = {Event.clock_start, Event.clock_met, Event.clock_regrade}


def todos(session: Session, person: Person, now: datetime) -> list[str]:
    """Return one line per step person owes, oldest first, with how long it has waited."""
    lines: list[str] = []
    if person.has(Role.commentator):
        checks = session.scalars(
            select(Patrol).where(
                Patrol.userid == person.userid,
                Patrol.state == PatrolState.open,
                Patrol.day == local(now).date().isoformat(),
            )
        )
        for p in checks:
            lines.append(f"· 今日巡查，截止 {show(p.due_at)}：没有发现请发送“巡查 无异常”，发现了请“上报”")
    for a in session.scalars(
        select(GuidedAssignment).where(
            GuidedAssignment.userid == person.userid, GuidedAssignment.state == GuidedState.open
        )
    ):
        task = session.get_one(GuidedTask, a.task_id)
        item = session.get_one(Item, task.item_id)
        lines.append(
            f"· 组织跟帖 {render.item_line(item)}，截止 {show(a.due_at)}：完成后点卡片上的“已跟帖”发来链接或截图"
        )
    if person.has(Role.office):
        waiting = session.scalars(select(Item).where(Item.state == ItemState.reported).order_by(Item.reported_at))
        for item in waiting:
            lines.append(
                f"· 待交办 {render.item_line(item)}，上报于 {show(item.reported_at)}"
                f"（已等 {format_duration(now - item.reported_at)}）"
            )
    if person.has(Role.office):
        for o in owed_on(session, person, Act.draft_statement):
            if o.clock is not None:
                lines.append(
                    f"· {o.clock.label} {render.item_line(o.item)}，{_when(o.clock, now)}：先拟定口径（点“拟口径”）"
                )
    if person.has(Role.unit_lead) and person.unit_id:
        rows = session.scalars(
            select(ItemUnit)
            .where(ItemUnit.unit_id == person.unit_id, ItemUnit.acknowledged_at.is_(None), ItemUnit.part != "cc")
            .order_by(ItemUnit.assigned_at)
        )
        for row in rows:
            lines.append(
                f"· 待签收 {render.item_line(row.item)}，交办于 {show(row.assigned_at)}"
                f"（已等 {format_duration(now - row.assigned_at)}）\n  回复“签收 {row.item.code}”或点卡片按钮"
            )
        owed = session.scalars(
            select(Clock)
            .where(Clock.owner_unit_id == person.unit_id, Clock.state.in_(OPEN_STATES))
            .order_by(Clock.due_at)
        )
        for clock in owed:
            item = session.get_one(Item, clock.item_id)
            lines.append(f"· {clock.label} {render.item_line(item)}，{_when(clock, now)}")
    return lines + more(session, person, now)


def step_buttons(session: Session, person: Person) -> list[Owed]:
    """The steps of 我的待办 a button takes (签收, 写首报, 书面报告, 处置报告, 口径, the office's 定级交办, 回复来源,
    办结, 总结评估, 归档, and 申请延期 for a unit's clocks; the office's own clocks are typed), at most six: each kind
    of step gets a button before any kind gets a second, in the list's order."""
    steps = owed_steps(session, person)
    extend = [o for o in owed_on(session, person, Act.request_extension) if o.clock and o.clock.owner != "office"]
    return _fair(steps + extend, PICK_BUTTONS)


def _fair(steps: list[Owed], room: int) -> list[Owed]:
    """At most room of steps, in their order: the first of each kind of step first, then the rest."""
    firsts: dict[Act, int] = {}
    for n, o in enumerate(steps):
        firsts.setdefault(o.act, n)
    chosen = set(list(firsts.values())[:room])
    for n in range(len(steps)):
        if len(chosen) >= room:
            break
        chosen.add(n)
    return [o for n, o in enumerate(steps) if n in chosen]


def todo_card(steps: list[Owed], task_id: str) -> dict[str, Any]:
    """The 我的待办 card: one numbered line and one button per owed step (“1 写首报”)."""
    lines = [f"{n} {o.label}：{o.item.code}《{o.item.title}》" for n, o in enumerate(steps, 1)]
    return render.button_card(
        TODO_SOURCE,
        f"您有 {len(steps)} 步可以直接办理",
        "",
        "点按钮办理，按提示发送内容即可，不用输入编号。",
        [],
        task_id,
        [(f"{n} {o.label}", o.key, 1 if n == 1 else 2) for n, o in enumerate(steps, 1)],
        content="\n".join(lines),
    )


def send_todo_card(session: Session, person: Person, key: str, now: datetime) -> int:
    """Send person the 我的待办 card of buttons under key (nothing when no step has a button); return how many."""
    steps = step_buttons(session, person)
    if not steps:
        return 0
    task_id = f"todo-{person.id}-{secrets.token_hex(6)}"
    new_card(session, CardPurpose.todo, task_id, steps[0].item.id, [person.userid], now, about=person.id)
    # a reply too (key "reply:…"): it goes out before the list, which stays the newest thing the person reads
    emit(session, [person.userid], todo_card(steps, task_id), f"reply:todo:{key}", now, task_id=task_id)
    return len(steps)


def _when(clock: Clock, now: datetime) -> str:
    """ "最迟 14:30（还剩 12分钟）" or "已超时 5分钟（应于 14:30）"."""
    if clock.state == ClockState.missed or clock.due_at <= now:
        over = now - clock.due_at
        late = f"已超时 {format_duration(over)}" if over >= timedelta(minutes=1) else "已超时"
        return f"{late}（应于 {show(clock.due_at, True)}）"
    return f"最迟 {show(clock.due_at, True)}（还剩 {format_duration(clock.due_at - now)}）"


CLOCK_STATES = CLOCK_STATE_NAMES


def involved(session: Session, person: Person, item: Item) -> bool:
    """Return True if person may see item: its reporters (first or merged), office, general office, leader, its units
    or their supervisors, whoever gave an opinion on it, was sent a card or a guided reply about it (as the ledger
    lists them)."""
    if person.id == item.reporter_id or any(person.has(r) for r in (Role.office, Role.general_office, Role.leader)):
        return True
    units = [session.get(Unit, r.unit_id) for r in item.units]
    if any(u and (u.id == person.unit_id or u.supervisor_userid == person.userid) for u in units):
        return True
    merged = select(AuditEvent.id).where(
        AuditEvent.item_id == item.id, AuditEvent.action == Act.report_merged, AuditEvent.actor == person.userid
    )
    if session.scalar(merged.limit(1)) is not None:
        return True
    asked = select(Opinion.id).where(Opinion.item_id == item.id, Opinion.userid == person.userid)
    if session.scalar(asked.limit(1)) is not None:
        return True
    guided = select(GuidedAssignment.id).join(GuidedTask, GuidedTask.id == GuidedAssignment.task_id)
    if session.scalar(guided.where(GuidedTask.item_id == item.id, GuidedAssignment.userid == person.userid).limit(1)):
        return True
    cards = session.scalars(select(Card.recipients).where(Card.item_id == item.id))
    return any(person.userid in (c or []) for c in cards)


def status(session: Session, person: Person, code: str) -> str:
    """Return the state, grade, units and history of item code, or refuse if person is not involved."""
    item = find_item(session, code)
    if not involved(session, person, item):
        raise Refusal(f"您没有参与 {item.code} 的处置，无权查看。")
    units = (
        "、".join(
            f"{r.unit.name}（{PART_NAMES.get(r.part, r.part)}"
            + ("" if r.part == "cc" else ("，已签收" if r.acknowledged_at else "，未签收"))
            + "）"
            for r in item.units
        )
        or "未交办"
    )
    lines = [
        f"{item.code}《{item.title}》",
        f"状态：{item.state_name}",
        *([pointer] if (pointer := merge.pointer_line(session, item)) else []),
        f"等级：{render.grade_name(item.grade)}",
        f"承办：{units}",
        f"上报人：{item.reporter.name}",
    ]
    if item.flow:
        lines.append(f"流程：{FLOW_NAMES.get(item.flow, item.flow)}")
    if line := statement.approved(session, item):
        lines.append(f"对外口径：第 {line.version} 版已定稿" + ("，已发布" if line.published_at else "，未发布"))
    lines.append("经过：")
    for clock in session.scalars(select(Clock).where(Clock.item_id == item.id).order_by(Clock.due_at)):
        state = CLOCK_STATES.get(clock.state, clock.state)
        lines.insert(-1, f"时限：{clock.label} 最迟 {show(clock.due_at, True)}，{state}")
    events = session.scalars(select(AuditEvent).where(AuditEvent.item_id == item.id).order_by(AuditEvent.id))
    n = timeline.names(session, item)
    for ev in events:
        if ev.action in HIDDEN:
            continue
        what, detail = timeline.words(n, ev, ACTIONS.get(ev.action, ev.action))
        short = "" if ev.action == Act.report else detail
        tail = "：" + (short[:40] + "…" if len(short) > 40 else short) if short else ""
        lines.append(f"· {show(ev.at, True)} {n.person(ev.actor)} {what}{tail}")
    return "\n".join(lines)
