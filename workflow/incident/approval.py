"""审核: a supervisor (or leader) approves, returns or escalates a written report, once, from its card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Grade, Item, ItemState, Person, Role, Submission
from models.events import Event
from models.procedure import ACTIONS, Act
from models.state import AWAITING, CardPurpose, SubmissionState
from workflow.engine import procedure
from workflow.engine.errors import Refusal
from workflow.engine.notify import tell
from workflow.engine.outbox import emit
from workflow.incident import consult
from workflow.incident.dispatch import set_grade
from workflow.incident.submission import leaders, offer_upload, send_for_approval
from workflow.people import appchat, org
from workflow.views import render

CHOICES = {"ok": "批准", "back": "退回修改", "major": "升级为重大"}
CHOICE_ACTIONS = {"ok": Act.approve, "back": Act.return_, "major": Act.review}  # what each button asks of its decider
DONE = {SubmissionState.approved: "批准", SubmissionState.returned: "退回修改"}


@dataclass
class Decision:
    """What a click did: the submission, a sentence for the decider, and whether a reason must follow."""

    submission: Submission
    note: str
    ask_reason: bool = False


def _name(session: Session, userid: str | None) -> str:
    return session.scalar(select(Person.name).where(Person.userid == userid)) or (userid or "")


def decide(
    session: Session,
    actor: Person,
    sub_id: int,
    choice: str,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None = None,
) -> Decision:
    """Apply actor's choice (ok/back/major) to submission sub_id if actor is an intended decider; repeats are no-ops."""
    sub = session.get(Submission, sub_id)
    if sub is None or choice not in CHOICES:
        raise Refusal("这张审批卡片已失效。")
    item = session.get(Item, sub.item_id)
    assert item is not None
    procedure.permit(session, item, CHOICE_ACTIONS[choice], actor, submission=sub.id)  # a decider of this version
    if sub.state in DONE:
        return Decision(
            sub,
            f"{item.code} 第 {sub.version} 版书面报告已由{_name(session, sub.decided_by)}于 "
            f"{show(sub.decided_at)} {DONE[sub.state]}，无需再处理。",
        )
    if sub.state == SubmissionState.superseded:
        return Decision(sub, f"这张卡片已过时：{item.code} 已有新版本，请审批最新的一版。")
    if sub.state not in AWAITING or not procedure.allows(item, Act.approve):
        return Decision(sub, ACTIONS[Act.approve].refuse(item.code, ItemState(item.state)))
    if choice == "major":
        return _escalate(session, actor, item, sub, at, config, clicked)
    if choice == "ok" and item.grade == Grade.major and sub.state == SubmissionState.pending:
        return _review(session, actor, item, sub, at, config, clicked)
    sub.decided_by, sub.decided_at = actor.userid, at
    if choice == "ok":
        return _approve(session, actor, item, sub, at, config, clicked)
    return _return(session, actor, item, sub, at, config, clicked)


def _review(
    session: Session,
    actor: Person,
    item: Item,
    sub: Submission,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None,
) -> Decision:
    """A major item's report: the supervisor's 审核 passes it on to the leading group for 审定 (their own card)."""
    deciding = leaders(session, actor.userid)
    if not deciding:  # the supervisor is the only leader there is: their 批准 is the decision
        sub.decided_by, sub.decided_at = actor.userid, at
        return _approve(session, actor, item, sub, at, config, clicked)
    sub.state = SubmissionState.reviewed
    procedure.apply(session, item, Act.review, actor, at, about=sub.id, clicked=clicked, version=sub.version)
    send_for_approval(session, item, sub, deciding, at, config, stage="审定", reviewer=actor.name)
    # the office follows the decision (审核通过), not the review on the way to it
    return Decision(sub, f"已审核 {item.code} 第 {sub.version} 版书面报告，已送领导小组审定。")


def _approve(
    session: Session,
    actor: Person,
    item: Item,
    sub: Submission,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None,
) -> Decision:
    sub.state = SubmissionState.approved
    procedure.apply(
        session, item, Act.approve, actor, at, about=sub.id, closing=f"{actor.name} 已批准", clicked=clicked,
        version=sub.version,
    )  # fmt: skip
    unit_people = org.userids(org.unit_leads(session, sub.unit))
    office = org.userids(org.with_role(session, Role.office))
    step = f"approve:{sub.id}"
    tell(
        session,
        item,
        f"approve:{sub.id}:unit",
        at,
        render.text(
            f"【审核通过】{item.code} 第 {sub.version} 版书面报告已由{actor.name}批准。"
            f"请继续做好处置，处置情况请发送“处置报告 {item.code} 内容”。"
        ),
        actors=unit_people,
        step=step,
    )
    tell(
        session,
        item,
        f"approve:{sub.id}:office",
        at,
        render.text(
            f"【审核通过】{item.code}《{item.title}》书面报告已由{actor.name}批准，"
            f"已征求局办公室意见（会商）。收到意见后请发送“回复来源 {item.code} 答复内容”。"
        ),
        actors=office,
        step=step,
    )
    sup = org.supervisor(session, sub.unit)
    tell(
        session,
        item,
        f"approve:{sub.id}:supervisor",
        at,
        render.text(f"【审核通过】{item.code}《{item.title}》第 {sub.version} 版书面报告已由{actor.name}批准。"),
        followers=[sup] if sup and sup != actor.userid else [],
        step=step,
    )
    try:
        with session.begin_nested():
            consult.request(session, item, actor, "", at, config)
    except Refusal as exc:  # e.g. nobody holds the general-office role: the approval stands, the office is told
        emit(
            session,
            office,
            render.text(f"【会商未发出】{item.code}：{exc.message}"),
            f"approve:{sub.id}:noconsult",
            at,
            item,
        )
    return Decision(sub, f"已批准 {item.code} 第 {sub.version} 版书面报告，已转办公室会商并回复来源。")


def _return(
    session: Session,
    actor: Person,
    item: Item,
    sub: Submission,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None,
) -> Decision:
    sub.state = SubmissionState.returned
    procedure.apply(session, item, Act.return_, actor, at, about=sub.id, clicked=clicked, version=sub.version)
    unit_people = org.userids(org.unit_leads(session, sub.unit))
    msg = (
        f"【退回修改】{item.code} 第 {sub.version} 版书面报告被{actor.name}退回修改，"
        "修改意见随后发来。请修改后重新报送。"
    )
    tell(session, item, f"return:{sub.id}:unit", at, render.text(msg), actors=unit_people)
    return Decision(
        sub,
        f"已退回 {item.code} 第 {sub.version} 版书面报告。请直接回复修改意见（将转给"
        f"{sub.unit.name}）；回复“跳过”则不附意见。",
        ask_reason=True,
    )


def give_reason(session: Session, actor: Person, sub_id: int, reason: str, at: datetime, config: Config) -> str:
    """Send the supervisor's reason for returning sub_id to the unit, with the card to resubmit."""
    sub = session.get(Submission, sub_id)
    item = session.get(Item, sub.item_id) if sub else None
    if sub is None or item is None or sub.state != SubmissionState.returned or sub.decided_by != actor.userid:
        raise Refusal("没有等待您填写意见的退回。")
    procedure.allowed(session, item, Act.give_reason, actor)
    reason = "" if reason.strip() == "跳过" else reason.strip()[:2000]
    if sub.comment:
        return "修改意见已经发出，无需重复。"
    sub.comment = reason or "（未附意见）"
    procedure.apply(
        session, item, Act.give_reason, actor, at, event=Event.return_reason, version=sub.version, reason=sub.comment
    )
    unit_people = org.userids(org.unit_leads(session, sub.unit))
    tell(
        session,
        item,
        f"return:{sub.id}:reason",
        at,
        render.text(f"【修改意见】{item.code} {actor.name}：{sub.comment}"),
        actors=unit_people,
        step=f"return:{sub.id}:reason",
    )
    offer_upload(session, item, sub.unit, at, config, returned=sub.comment)
    return f"修改意见已转给{sub.unit.name}，他们修改后会重新报送。"


def _escalate(
    session: Session,
    actor: Person,
    item: Item,
    sub: Submission,
    at: datetime,
    config: Config,
    clicked: tuple[str, str] | None,
) -> Decision:
    if item.grade == Grade.major:
        return Decision(sub, f"{item.code} 已经是重大舆情。")
    closing = f"{actor.name} 已升级为重大"
    set_grade(
        session, item, actor, Grade.major, config, at, about=sub.id, closing=closing, clicked=clicked,
        recipients={actor.userid}, via=CardPurpose.approval,
    )  # fmt: skip
    deciding = leaders(session, actor.userid)
    if deciding:  # escalating is the supervisor's 审核: the leading group decides (审定)
        sub.state = SubmissionState.reviewed
        procedure.apply(session, item, Act.review, actor, at, about=sub.id, closing=closing, version=sub.version)
    send_for_approval(
        session,
        item,
        sub,
        deciding or [actor.userid],
        at,
        config,
        stage="审定" if deciding else "审核",
        reviewer=actor.name,
    )
    office = org.userids(org.with_role(session, Role.office))
    msg = (
        f"【升级为重大】{item.code}《{item.title}》由{actor.name}升级为重大，"
        "时限已按重大重新计算，书面报告已送领导小组审批。"
    )
    appchat.ensure(session, item, at)
    tell(session, item, f"major:{item.code}:{sub.id}", at, render.text(msg), followers=office)
    return Decision(sub, f"已将 {item.code} 升级为重大，书面报告已送领导小组审批。")
