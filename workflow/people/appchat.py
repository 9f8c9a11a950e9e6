"""一事一群: a WeCom app group chat per major item that receives the item's timeline."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.clock import show
from models import AuditEvent, Grade, Item, OutboxMessage, Role
from models.events import Event
from models.item import PART_NAMES
from models.procedure import Act
from models.state import OutboxKind, OutboxState
from workflow.engine.audit import record
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render, timeline
from workflow.views.render import chunks

INTRO = (
    "本群自动同步处置进展（签收、报告、审批、会商、办结）。群里的发言只有群成员看得到，瞭望收不到："
    "报告、审批、申请延期等请在“瞭望”应用会话里发送命令或点卡片按钮。"
)
TIMELINE: dict[str, str] = {
    Act.dispatch: "定级交办",
    Act.acknowledge: "签收",
    Act.first_report: "首报",
    Act.progress_report: "续报",
    Act.written_report: "报送书面报告",
    Act.approve: "批准书面报告",
    Act.return_: "退回修改",
    Event.return_reason: "提出修改意见",
    Act.regrade: "调整等级",
    Act.opinion: "提出会商意见",
    Act.reply_source: "回复来源",
    Act.close: "办结",
    Act.rebound: "报告反弹",
    Act.evaluate: "总结评估",
    Event.clock_missed: "时限超时",
    Event.extension_decision: "审批延期",
    Act.handling_report: "报送处置情况",
}


def members(session: Session, item: Item) -> list[str]:
    """The people who follow the item in its group: the leading group and the general office. Those who work it
    (the office, the units' leads, their supervisors) get what they must act on directly (workflow/engine/notify.py)."""
    people = org.userids(org.with_role(session, Role.leader)) + org.userids(org.with_role(session, Role.general_office))
    return list(dict.fromkeys(people))


def ensure(session: Session, item: Item, at: datetime) -> str | None:
    """Create the group of a dispatched major item once (through the outbox); return its chat id."""
    if item.chat_id or item.grade != Grade.major or not item.units:
        return item.chat_id
    people = members(session, item)
    if len(people) < 2:
        return None
    item.chat_id = "yq" + re.sub(r"[^0-9A-Za-z]", "", item.code)[:30]
    name = f"{item.code} {item.title}"[:40]
    emit(
        session,
        [],
        {"chatid": item.chat_id, "name": name, "owner": people[0], "userlist": people},
        f"chat:{item.id}:create",
        at,
        item,
        kind=OutboxKind.appchat_create,
    )
    units = "、".join(f"{r.unit.name}（{PART_NAMES.get(r.part, r.part)}）" for r in item.units)
    post(
        session,
        item,
        f"【一事一群】{item.code}《{item.title}》\n等级：重大　承办：{units}\n{item.text[:300]}\n{INTRO}",
        at,
        "opened",
    )
    return item.chat_id


def post(session: Session, item: Item, text: str, at: datetime, key: str) -> None:
    """Queue one text message to the item's group chat, if it has one."""
    if not item.chat_id:
        return
    emit(
        session,
        [],
        {"chatid": item.chat_id, "msgtype": "text", "text": {"content": chunks(text)[0]}},
        f"chat:{item.id}:{key}",
        at,
        item,
        kind=OutboxKind.appchat,
    )


def on_event(session: Session, item: Item, ev: AuditEvent) -> None:
    """Post a timeline line for an audit event of an item that has a group."""
    what = TIMELINE.get(ev.action)
    if not item.chat_id or what is None:
        return
    n = timeline.names(session, item)
    what, extra = timeline.words(n, ev, what)
    line = f"{show(ev.at)} {n.person(ev.actor)} {what}" + (f"：{extra[:200]}" if extra else "")
    session.flush()
    post(session, item, line, ev.at, f"ev{ev.id}")


def give_up(session: Session, item_id: int, at: datetime) -> None:
    """WeCom refused the item's group (60011): forget the chat, drop its pending messages, tell the office once."""
    item = session.get(Item, item_id)
    if item is None or not item.chat_id:
        return
    chat_id, item.chat_id = item.chat_id, None
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.item_id == item.id,
            OutboxMessage.kind == OutboxKind.appchat,
            OutboxMessage.state.in_((OutboxState.pending, OutboxState.sending)),
        )
        .values(state=OutboxState.failed, last_error="group not created: 60011")
    )
    record(session, item, "system", Event.chat_refused, at, chat_id=chat_id, errcode=60011)
    office = org.userids(org.with_role(session, Role.office))
    emit(
        session,
        office,
        render.text(
            f"【一事一群未建立】{item.code} 的群聊被企业微信拒绝（60011：应用的可见范围不是全企业）。"
            "请在管理后台 → 应用管理 → 瞭望 → 可见范围 选择企业根部门；之后新的重大舆情会自动建群。"
            "本条的进展照常通过消息通知。"
        ),
        f"chat:{item.id}:refused",
        at,
        item,
    )
