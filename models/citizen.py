"""What citizens sent through the bureau's 公众号: one row per message (WeChat's MsgId), so a retry is recognised.

The openid is kept here only: items, cards and exports never carry it (docs/intake.md, 公众号).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class CitizenMessage(Base):
    """One message a citizen sent: WeChat's id for it, who sent it, the item it became or joined, what we answered."""

    __tablename__ = "mp_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)  # MsgId, or "<openid>:<CreateTime>:<Event>" (events)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # WeChat's MsgType (text, image, link, event …)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(Text, default="")  # the passive reply, answered again to a retry
