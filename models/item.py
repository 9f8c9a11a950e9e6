"""Items (舆情条目): what was reported, its grade and state, its units, links and attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, StateText, UTCDateTime
from models.org import Person, Unit
from models.state import STATE_NAMES, ItemState, check_transition


class Grade(StrEnum):
    """The three grades of SPEC §3."""

    general = "general"
    significant = "significant"
    major = "major"


GRADE_NAMES = {Grade.general: "一般", Grade.significant: "较大", Grade.major: "重大"}
PART_NAMES = {"lead": "主办", "co": "协办", "cc": "抄送"}
FLOW_NAMES = {
    "local": "属地处置（县区局核实处置）",
    "bureau": "本级处置（责任处室办理）",
    "joint": "牵头协办（办公室指定牵头与协办单位）",
}
GRADE_WORDS = {
    "一般": Grade.general,
    "较大": Grade.significant,
    "重要": Grade.significant,
    "重大": Grade.major,
    "特别重大": Grade.major,
}

SOURCES = {
    "discovery": "主动发现",
    "disclosure": "依申请公开平台",
    "cac": "网信办交办",
    "official_account": "公众号",
    "message_board": "留言板",
    "media": "媒体报道",
}


class Item(Base):
    """One public-opinion item and where it stands."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="discovery")
    suggested_grade: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[ItemState] = mapped_column(StateText(ItemState, 32), default=ItemState.reported, index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flow: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(32))
    related_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))  # the archived item it recurs
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    reporter: Mapped[Person] = relationship()
    related: Mapped[Item | None] = relationship(remote_side=[id])
    units: Mapped[list[ItemUnit]] = relationship(back_populates="item", order_by="ItemUnit.id")
    links: Mapped[list[ItemLink]] = relationship(back_populates="item", order_by="ItemLink.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="item", order_by="Attachment.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_name(self) -> str:
        """The state in Chinese (the stored value if it is unknown)."""
        try:
            return STATE_NAMES[ItemState(self.state)]
        except (ValueError, KeyError):
            return self.state

    @property
    def lead(self) -> ItemUnit | None:
        """The lead unit's part in the item (主办), if it was dispatched."""
        return next((r for r in self.units if r.part == "lead"), None)

    def move_to(self, target: ItemState, at: datetime) -> tuple[str, str]:
        """Change state through the state machine; return (before, after) or raise IllegalTransition."""
        before = self.state
        self.state = check_transition(self.state, target)
        self.updated_at = at
        return before, self.state


class ItemUnit(Base):
    """A unit's part in an item: lead (主办) or co-handling (协办)."""

    __tablename__ = "item_units"
    __table_args__ = (UniqueConstraint("item_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    part: Mapped[str] = mapped_column(String(16), default="lead")
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    item: Mapped[Item] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class ItemLink(Base):
    """A link reported for an item; a repeat joins the item that has it, unless that item is archived (then a new
    item, linked to it, gets the link too): unique per item."""

    __tablename__ = "item_links"
    __table_args__ = (UniqueConstraint("item_id", "normalized", name="uq_item_links_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(512), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship(back_populates="links")


class Attachment(Base):
    """A screenshot, link card or file attached to an item (bytes fetched later by a job)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    media_id: Mapped[str | None] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(256))
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_name: Mapped[str | None] = mapped_column(String(128))
    content_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    fetch_error: Mapped[str | None] = mapped_column(String(200))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    original_name: Mapped[str | None] = mapped_column(String(256))

    item: Mapped[Item] = relationship(back_populates="attachments")


class DayCounter(Base):
    """The last sequence number handed out for a key: one local day (编号 YQ-YYYYMMDD-NNN), or a kind of upward
    report and its year (快报2026: 期号 快报〔2026〕第N期)."""

    __tablename__ = "day_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
