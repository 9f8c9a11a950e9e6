"""The same event recognised (issue 25 item 4): each item's text signature, an index of its rarer character grams,
how many items hold each gram, and the office's decisions on pairs of items (suggested, merged, not the same)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StateText, UTCDateTime

TEXT_LIMIT = 600  # characters of title + text that make the signature
TOTAL = ""  # the gram-count row that counts the indexed items themselves (no gram is empty)
LINK = re.compile(r"https?://[^\s<>\"'，。；、）)】]+", re.IGNORECASE)  # workflow.incident.links.URL_RE (a test checks)
# words any post carries, whatever the event: the platform, the genre, the verbs of telling
NOISE = re.compile(
    "网友|网民|视频|发帖|反映|微博|抖音|快手|小红书|头条|贴吧|留言|市民|群众|显示|报道|本地|媒体|热线|12345|论坛|"
    "截图|流传|微信群|微信|公众号|爆料|发布|用户|有人|据|称|吐槽|求扩|求助|网传|消息|情况|相关|目前|表示"
)
NOT_WORD = re.compile(r"[^\w]+")


def grams(title: str, text: str) -> set[str]:
    """Return the character grams (single characters and pairs) of an item's title and text, links and noise out."""
    plain = NOISE.sub(" ", LINK.sub(" ", f"{title} {text}")[:TEXT_LIMIT]).lower()
    out: set[str] = set()
    for run in NOT_WORD.sub(" ", plain).split():
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


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


def rebuild(conn: Connection, states: list[str], at: datetime) -> int:
    """Index every item in states that has no signature yet (migration 0020: the items open when it runs); return
    how many were indexed."""
    done = select(Signature.item_id)
    from models.item import Item  # the item table, beside this module's

    rows = conn.execute(select(Item.id, Item.title, Item.text).where(Item.state.in_(states), Item.id.not_in(done)))
    counts: dict[str, int] = {}
    n = 0
    for item_id, title, text in rows.all():
        found = grams(title, text)
        conn.execute(insert(Signature), [{"item_id": item_id, "grams": " ".join(sorted(found)), "indexed_at": at}])
        pairs = [{"gram": g, "item_id": item_id} for g in sorted(found) if len(g) == 2]
        if pairs:
            conn.execute(insert(Posting), pairs)
        for g in found | {TOTAL}:
            counts[g] = counts.get(g, 0) + 1
        n += 1
    if counts:
        conn.execute(insert(GramCount), [{"gram": g, "items": c} for g, c in sorted(counts.items())])
    return n
