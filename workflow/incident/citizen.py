"""A citizen's 留言 through the bureau's 公众号: it becomes (or joins) a 留言 item, and the answer goes back to them.

A message is reported through the one report path (workflow.incident.report.report) by the 公众号's system person,
source 公众号, so the 留言答复 clock starts and the office is told as for any report. Further messages from the same
citizen while their item is not yet answered join that item (recorded as a merged report, the office told). The
office's 回复来源 of such an item is queued to go back by 客服消息 (jobs/mp_send.py); the clock is met when it reached
the citizen, or when the office confirms it answered by hand (`已答复市民 <编号>`) after WeChat refused it (48 h).
The openid lives only in mp_messages; the office alone is told it, when it must answer by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from core.intake import Source
from core.policy import ClockKind
from models import AuditEvent, CitizenMessage, Clock, Item, Person, Role
from models.procedure import OPEN, Act
from models.state import ClockState, ItemState, OutboxKind
from workflow.engine import procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.incident import links as linkmod
from workflow.incident.intake import system_person
from workflow.incident.report import Draft, report
from workflow.people import org
from workflow.views import render

SOURCE = Source(key="mp", name="局微信公众号", secret="", category="official_account")
WINDOW = timedelta(hours=48)  # WeChat lets 客服消息 reach a citizen this long after their last message
MESSAGES = ("text", "image", "link")  # what becomes a 留言
WAITING = OPEN - {ItemState.replied} | {ItemState.reported}  # an item still to be answered takes further messages
LONGEST = 4000  # characters of one message (a report's limit)
KIND = OutboxKind.mp_send
UNFOLLOWED = "event:unsubscribe"  # the outbox kind of an answer to a citizen (jobs/mp_send.py)
WELCOME = "您好，这里是局微信公众号。您可以直接发送文字、图片或链接反映情况，我们收到后会告知编号并按时答复。"
OTHER = "抱歉，目前只能受理文字、图片和链接留言，请用文字描述您反映的情况。"


@dataclass(frozen=True)
class Said:
    """One message or event a citizen sent, as WeChat delivered it (the openid never leaves this module's table)."""

    key: str  # MsgId, or "<openid>:<CreateTime>:<Event>" for an event
    openid: str
    kind: str  # WeChat's MsgType; for an event, "event:<Event>"
    text: str = ""
    links: list[str] = field(default_factory=list)
    link_titles: dict[str, str] = field(default_factory=dict)


def receive(session: Session, config: Config, said: Said, at: datetime) -> str:
    """Record said once and return the passive reply (an earlier answer for a retry; "" for nothing to say)."""
    known = session.scalar(select(CitizenMessage.reply).where(CitizenMessage.key == said.key))
    if known is not None:
        return known
    item: Item | None = None
    if said.kind == "event:subscribe":
        reply = WELCOME
    elif said.kind.startswith("event:"):
        reply = ""
    elif said.kind not in MESSAGES:
        reply = OTHER
    elif len(said.text) > LONGEST:
        raise Refusal(f"您的留言太长了（超过 {LONGEST} 字），请分几条发送。")
    elif (item := waiting_item(session, said.openid)) is not None:
        reply = _attach(session, config, item, said, at)
    else:
        item, reply = _report(session, config, said, at)
    session.add(
        CitizenMessage(
            key=said.key, openid=said.openid, kind=said.kind[:32], item_id=item.id if item else None,
            received_at=at, reply=reply,
        )
    )  # fmt: skip
    session.flush()
    return reply


def waiting_item(session: Session, openid: str) -> Item | None:
    """The citizen's latest item not yet answered (it takes their further messages), if any."""
    return session.scalar(
        select(Item)
        .join(CitizenMessage, CitizenMessage.item_id == Item.id)
        .where(CitizenMessage.openid == openid, Item.state.in_([str(s) for s in WAITING]))
        .order_by(CitizenMessage.id.desc())
        .limit(1)
    )


def _report(session: Session, config: Config, said: Said, at: datetime) -> tuple[Item, str]:
    """Report said as a new 留言 (or join the open item with its link); return the item and the passive reply."""
    person = system_person(session, SOURCE)
    draft = Draft(
        text=said.text, source=SOURCE.category, links=said.links, link_titles=said.link_titles, origin=SOURCE.name
    )
    result = report(session, person, draft, at, config)
    return result.item, _received(session, result.item, "您的留言已收到")


def _attach(session: Session, config: Config, item: Item, said: Said, at: datetime) -> str:
    """Record a further message on the citizen's waiting item, tell the office; return the passive reply."""
    person = system_person(session, SOURCE)
    procedure.apply(session, item, Act.report_merged, person, at, note=said.text[:LONGEST], channel=SOURCE.name)
    linkmod.record(session, config, item, {url: linkmod.normalize(url) for url in said.links}, person.id, at)
    note = f"【市民补充留言】{item.code}《{item.title}》\n市民 {show(at)} 通过公众号补充：{said.text[:500]}"
    emit(session, _office(session), render.text(note), f"mp:more:{said.key}", at, item)
    return _received(session, item, "已收到您的补充，已记入")


def _received(session: Session, item: Item, opening: str) -> str:
    """The passive reply naming the item's 编号 and when the citizen can expect the answer."""
    due = session.scalar(
        select(Clock.due_at).where(
            Clock.item_id == item.id,
            Clock.kind == ClockKind.reply_source,
            Clock.state.in_([ClockState.open, ClockState.missed]),
        )
    )
    when = f"我们将在 {show(due, True)} 前答复您" if due else "我们会尽快答复您"
    return f"{opening}，编号 {item.code}。{when}，答复会通过本公众号发给您。如需补充，直接在这里继续留言即可。"


def _office(session: Session) -> list[str]:
    return org.office_or_leaders(session)


def on_reply(session: Session, item: Item, text: str, at: datetime) -> int:
    """The office's 回复来源 of item: queue it to each citizen whose 留言 is on it (by 客服消息); return how many."""
    latest = (
        select(func.max(CitizenMessage.id))
        .where(CitizenMessage.item_id == item.id)
        .group_by(CitizenMessage.openid)
        .scalar_subquery()
    )
    rows = list(session.scalars(select(CitizenMessage.id).where(CitizenMessage.id.in_(latest))))
    for msg_id in rows:
        body = {"msgtype": "mp_text", "message": msg_id, "text": text[:600]}
        emit(session, [], body, f"mp:reply:{item.id}:{msg_id}:{at.timestamp()}", at, item, kind=KIND)
    return len(rows)


def from_citizens(session: Session, item: Item) -> bool:
    """True if a 公众号 citizen's 留言 is on item (its answer goes back to them)."""
    return session.scalar(select(CitizenMessage.id).where(CitizenMessage.item_id == item.id).limit(1)) is not None


@dataclass(frozen=True)
class Recipient:
    """Where an answer goes: the citizen's openid and when WeChat stops allowing 客服消息 to them."""

    openid: str
    until: datetime
    unfollowed: bool = False


def recipient(session: Session, message_id: int) -> Recipient | None:
    """The citizen who sent message_id and the end of their 48 h window (after their last message), or None."""
    openid = session.scalar(select(CitizenMessage.openid).where(CitizenMessage.id == message_id))
    if openid is None:
        return None
    last = session.scalar(
        select(CitizenMessage).where(CitizenMessage.openid == openid).order_by(CitizenMessage.id.desc()).limit(1)
    )
    if last is None or last.kind == UNFOLLOWED:  # WeChat sends nothing to someone who unfollowed
        return Recipient(openid=openid, until=last.received_at if last else datetime.min, unfollowed=True)
    return Recipient(openid=openid, until=last.received_at + WINDOW)


def delivered(session: Session, item: Item, at: datetime) -> None:
    """The answer reached the citizen by 客服消息: meet the 留言答复 clock and tell the office."""
    if procedure.allows(item, Act.reply_delivered):
        procedure.apply(session, item, Act.reply_delivered, None, at, how="客服消息")
    note = f"【已答复市民】{item.code}《{item.title}》\n答复已于 {show(at)} 通过公众号发给市民。"
    emit(session, _office(session), render.text(note), f"mp:delivered:{item.id}:{at.timestamp()}", at, item)


def by_hand(session: Session, item: Item, openid: str, why: str, at: datetime) -> None:
    """The answer cannot go by 客服消息: tell the office (only) to answer by hand and confirm."""
    note = (
        f"【请人工答复市民】{item.code}《{item.title}》\n{why}\n"
        f"请在公众号后台的消息管理里找到这位市民（用户标识 {openid}）人工答复，答复后发送“已答复市民 {item.code}”；"
        "留言答复时限在确认后才算完成。"
    )
    office = org.userids(org.with_role(session, Role.office)) or org.office_or_leaders(session)
    emit(session, office, render.text(note), f"mp:byhand:{item.id}:{at.timestamp()}", at, item)


def confirm(session: Session, actor: Person, code: str, at: datetime) -> Item:
    """The office answered the citizen by hand: meet the 留言答复 clock (refused for items not from the 公众号)."""
    item = find_item(session, code)
    if not from_citizens(session, item):
        raise Refusal(f"{item.code} 不是公众号留言，无需确认答复市民。")
    done = select(AuditEvent.id).where(AuditEvent.item_id == item.id, AuditEvent.action == Act.reply_delivered)
    if session.scalar(done.limit(1)) is not None:
        raise Refusal(f"{item.code} 的答复已经送达市民（或已确认），无需再确认。")
    procedure.allowed(session, item, Act.reply_delivered, actor)
    procedure.apply(session, item, Act.reply_delivered, actor, at, how="人工答复")
    return item
