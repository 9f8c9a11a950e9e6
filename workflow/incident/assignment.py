"""A unit's acknowledgement of its part in an item (签收), however it comes: the button, the text or a report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Item, ItemUnit, Person
from models.procedure import Act
from workflow.engine import procedure


def mark_acknowledged(
    session: Session,
    item: Item,
    row: ItemUnit,
    actor: Person,
    at: datetime,
    clicked: tuple[str, str] | None = None,
    **detail: Any,
) -> bool:
    """Record row as acknowledged by actor (the lead's moves the item on; the unit's 签收 cards close, the clicked
    one with the click's code); False if it already was."""
    if row.acknowledged_at is not None:
        return False
    row.acknowledged_at, row.acknowledged_by = at, actor.id
    procedure.apply(
        session,
        item,
        Act.acknowledge,
        actor,
        at,
        advance=row.part == "lead",
        about=row.unit_id,
        clicked=clicked,
        unit=row.unit.key,
        **detail,
    )
    return True
