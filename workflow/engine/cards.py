"""Close interactive cards for all their recipients once a decision is taken (update_template_card)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from core.clock import show
from models import Card, Item
from models.state import CardState
from workflow.engine.outbox import emit
from workflow.views import render


def new_card(
    session: Session,
    purpose: str,
    task_id: str,
    item_id: int,
    recipients: list[str],
    at: datetime,
    unit_id: int | None = None,
    clock_id: int | None = None,
) -> Card:
    """Record an interactive card about to be sent: open, for these recipients; finish_cards closes it."""
    card = Card(
        task_id=task_id,
        purpose=purpose,
        item_id=item_id,
        unit_id=unit_id,
        clock_id=clock_id,
        recipients=list(recipients),
        state=CardState.open,
        created_at=at,
    )
    session.add(card)
    return card


def stamped(label: str, at: datetime) -> str:
    """Return a decided card's label with the decision's Beijing time ("王五 已同意 16:21"), added once."""
    when = show(at)
    return label if when in label else f"{label} {when}"


def finish_cards(
    session: Session,
    item: Item | None,
    cards: Iterable[Card],
    label: str,
    actor: str,
    at: datetime,
    agent_id: int | None,
    clicked: tuple[str, str] | None = None,
) -> None:
    """Mark cards done and replace their buttons with label (stamped with the time at) for every recipient.

    clicked: (task_id, response_code) of the click being answered, whose code is used for that card; the others use
    the response code of their send (each code works once, so a card already updated is left alone).
    """
    for card in cards:
        code = clicked[1] if clicked and clicked[0] == card.task_id else None
        if code is None and card.state == CardState.open:
            code = card.response_code
        if card.state == CardState.open:
            card.state, card.decided_by, card.decided_at = CardState.done, actor, at
        if code:
            emit(
                session,
                [],
                render.card_done(code, card.recipients, agent_id, stamped(label, at)),
                f"update:{card.task_id}:{code}",
                at,
                item,
                kind="update_card",
                task_id=card.task_id,
            )
