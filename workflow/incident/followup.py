"""善后观察 after closing: periodic 平稳/反弹 check-ins; 反弹 reopens the item; then 总结评估 and 归档."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Item, ItemState, Person, Role, Watch
from models.events import Event
from models.procedure import ACTIONS, Act
from models.state import CardPurpose, WatchState
from workflow.appraisal import assessment
from workflow.engine import cards, periodic, procedure
from workflow.engine.audit import record
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.engine.outbox import Job, defer
from workflow.people import org
from workflow.views import render
from workflow.views.render_reports import watch_card


def start(session: Session, item: Item, at: datetime, config: Config) -> Watch | None:
    """Start the follow-up watch of a closed item (None when the policy's period is 0)."""
    period, every = config.policy.follow_up_period, config.policy.follow_up_every
    if period.total_seconds() <= 0:
        return None
    watch = Watch(
        item_id=item.id,
        started_at=at,
        until=at + period,
        every_seconds=int(every.total_seconds()),
        next_at=min(at + every, at + period),
        sent=0,
        state=WatchState.watching,
    )
    session.add(watch)
    procedure.apply(session, item, Act.follow_up, None, at, until=watch.until.isoformat())
    return watch


def not_watching(item: Item) -> str:
    """What to do about renewed opinion on an item that is no longer watched (never a dead end)."""
    return ACTIONS[Act.rebound].refuse(item.code, ItemState(item.state))


def active_watch(session: Session, item: Item) -> Watch | None:
    """Return the item's running follow-up watch, if any."""
    return session.scalar(select(Watch).where(Watch.item_id == item.id, Watch.state == WatchState.watching))


@periodic.task(50, "follow-up check-ins raced with another worker; the next sweep continues")
def sweep_watches(session: Session, config: Config, now: datetime) -> int:
    """The sweep's part: send the due check-in cards and end the watches that are over (fire_due)."""
    return fire_due(session, now)


def fire_due(session: Session, now: datetime, limit: int = 200) -> int:
    """Send every due check-in card and end every watch whose period is over; return how many were acted on."""
    due = list(
        session.scalars(
            select(Watch)
            .where(Watch.state == WatchState.watching, Watch.next_at <= now)
            .order_by(Watch.next_at)
            .limit(limit)
        )
    )
    for w in due:
        item = session.get(Item, w.item_id)
        assert item is not None
        if w.next_at >= w.until:
            w.state = WatchState.ended
            office = org.userids(org.with_role(session, Role.office))
            tell(
                session,
                item,
                f"watch:{w.id}:end",
                now,
                render.text(
                    f"【善后观察期满】{item.code}《{item.title}》观察期内未报告反弹。"
                    f"请总结评估：总结评估 {item.code} 内容"
                ),
                actors=office,
            )
            record(session, item, "system", Event.follow_up_end, now)
            continue
        w.sent += 1
        _checkin(session, item, w, now)
        w.next_at = min(w.next_at + _every(w), w.until)
    return len(due)


def _every(w: Watch) -> timedelta:
    return timedelta(seconds=w.every_seconds)


def _checkin(session: Session, item: Item, w: Watch, now: datetime) -> None:
    lead = item.lead
    to = org.userids(org.unit_leads(session, lead.unit)) if lead else []
    if not to:
        return
    task_id = f"fu-{w.id}-{w.sent}-{secrets.token_hex(3)}"
    new_card(session, CardPurpose.watch, task_id, item.id, to, now, unit_id=lead.unit_id if lead else None, about=w.id)
    body = watch_card(item, w.sent, show(w.until, True), task_id, w.id)
    tell(session, item, f"watch:{w.id}:{w.sent}", now, body, actors=to, task_id=task_id)


def answer(
    session: Session,
    actor: Person,
    watch_id: int,
    rebound: bool,
    note: str,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None = None,
) -> tuple[Item, str]:
    """Record a check-in answer (平稳 / 反弹) from the lead unit; a rebound reopens the item. clicked: the pressed
    card (its button then shows the answer; a repeat on an ended watch only updates it)."""
    w = session.get(Watch, watch_id)
    item = session.get(Item, w.item_id) if w else None
    if w is None or item is None:
        raise Refusal("这张回访卡片已失效。")
    act = Act.rebound if rebound else Act.follow_up_calm
    procedure.permit(session, item, act, actor)
    closing = f"{actor.name} 回报：{'反弹' if rebound else '平稳'}"
    if w.state != WatchState.watching:
        if clicked is not None:
            cards.close(session, item, CardPurpose.watch, w.id, closing, actor.userid, at, clicked)
        return item, f"{item.code} 的善后观察已结束，无需再回报。"
    if not rebound:
        procedure.apply(
            session, item, Act.follow_up_calm, actor, at, about=w.id, closing=closing, clicked=clicked, n=w.sent
        )
        return item, f"已记录：{item.code} 态势平稳。"
    reopen(session, actor, item, note, at, config, about=w.id, closing=closing, clicked=clicked)
    return item, f"已记录反弹，{item.code} 已重新打开。请尽快首报反弹情况，并重新报送书面报告。"


def reopen(session: Session, actor: Person, item: Item, note: str, at: datetime, config: Config, **card: Any) -> None:
    """反弹: end the watch, reopen the item for its lead unit, restart its report clocks, tell everyone involved.
    card: the check-in card it was pressed on (about, closing, clicked)."""
    procedure.allowed(session, item, Act.rebound, actor)
    for w in session.scalars(select(Watch).where(Watch.item_id == item.id, Watch.state == WatchState.watching)):
        w.state = WatchState.rebound
    item.external_due_at = None  # the restarted clocks (models/clocktable.py: rebound_restarts) count from now
    procedure.apply(session, item, Act.rebound, actor, at, **card, config=config, note=note[:2000])
    lead = item.lead
    to = org.userids(org.with_role(session, Role.office)) + org.userids(org.with_role(session, Role.leader))
    if lead is not None and (sup := org.supervisor(session, lead.unit)):
        to.append(sup)
    msg = f"【舆情反弹】{item.code}《{item.title}》{actor.name} {show(at)} 报告反弹，已重新打开。"
    tell(
        session,
        item,
        f"rebound:{item.id}:{at.timestamp()}",
        at,
        render.text(msg + (f"\n情况：{note[:300]}" if note else "")),
        followers=to,
        by=actor.userid,
    )


def ready_to_evaluate(session: Session, code: str) -> Item:
    """The item if its summary evaluation may be recorded now (the watch is over), else refuse."""
    item = find_item(session, code)
    procedure.check(item, Act.evaluate)
    require_watch_over(session, item)
    return item


def require_watch_over(session: Session, item: Item) -> None:
    """Refuse while item's follow-up watch runs (what 总结评估 waits for beyond the state)."""
    watch = active_watch(session, item)
    if watch is not None:
        raise Refusal(
            f"{item.code} 正在善后观察（至 {show(watch.until, True)}），观察期满后再总结评估；"
            "期间主办单位会收到回访卡片，如有反弹会重新打开。"
        )


EVALUATION = (("experience", "经验"), ("problems", "问题"), ("improvements", "改进措施"), ("stable", "态势是否平稳"))


def evaluate(
    session: Session, actor: Person, code: str, text: str, at: datetime, form: dict[str, str] | None = None
) -> Item:
    """总结评估 (office): record the summary evaluation once the follow-up watch is over (善后 → 评估 → 归档);
    form holds the seeds' parts (经验, 问题, 改进措施, 态势是否平稳), text a free summary."""
    item = ready_to_evaluate(session, code)
    if form:
        text = "；".join(f"{label}：{form.get(key, '')}" for key, label in EVALUATION)
    if not text.strip():
        raise Refusal(f"请写上评估内容，或只发送“总结评估 {item.code}”按步骤填写（经验、问题、改进措施、态势）。")
    procedure.apply(session, item, Act.evaluate, actor, at, text=text[:4000], form=form or {})
    return item


def archive(session: Session, actor: Person, code: str, at: datetime) -> Item:
    """归档 (office): file an evaluated item (立卷归档); nothing is deleted."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.archive, actor)
    pending = assessment.pending_disputes(session, item)
    if pending:  # the record is closed at 归档: a dispute decided later would change it
        raise Refusal(
            f"{item.code} 还有待审定的申诉 {'、'.join(pending)}，请先发送“维持 {pending[0]}”或“撤销 {pending[0]}”"
            f"审定，再归档（归档后案卷不再改动）。"
        )
    procedure.apply(session, item, Act.archive, actor, at)  # ends the clocks still owed, named in its row
    defer(session, Job.build_archive, item.id)  # the package (案卷) is written by a job once this commits
    return item
