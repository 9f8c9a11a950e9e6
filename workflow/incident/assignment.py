"""A unit's acknowledgement of its part in an item (签收), however it comes: the button, the text or a report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from models import Card, Item, ItemUnit, Person
from models.state import CardState
from workflow.engine import procedure
from workflow.engine.cards import finish_cards


def mark_acknowledged(session: Session, item: Item, row: ItemUnit, actor: Person, at: datetime, **detail: Any) -> bool:
    """Record row as acknowledged by actor (the lead's moves the item on); False if it already was."""
    if row.acknowledged_at is not None:
        return False
    row.acknowledged_at, row.acknowledged_by = at, actor.id
    procedure.take(
        session, item, "acknowledge", actor.userid, at, advance=row.part == "lead", unit=row.unit.key, **detail
    )
    if detail.get("implied_by"):  # a report implied the 签收: the unit's 签收 cards stop offering the button
        cards = session.scalars(
            select(Card).where(
                Card.item_id == item.id,
                Card.unit_id == row.unit_id,
                Card.purpose == "ack",
                Card.state == CardState.open,
            )
        )
        finish_cards(session, item, cards, f"{actor.name} 已签收 {show(at)}", actor.userid, at, None)
    return True
