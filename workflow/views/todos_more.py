"""我的待办 beyond deadlines: reports to approve, opinions to give, replies and closings to do, check-ins to answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.durations import format_duration
from models import Card, Item, ItemState, Opinion, Person, Role, Submission, Watch
from models.procedure import ACTIONS, Act
from models.state import AWAITING, NEXT_STEP, CardPurpose, WatchState
from workflow.incident.submission import approval_cards
from workflow.views import render


def _waited(now: datetime, since: datetime) -> str:
    return f"（已等 {format_duration(now - since)}）"


def approvals(session: Session, person: Person, now: datetime) -> list[str]:
    """Written reports waiting for this person's decision (they are a recipient of an open approval card)."""
    lines = []
    pending = session.scalars(
        select(Submission)
        .where(Submission.state.in_(AWAITING), Submission.part == "lead")
        .order_by(Submission.created_at)
    )
    for sub in pending:
        if any(person.userid in c.recipients for c in approval_cards(session, sub, open_only=True)):
            item = session.get_one(Item, sub.item_id)
            lines.append(
                f"· 待审核 {render.item_line(item)} 第 {sub.version} 版书面报告，{show(sub.created_at)} 报送"
                f"{_waited(now, sub.created_at)}"
                f"\n  点审核卡片，或发送“批准 {item.code}”/“退回修改 {item.code} 意见”"
            )
    return lines


def opinions(session: Session, person: Person, now: datetime) -> list[str]:
    """Consultations that asked this person and that they have not answered since."""
    lines = []
    asked = session.execute(
        select(Card, Item)
        .join(Item, Item.id == Card.item_id)
        .where(Card.purpose == CardPurpose.opinion, Item.state == ItemState.approved)
        .order_by(Card.created_at)
    )
    seen: set[int] = set()
    for card, item in asked:
        if person.userid not in card.recipients:
            continue
        answered = session.scalar(
            select(Opinion.id).where(
                Opinion.item_id == item.id, Opinion.userid == person.userid, Opinion.created_at >= card.created_at
            )
        )
        if answered is None and item.id not in seen:
            seen.add(item.id)
            lines.append(
                f"· 待反馈会商意见 {render.item_line(item)}{_waited(now, card.created_at)}"
                f"\n  点会商卡片，或发送“会商意见 {item.code} 意见”"
            )
    return lines


def office(session: Session, now: datetime) -> list[str]:
    """The office's steps after approval: reply to the source, close, evaluate, file (归档)."""
    lines = []
    for item in session.scalars(
        select(Item)
        .where(Item.state.in_([ItemState.approved, ItemState.replied, ItemState.closed]))
        .order_by(Item.updated_at)
    ):
        step = NEXT_STEP[ItemState(item.state)].todo(item.code)
        lines.append(f"· {step} {render.item_line(item)}{_waited(now, item.updated_at)}")
    ended = session.scalars(select(Watch).where(Watch.state == WatchState.ended).order_by(Watch.until))
    for w in ended:
        watched = session.get(Item, w.item_id)
        if watched is not None and watched.state == ItemState.follow_up:
            then = NEXT_STEP[ItemState.closed]  # the watch is over: the step after 办结 is due
            send = then.command.format(code=watched.code)
            lines.append(f"· 待{then.step}（善后观察期满）{render.item_line(watched)}，发送“{send}”")
    filing = ACTIONS[Act.archive]  # the office's last step: evaluated items wait to be filed
    for item in session.scalars(select(Item).where(Item.state.in_(list(filing.states))).order_by(Item.updated_at)):
        lines.append(f"· 待{filing.label}（归档 {item.code}）{render.item_line(item)}{_waited(now, item.updated_at)}")
    return lines


def more(session: Session, person: Person, now: datetime) -> list[str]:
    """Every non-deadline step person owes."""
    lines = approvals(session, person, now)
    if person.has(Role.general_office) or person.has(Role.unit_lead):
        lines += opinions(session, person, now)
    if person.has(Role.office):
        lines += office(session, now)
    return lines
