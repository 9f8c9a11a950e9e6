"""Interactive cards: record one as sent (with its subject and purpose), find them by subject, close them for all
their recipients once a decision is taken (update_template_card). Which step closes which card is declared on the
action rows of models/procedure.py (`closes`); workflow.engine.procedure.apply calls `close` for them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from models import Card, Item
from models.procedure import CARDS
from models.state import CardPurpose, CardState, OutboxKind, Subject
from workflow.engine.outbox import emit
from workflow.views import render


def new_card(
    session: Session,
    purpose: CardPurpose,
    task_id: str,
    item_id: int,
    recipients: list[str],
    at: datetime,
    unit_id: int | None = None,
    clock_id: int | None = None,
    about: int | None = None,
    due_round: int | None = None,
) -> Card:
    """Record an interactive card about to be sent: open, for these recipients, about its purpose's subject (about:
    its id; the item, the unit and the clock are taken from item_id, unit_id and clock_id; due_round: which due of
    the clock a 督办 card is about); `close` closes it."""
    subject = CARDS[purpose].subject
    ident = (
        about if about is not None else {Subject.item: item_id, Subject.unit: unit_id, Subject.clock: clock_id}[subject]
    )
    if ident is None:
        raise ValueError(f"a {purpose} card needs the id of its {subject}")
    card = Card(
        task_id=task_id,
        purpose=purpose,
        item_id=item_id,
        subject=subject,
        subject_id=ident,
        unit_id=unit_id,
        clock_id=clock_id,
        due_round=due_round,
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
                kind=OutboxKind.update_card,
                task_id=card.task_id,
            )


def about(
    session: Session, item_id: int, purpose: CardPurpose, subject_id: int | None = None, open_only: bool = False
) -> list[Card]:
    """Return item's cards of purpose about subject_id (None: about the item itself, for item-subject cards; any
    subject of that purpose otherwise), oldest first."""
    spec = CARDS[purpose]
    stmt = select(Card).where(Card.item_id == item_id, Card.purpose == purpose, Card.subject == spec.subject)
    if subject_id is not None:
        stmt = stmt.where(Card.subject_id == subject_id)
    elif spec.subject == Subject.item:
        stmt = stmt.where(Card.subject_id == item_id)
    if open_only:
        stmt = stmt.where(Card.state == CardState.open)
    return list(session.scalars(stmt.order_by(Card.id)))


def close(
    session: Session,
    item: Item,
    purpose: CardPurpose,
    subject_id: int | None,
    label: str,
    actor: str,
    at: datetime,
    clicked: tuple[str, str] | None = None,
    recipients: set[str] | None = None,
) -> list[Card]:
    """Close item's open cards of purpose about subject_id (recipients: only those sent to one of them), showing
    label on each (a quiet purpose keeps its buttons); return them. The clicked card uses the click's code."""
    found = about(session, item.id, purpose, subject_id, open_only=clicked is None)
    found = [
        c
        for c in found
        if (c.state == CardState.open or (clicked and c.task_id == clicked[0]))
        and (recipients is None or set(c.recipients) & recipients)
    ]
    if CARDS[purpose].quiet:
        for card in found:
            card.state, card.decided_by, card.decided_at = CardState.done, actor, at
        return found
    finish_cards(session, item, found, label, actor, at, None, clicked)
    return found


def pressed(
    session: Session, purposes: Iterable[CardPurpose], subject_id: int, task_id: str, presser: str | None = None
) -> Card | None:
    """Return the card of one of purposes about subject_id that was pressed (the click names it by its task id),
    sent to presser when given; None when no such card is on record (or it was not sent to presser)."""
    for purpose in purposes:
        stmt = select(Card).where(
            Card.purpose == purpose,
            Card.subject == CARDS[purpose].subject,
            Card.subject_id == subject_id,
            Card.task_id == task_id,
        )
        card = session.scalar(stmt)
        if card is not None and (presser is None or presser in card.recipients):
            return card
    return None


def mark_pressed(
    session: Session,
    item: Item | None,
    purposes: Iterable[CardPurpose],
    subject_id: int,
    clicked: tuple[str, str] | None,
    presser: str,
    label: str,
    at: datetime,
    agent_id: int | None,
) -> Card | None:
    """Mark the pressed card (one of purposes about subject_id) done with label for every recipient, using the
    click's response code; return it (None: not on record). Nothing is sent without a response code."""
    card = pressed(session, purposes, subject_id, clicked[0]) if clicked else None
    if card is not None:
        finish_cards(session, item, [card], label, presser, at, agent_id, clicked)
    return card


def mark_for_presser(
    session: Session,
    item: Item | None,
    clicked: tuple[str, str] | None,
    presser: str,
    label: str,
    at: datetime,
    agent_id: int | None,
) -> None:
    """Replace the pressed card's buttons with label for presser only (a card that asks each recipient: 会商,
    口径确认, 跟帖, 巡查), using the click's response code; nothing without one."""
    if clicked is None:
        return
    task_id, code = clicked
    emit(
        session,
        [],
        render.card_done(code, [presser], agent_id, stamped(label, at)),
        f"update:{task_id}:{code}",
        at,
        item,
        kind=OutboxKind.update_card,
        task_id=task_id,
    )
