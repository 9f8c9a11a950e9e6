"""The commentator team's daily duty (SPEC §11): patrol check-ins (巡查 / 零报告) and guided-reply tasks (组织跟帖)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime


class PatrolState(StrEnum):
    """One commentator's check-in for one round of one day: owed, given, or missed at its due."""

    open = "open"
    done = "done"
    missed = "missed"


class Patrol(Base):
    """A check-in owed by one commentator for one round of one day (unique), and how it was met."""

    __tablename__ = "patrols"
    __table_args__ = (
        UniqueConstraint("userid", "day", "round"),
        Index("ix_patrols_state_due", "state", "due_at"),
        Index("ix_patrols_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    day: Mapped[str] = mapped_column(String(10))  # Beijing date, YYYY-MM-DD
    round: Mapped[int] = mapped_column(Integer, default=1)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[PatrolState] = mapped_column(StateText(PatrolState), default=PatrolState.open)
    reminded: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    how: Mapped[str | None] = mapped_column(String(16))  # zero (无异常) | report (an item reported that day)
    item_code: Mapped[str | None] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuidedState(StrEnum):
    """One commentator's part in a guided-reply task: owed, proved, declined with a reason, or missed."""

    open = "open"
    done = "done"
    declined = "declined"
    missed = "missed"


class GuidedTask(Base):
    """A guided-reply task (组织跟帖) the office set on an item: where to reply, the line to take, by when."""

    __tablename__ = "guided_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    line: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuidedAssignment(Base):
    """One commentator's part in a guided-reply task, with the proof (link and/or screenshot) or the reason."""

    __tablename__ = "guided_assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "userid"),
        Index("ix_guided_assignments_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("guided_tasks.id"), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[GuidedState] = mapped_column(StateText(GuidedState), default=GuidedState.open)
    warned: Mapped[bool] = mapped_column(default=False)
    proof_url: Mapped[str | None] = mapped_column(Text)
    proof_media: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    card_task_id: Mapped[str | None] = mapped_column(String(128))


class SensitivePeriod(Base):
    """A sensitive period (重要节点) the office declared: more patrols, new items a grade higher, its own first-report
    clock, and everyone told when it starts and ends."""

    __tablename__ = "sensitive_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatementState(StrEnum):
    """A version of the agreed public line (统一口径): awaiting 审核, 审定 (major items), confirmation by the bodies
    it concerns, approved (frozen), returned, or overtaken by a newer version."""

    pending = "pending"
    reviewed = "reviewed"
    confirming = "confirming"
    approved = "approved"
    returned = "returned"
    superseded = "superseded"


class Statement(Base):
    """One version of an item's public statement (信息发布 / 统一口径); approved versions are never edited."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    drafted_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[StatementState] = mapped_column(StateText(StatementState), default=StatementState.pending)
    deciders: Mapped[list[str]] = mapped_column(JSON, default=list)  # who may decide the current stage
    confirm_units: Mapped[list[int]] = mapped_column(JSON, default=list)  # other bodies it concerns (seed 001 第八条)
    confirmed_units: Mapped[list[int]] = mapped_column(JSON, default=list)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    published_where: Mapped[str | None] = mapped_column(String(128))
    published_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Brief(Base):
    """An upward report (舆情快报 / 专报) the office made from an item: approved on a card, sent upward (recorded)."""

    __tablename__ = "briefs"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # 快报 | 专报
    number: Mapped[str] = mapped_column(String(32))  # 快报〔2026〕第 3 期
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | returned
    requested_by: Mapped[str] = mapped_column(String(64))
    deciders: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stored_name: Mapped[str | None] = mapped_column(String(128))
    sent_to: Mapped[str | None] = mapped_column(Text)
    sent_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
