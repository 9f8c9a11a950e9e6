"""Evidence captured on arrival (网页取证): one capture per link of an item, and the files it kept (PNG, HTML, PDF)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime


class CaptureState(StrEnum):
    """Where a capture stands: waiting (or waiting to be tried again), kept, or given up with a reason."""

    pending = "pending"
    stored = "stored"
    failed = "failed"


class EvidenceKind(StrEnum):
    """The files a capture keeps, in the order they are shown."""

    png = "png"
    html = "html"
    pdf = "pdf"


KIND_NAMES = {EvidenceKind.png: "整页截图", EvidenceKind.html: "网页源码", EvidenceKind.pdf: "PDF"}


class Capture(Base):
    """The capture of one link of an item: its state, attempts, when it was fetched and what the page said."""

    __tablename__ = "evidence_captures"
    __table_args__ = (UniqueConstraint("item_id", "link_id", name="uq_evidence_captures_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("item_links.id"))
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True, default=CaptureState.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_url: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    page_title: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(200))

    files: Mapped[list[CaptureFile]] = relationship(back_populates="capture", order_by="CaptureFile.id")


class CaptureFile(Base):
    """One kept file of a capture, stored by content (core.storage) with its sha256 and the time it was fetched."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("capture_id", "kind", name="uq_evidence_files_capture_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("evidence_captures.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)

    capture: Mapped[Capture] = relationship(back_populates="files")
