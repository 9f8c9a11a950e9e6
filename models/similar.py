"""The same event recognised (issue 25 item 4): each item's text signature, an index of its rarer character grams,
how many items hold each gram, and the office's decisions on pairs of items (suggested, merged, not the same)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime


class PairState(StrEnum):
    """What the office made of a suggested pair: still open, merged, or not the same event (never suggested again)."""

    open = "open"
    merged = "merged"
    dismissed = "dismissed"


class Signature(Base):
    """An item's character grams (space-separated), from its title and text: the compact signature it is scored by."""

    __tablename__ = "similar_signatures"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    grams: Mapped[str] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Posting(Base):
    """One of an item's two-character grams: the candidate lookup is an index query on gram."""

    __tablename__ = "similar_postings"
    __table_args__ = (Index("ix_similar_postings_item_id", "item_id"),)

    gram: Mapped[str] = mapped_column(String(8), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)


class GramCount(Base):
    """How many indexed items hold a gram (its document frequency: a rare gram says more than a common one)."""

    __tablename__ = "similar_grams"

    gram: Mapped[str] = mapped_column(String(8), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class SameEvent(Base):
    """A pair of items that may be the same event: item_id the later, other_id the earlier (which survives a merge)."""

    __tablename__ = "same_events"
    __table_args__ = (
        UniqueConstraint("item_id", "other_id", name="uq_same_events_item_id_other_id"),
        Index("ix_same_events_other_id", "other_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    score: Mapped[float | None] = mapped_column(Float)
    state: Mapped[PairState] = mapped_column(StateText(PairState, 16), default=PairState.open)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
