"""Clocks (时限): one row per deadline an item owes, with its thresholds; fired thresholds are unique rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime
from models.codes import Threshold
from models.state import OPEN_CLOCK_STATES, ClockState, ExtensionState

OPEN_STATES = OPEN_CLOCK_STATES


class Clock(Base):
    """A deadline: who owes which step of which item, by when; `next_at` is its next unfired threshold."""

    __tablename__ = "clocks"
    __table_args__ = (
        Index("ix_clocks_state_next", "state", "next_at"),
        Index("ix_clocks_state_due", "state", "due_at"),  # the month's late reports (assessment)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a row of the clock table (models/clocktable.py)
    label: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))  # the first action that meets it, as started (informative only)
    owner: Mapped[str] = mapped_column(String(16))  # models.clocktable.Owner
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    grade: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    aim_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudge_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cap_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[ClockState] = mapped_column(StateText(ClockState), default=ClockState.open)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer, default=0)
    next_name: Mapped[str | None] = mapped_column(String(16))
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    charged: Mapped[str | None] = mapped_column(String(16))  # who a miss counts against when not the owner ("office")

    def thresholds(self) -> list[tuple[str, datetime]]:
        """Return every threshold of this clock in order: nudge, warn, due (level 1), then levels 2…max.

        Escalation counts from the miss: the due time, or the moment a clock started already overdue.
        """
        p, ext = self.policy, self.extensions  # an extension re-arms warning, due and levels
        out = [
            (Threshold("nudge").name, self.nudge_at),
            (Threshold("warn", 0, ext).name, self.warn_at),
            (Threshold("due", 0, ext).name, self.due_at),
        ]
        base = max(self.due_at, self.missed_at) if self.missed_at else self.due_at
        at = base + timedelta(seconds=float(p["escalate_after"]))
        for level in range(2, int(p["escalate_max"]) + 1):
            out.append((Threshold("level", level, ext).name, at))
            at += timedelta(seconds=float(p["escalate_every"]))
        return out

    def advance(self, fired: set[str]) -> None:
        """Point next_name/next_at at the first threshold not in fired (None when all are done or closed)."""
        if self.state not in OPEN_STATES:
            self.next_name, self.next_at = None, None
            return
        pending = [(n, t) for n, t in self.thresholds() if n not in fired]
        self.next_name, self.next_at = pending[0] if pending else (None, None)


class ClockFiring(Base):
    """A threshold that fired: unique per clock and threshold, so a replayed job changes nothing."""

    __tablename__ = "clock_firings"
    __table_args__ = (UniqueConstraint("clock_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clocks.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Extension(Base):
    """A request to extend a clock (申请延期), decided by the unit's supervisor on a card."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clocks.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[ExtensionState] = mapped_column(StateText(ExtensionState), default=ExtensionState.pending)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_id: Mapped[str | None] = mapped_column(String(128))
