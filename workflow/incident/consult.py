"""会商, 回复来源 and 办结: the office asks the general office (and departments), replies to the source, closes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Item, Opinion, Person, Role, Submission, Unit
from models.item import PART_NAMES
from models.procedure import Act
from models.state import CardPurpose, ClockState, SubmissionState
from workflow.engine import procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.engine.relations import consulted
from workflow.incident import citizen, followup, statement
from workflow.people import org
from workflow.views import pages, render
from workflow.views.render_reports import opinion_card


def request(
    session: Session, item: Item, actor: Person, note: str, at: datetime, config: Config, also: Sequence[Unit] = ()
) -> list[str]:
    """Send the 会商 card asking for opinions on the approved report (also: departments named by the office);
    return who was asked."""
    procedure.allowed(session, item, Act.consult, actor)
    to = list(
        dict.fromkeys(consulted(session, item) + [u for d in also for u in org.userids(org.unit_leads(session, d))])
    )
    if not to:
        raise Refusal("组织名单里没有局办公室人员，无法会商。请先补充 general_office 角色。")
    sub = session.scalar(
        select(Submission)
        .where(Submission.item_id == item.id, Submission.state == SubmissionState.approved)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    summary = note or (sub.text[:120] if sub and sub.text else "请对处置意见和答复口径提出意见。")
    for userid in to:  # one card each, so that each closes when that person (or their office or unit) answers
        task_id = f"opin-{item.id}-{secrets.token_hex(4)}"
        new_card(session, CardPurpose.opinion, task_id, item.id, [userid], at)
        body = opinion_card(item, f"{actor.name}征求意见：{summary}", task_id, pages.viewer_url(config, item.code))
        tell(session, item, f"card:{task_id}", at, body, actors=[userid], task_id=task_id)
    procedure.apply(session, item, Act.consult, actor, at, asked=to, note=note[:500])
    return to


def give(session: Session, actor: Person, code: str, agree: bool, text: str, at: datetime) -> Item:
    """Record actor's opinion on item code during consultation and tell the office."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.opinion, actor)
    role = Role.general_office if actor.has(Role.general_office) else Role.unit_lead
    session.add(Opinion(item_id=item.id, userid=actor.userid, role=role, agree=agree, text=text[:2000], created_at=at))
    label = f"{actor.name} 无不同意见" if agree and not text else f"{actor.name} 已提出意见"
    answered = [actor.userid] + org.userids(  # one answer stands for the asker's office (or unit)
        org.with_role(session, Role.general_office) if role == Role.general_office else _unit_leads(session, actor)
    )
    procedure.apply(
        session, item, Act.opinion, actor, at, closing=label, recipients=set(answered), agree=agree, text=text[:2000]
    )
    words = "无不同意见" if agree and not text else f"意见：{text}"
    # the office acts on the general office's opinion (it gates 回复来源) and on any remark; a unit's bare
    # 无不同意见 is on the record (and in the group) without a message of its own
    office = org.userids(org.with_role(session, Role.office)) if role == Role.general_office or text else []
    who = "局办公室" if role == Role.general_office else _part_of(item, actor)
    tell(
        session,
        item,
        f"opinion:{item.id}:{actor.userid}:{at.timestamp()}",
        at,
        render.text(f"【会商意见】{item.code} {actor.name}（{who}）{words}\n可发送“回复来源 {item.code} 答复内容”。"),
        actors=office,
    )
    return item


def _unit_leads(session: Session, actor: Person) -> list[Person]:
    unit = session.get(Unit, actor.unit_id) if actor.unit_id else None
    return org.unit_leads(session, unit) if unit else []


def _part_of(item: Item, actor: Person) -> str:
    """The actor's unit by name and its part in the item ("宣传处，抄送单位"), or its name alone when it has none."""
    row = next((r for r in item.units if r.unit_id == actor.unit_id), None)
    name = actor.unit.name if actor.unit is not None else "业务处室"
    return f"{name}，{PART_NAMES.get(row.part, row.part)}单位" if row else name


def general_office_heard(session: Session, item: Item) -> bool:
    """True once a general-office person gave an opinion since the last approval (or nobody holds that role)."""
    if not org.with_role(session, Role.general_office):
        return True
    approved = session.scalar(
        select(Submission.decided_at)
        .where(Submission.item_id == item.id, Submission.state == SubmissionState.approved)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    stmt = select(Opinion.id).where(Opinion.item_id == item.id, Opinion.role == Role.general_office)
    if approved is not None:
        stmt = stmt.where(Opinion.created_at >= approved)
    return session.scalar(stmt.limit(1)) is not None


def require_heard(session: Session, item: Item) -> None:
    """Refuse unless the general office has given its opinion on item (what 回复来源 waits for beyond the state)."""
    if not general_office_heard(session, item):
        raise Refusal(
            f"局办公室还没有反馈 {item.code} 的会商意见，回复来源前须征求局办公室意见。"
            f"可发送“会商 {item.code}”再次征求。"
        )


def reply_source(session: Session, actor: Person, code: str, text: str, at: datetime) -> Item:
    """Record the office's reply to the source (only after the general office's opinion); meets the reply clock."""
    item = find_item(session, code)
    if text.strip() in ("", "口径"):  # quote the agreed public line: only an approved (frozen) version
        line = statement.approved(session, item)
        if line is None:
            raise Refusal(
                f"请写上答复内容，例如：回复来源 {item.code} 经核查，……；"
                f"或先定稿口径（口径 {item.code} 文字），再发送“回复来源 {item.code} 口径”引用它。"
            )
        text = line.text
    procedure.allowed(session, item, Act.reply_source, actor)
    require_heard(session, item)
    met = procedure.apply(session, item, Act.reply_source, actor, at, closing="已回复来源", text=text[:4000]).met
    late = "（已超时）" if any(c.state == ClockState.met_late for c in met) else ""
    # the reporter and those who follow the item hear of the reply; the units and supervisors hear of the 办结
    to = [item.reporter.userid, *org.userids(org.with_role(session, Role.general_office))]
    msg = f"【已回复来源】{item.code}《{item.title}》{late}\n{actor.name} {show(at)}：{text[:500]}"
    tell(session, item, f"replied:{item.id}:{at.timestamp()}", at, render.text(msg), followers=to, by=actor.userid)
    citizen.on_reply(session, item, text, at)  # a 公众号 citizen's 留言: the answer goes back to them
    return item


def _everyone(session: Session, item: Item) -> list[str]:
    people = [item.reporter.userid] + org.userids(org.with_role(session, Role.general_office))
    for row in item.units:
        people += org.userids(org.unit_leads(session, row.unit))
        if sup := org.supervisor(session, row.unit):
            people.append(sup)
    return list(dict.fromkeys(people))


def close(session: Session, actor: Person, code: str, note: str, at: datetime, config: Config) -> Item:
    """办结: close a replied item, waive what is still owed, and start the follow-up watch (善后)."""
    item = find_item(session, code)
    procedure.apply(session, item, Act.close, actor, at, note=note[:2000])  # waives what is still owed
    watch = followup.start(session, item, at, config)
    extra = f"\n善后观察至 {show(watch.until, True)}，期间请主办单位按提示回报态势。" if watch else ""
    tell(
        session,
        item,
        f"close:{item.id}:{at.timestamp()}",
        at,
        render.text(f"【已办结】{item.code}《{item.title}》{actor.name} {show(at)} 办结。{note[:300]}{extra}"),
        followers=_everyone(session, item) + org.userids(org.with_role(session, Role.office)),
        by=actor.userid,
    )
    return item
