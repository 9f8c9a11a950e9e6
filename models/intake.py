"""What the intake API received: one row per (source, the source's own id), so a repeated push is recognised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

SYSTEM_PREFIX = "intake:"  # a pushing source's reporter identity; ":" is not allowed in a WeCom userid


def source_userid(key: str) -> str:
    """The userid of the system person that stands for intake source key as an item's reporter."""
    return SYSTEM_PREFIX + key


def is_system(userid: str) -> bool:
    """True if userid stands for a pushing system, never a WeCom member (nothing is ever sent to it)."""
    return userid.startswith(SYSTEM_PREFIX)


class IntakeReceipt(Base):
    """A push accepted from a source: the source's id for it and the item it became or joined."""

    __tablename__ = "intake_receipts"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_intake_receipts_source_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    created: Mapped[bool]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
