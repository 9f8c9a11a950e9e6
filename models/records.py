"""Append-only audit events, processed callbacks, outbox messages and sent cards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime
from models.state import CardPurpose, CardState, InboxState, OutboxKind, OutboxState, Subject


class AuditEvent(Base):
    """Who did what to which item, when, with before/after; never updated or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(String(64))
    after: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper: object, _conn: object, _target: object) -> None:
    raise AuditIsAppendOnly("audit events are append-only")


class ProcessedCallback(Base):
    """A received callback (the durable inbox): unique by MsgId or FromUserName+CreateTime+Event, handled by a job."""

    __tablename__ = "processed_callbacks"
    __table_args__ = (
        Index("ix_processed_callbacks_user_state", "userid", "state", "id"),
        Index("ix_processed_callbacks_state_received", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    userid: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[InboxState] = mapped_column(StateText(InboxState), default=InboxState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message to send through WeCom, written with the change that causes it; sent exactly once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
        Index("ix_outbox_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    touser: Mapped[str] = mapped_column(Text)
    sent_to: Mapped[str | None] = mapped_column(Text)  # the recipients fixed at the first attempt (retries reuse it)
    msgtype: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    card_task_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[OutboxKind] = mapped_column(StateText(OutboxKind), default=OutboxKind.send)
    state: Mapped[OutboxState] = mapped_column(StateText(OutboxState), default=OutboxState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    msgid: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Card(Base):
    """An interactive template card that was sent: its subject, purpose, intended recipients and outcome."""

    __tablename__ = "cards"
    __table_args__ = (Index("ix_cards_subject", "subject", "subject_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(128), unique=True)
    purpose: Mapped[CardPurpose] = mapped_column(StateText(CardPurpose, 32))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    subject: Mapped[Subject] = mapped_column(StateText(Subject, 16))  # what the card is about, with subject_id
    subject_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("clocks.id"), index=True)  # reminder/escalation cards
    due_round: Mapped[int | None] = mapped_column(Integer)  # 督办 cards: the clock's extensions when it was sent
    recipients: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[CardState] = mapped_column(StateText(CardState), default=CardState.open)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_code: Mapped[str | None] = mapped_column(String(256))


class HeldMessage(Base):
    """A message a person would have got over their per-minute budget; merged into one digest later."""

    __tablename__ = "held_messages"
    __table_args__ = (Index("ix_held_messages_user_digest", "userid", "digest_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class Conversation(Base):
    """One person's multi-step chat state (a report draft, a reason being typed), gone after expires_at."""

    __tablename__ = "conversations"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxLease(Base):
    """Which consumer works on a person's inbox now: taken when free or expired; fence grows with every taking."""

    __tablename__ = "inbox_leases"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    fence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
