"""Acknowledge an assignment (签收), by card button or by text; tell the office and the reporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Item, ItemUnit, Person, Role
from models.procedure import Act
from models.state import CardPurpose
from workflow.engine import cards, procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.incident.assignment import mark_acknowledged
from workflow.incident.submission import offer_upload
from workflow.people import org
from workflow.views import render


@dataclass
class AckResult:
    """What happened: the item, the unit's assignment, and whether it was already acknowledged."""

    item: Item
    assignment: ItemUnit
    already: bool
    by_name: str


def _assignment_for(session: Session, item: Item, actor: Person, unit_key: str | None) -> ItemUnit:
    rows = list(
        session.scalars(
            select(ItemUnit).where(ItemUnit.item_id == item.id, ItemUnit.part != "cc").order_by(ItemUnit.id)
        )
    )
    if not rows:
        raise Refusal(f"{item.code} 还没有交办，暂时不能签收。")
    if unit_key is not None:
        rows = [r for r in rows if r.unit.key == unit_key]
    procedure.permit(session, item, Act.acknowledge, actor)
    mine = [r for r in rows if r.unit_id == actor.unit_id]
    if not mine:
        raise Refusal(f"这张签收卡片是发给{rows[0].unit.name if rows else '其他单位'}的，您所在单位不是它的承办单位。")
    return mine[0]


def acknowledge(
    session: Session,
    actor: Person,
    code: str,
    at: datetime,
    unit_key: str | None = None,
    config: Config | None = None,
    clicked: tuple[str, str] | None = None,
) -> AckResult:
    """Record actor's unit's 签收 of item code (its 签收 cards close; clicked: the card pressed); a repeat is reported
    as already done, changing nothing but the pressed card's button."""
    item = find_item(session, code)
    row = _assignment_for(session, item, actor, unit_key)
    if row.acknowledged_at is not None:
        who = session.get(Person, row.acknowledged_by)
        if clicked is not None and who is not None:  # the pressed card shows who signed, and when
            label = f"{who.name} 已签收 {show(row.acknowledged_at)}"
            cards.close(session, item, CardPurpose.ack, row.unit_id, label, who.userid, at, clicked)
        return AckResult(item, row, True, who.name if who else "")
    mark_acknowledged(session, item, row, actor, at, clicked)
    _tell(session, item, row, actor, at)
    if config is not None and row.part == "lead":  # only the lead unit owes the written report (协办 may contribute)
        offer_upload(session, item, row.unit, at, config)
    return AckResult(item, row, False, actor.name)


def _tell(session: Session, item: Item, row: ItemUnit, actor: Person, at: datetime) -> None:
    msg = f"【已签收】{item.code}《{item.title}》\n{row.unit.name} {actor.name} 于 {show(at)} 签收。"
    if row.part != "lead":  # the office and the reporter follow the lead unit's 签收 (the item's step); a
        return  # co-handler's is on the item's record and in its group
    office = org.userids(org.with_role(session, Role.office))
    step = f"ack:{item.code}:{row.unit_id}"
    tell(session, item, f"{step}:office", at, render.text(msg), followers=office, step=step)
    tell(
        session,
        item,
        f"{step}:reporter",
        at,
        render.text(f"您上报的 {item.code} 已由{row.unit.name}签收，正在处置。"),
        followers=[item.reporter.userid],
        step=step,
    )
