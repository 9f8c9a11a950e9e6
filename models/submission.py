"""Written reports (书面报告) as versioned submissions, opinions (会商意见) and follow-up watches (善后)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StateText, UTCDateTime
from models.item import Attachment
from models.org import Person, Unit
from models.state import SubmissionState, WatchState


class Submission(Base):
    """One version of a unit's written report: text plus attachments; the lead unit's versions await approval."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("item_id", "unit_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    part: Mapped[str] = mapped_column(String(16), default="lead")
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16), default="chat")
    state: Mapped[SubmissionState] = mapped_column(StateText(SubmissionState), default=SubmissionState.pending)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[Person] = relationship()
    unit: Mapped[Unit] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin="Submission.id == foreign(Attachment.submission_id)", order_by="Attachment.id", viewonly=True
    )


class Opinion(Base):
    """A consulted party's opinion (会商意见) on an item before the reply to the source goes out."""

    __tablename__ = "opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    agree: Mapped[bool] = mapped_column(default=True)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Watch(Base):
    """The follow-up watch (善后观察) after closing: periodic check-ins until `until`, ended by calm or a rebound."""

    __tablename__ = "watches"
    __table_args__ = (Index("ix_watches_state_next", "state", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    every_seconds: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[WatchState] = mapped_column(StateText(WatchState), default=WatchState.watching)
