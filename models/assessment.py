"""Assessment (考核, SPEC §10): the facts the office records, disputes and bulletins (the rules: core.scoring).

Late reports (迟报) and handling not reported in 24 h (处置未报) are never stored:
workflow/appraisal/assessment.py derives them from the clocks each time, so a later waiver or extension is always
taken into account. What the office records (漏报, 瞒报, 处置不当) is a `Fact`; a unit's 申诉 is a `Dispute` naming
the fact by its key; neither is ever edited after its decision, and the audit log has every step.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime

DUTY_KINDS = ("未巡查", "未跟帖")  # the team's duty (SPEC §11): counted in every bulletin, 0 points unless a rule says
RECORDED_KINDS = ("漏报", "瞒报", "处置不当")  # the office records these; the others come from the clocks
ROLES = {"main": "主要责任", "indirect": "间接责任"}


class DisputeState(StrEnum):
    """A unit's dispute (申诉) of a fact: awaiting the office, or decided (the fact upheld or withdrawn)."""

    pending = "pending"
    upheld = "upheld"
    withdrawn = "withdrawn"


class Fact(Base):
    """A fact the office recorded against a unit (漏报, 瞒报, 处置不当), with its evidence and reason."""

    __tablename__ = "facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Dispute(Base):
    """A unit's dispute (申诉) of a fact, named by its key ("clock:<id>" derived, "fact:<id>" recorded)."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_fact_key", "fact_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fact_key: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[DisputeState] = mapped_column(StateText(DisputeState), default=DisputeState.pending)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Bulletin(Base):
    """A month's bulletin (月考核通报): the rules it was scored with, and when it was sent (once)."""

    __tablename__ = "bulletins"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sends: Mapped[int] = mapped_column(Integer, default=0)
