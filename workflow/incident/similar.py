"""The same event recognised (issue 25 item 4): when an item arrives, open items with similar title and text are
suggested to the office on a card (合并 / 不是同一事件).

The text is cut into character grams (models.similar.grams: single characters and pairs, after links and the words
every post uses — 网友、视频、发帖 … — are dropped). Each item's grams are its signature (`similar_signatures`); its
two-character grams are also in an index (`similar_postings`, gram → item) and each gram's count of items
(`similar_grams`) weighs it: a gram few items share says more than a common one (idf). A new item's rarer grams
find the candidates by an index query; each candidate is scored by the cosine of the weighted gram sets; those at
or above the bar (threshold()) that may still be merged and were not dismissed before are suggested.
bench/similar.py measures precision, recall and the time over 10,000 open items on the labelled pairs in
tests/data/.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import GramCount, Item, PairState, Posting, Role, SameEvent, Signature
from models.codes import card_key
from models.events import Event
from models.procedure import Act
from models.similar import TOTAL as TOTAL
from models.similar import grams as grams
from models.state import CardPurpose
from workflow.engine import procedure
from workflow.engine.audit import record
from workflow.engine.cards import new_card
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

THRESHOLD = 0.22  # the cosine at or above which two items are suggested (bench/similar.py: precision ≥ 0.9)
YOUNG = 0.08  # how much higher the bar is while few items are indexed (threshold())
SETTLED = 300  # from this many indexed items on, the gram counts weigh well and the bar is THRESHOLD
MOST = 3  # suggestions per new item at most
RARE = 64  # the rarest two-character grams of a new item that look for candidates
CANDIDATES = 40  # candidates scored at most (those sharing the most rare grams)
COMMON = 0.01  # a gram held by more than this share of items finds no candidates (too common to say anything)


def weight(items: int, holding: int) -> float:
    """Return the weight (idf) of a gram held by `holding` of `items` indexed items."""
    return math.log((items + 1) / (holding + 1)) + 1.0


def cosine(a: set[str], b: set[str], counts: dict[str, int], items: int) -> float:
    """Return the cosine of two gram sets, each gram's component the square root of its idf (counts: items holding
    each gram; the root keeps shared common words from drowning and rare ones from ruling: bench/similar.py)."""
    if not a or not b:
        return 0.0
    w = {g: weight(items, counts.get(g, 0)) for g in a | b}
    dot = sum(w[g] for g in a & b)
    return dot / math.sqrt(sum(w[g] for g in a) * sum(w[g] for g in b))


def _upsert_counts(session: Session, found: Iterable[str], step: int) -> None:
    rows = [{"gram": g, "items": max(step, 0)} for g in sorted(found)]
    if not rows:
        return
    upsert = pg_insert if session.bind and session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(GramCount).on_conflict_do_update(index_elements=["gram"], set_={"items": GramCount.items + step})
    session.execute(stmt, rows)


def index(session: Session, item: Item, at: datetime) -> set[str]:
    """Store item's signature, its two-character grams in the index and the gram counts (once); return its grams."""
    found = grams(item.title, item.text)
    if session.get(Signature, item.id) is not None:
        return found
    session.add(Signature(item_id=item.id, grams=" ".join(sorted(found)), indexed_at=at))
    pairs = [{"gram": g, "item_id": item.id} for g in sorted(found) if len(g) == 2]
    if pairs:
        session.execute(insert(Posting), pairs)
    _upsert_counts(session, found | {TOTAL}, 1)
    session.flush()
    return found


@dataclass(frozen=True)
class Match:
    """An open item that may be the same event, and how alike the two are (0–1)."""

    item: Item
    score: float


def threshold(items: int) -> float:
    """Return the score at or above which two items are suggested when `items` items are indexed: with few items
    the weights say little (every gram is rare), so the bar starts higher and settles at THRESHOLD by SETTLED items."""
    return THRESHOLD + YOUNG * max(0.0, 1.0 - items / SETTLED)


def score(session: Session, a: Item, b: Item) -> float:
    """Return how alike two indexed items are (0–1), weighted by the gram counts now."""
    rows = session.execute(select(Signature.item_id, Signature.grams).where(Signature.item_id.in_([a.id, b.id])))
    sigs = {i: g for i, g in rows}
    ga, gb = set(sigs.get(a.id, "").split()), set(sigs.get(b.id, "").split())
    counts = _counts(session, ga | gb | {TOTAL})
    return cosine(ga, gb, counts, counts.pop(TOTAL, 0))


COUNTS = select(GramCount.gram, GramCount.items).where(GramCount.gram.in_(bindparam("grams", expanding=True)))


def _counts(session: Session, wanted: Iterable[str]) -> dict[str, int]:
    """How many indexed items hold each wanted gram (TOTAL: how many are indexed), absent ones left out."""
    keys = sorted(set(wanted))
    out: dict[str, int] = {}
    for i in range(0, len(keys), 900):  # under every database's limit of bound parameters
        out.update({gram: held for gram, held in session.execute(COUNTS, {"grams": keys[i : i + 900]})})
    return out


def _dismissed(session: Session, item_id: int, others: list[int]) -> set[int]:
    """The items among others the office said are not the same event as item_id (either way round)."""
    pair = or_(
        (SameEvent.item_id == item_id) & SameEvent.other_id.in_(others),
        (SameEvent.other_id == item_id) & SameEvent.item_id.in_(others),
    )
    rows = session.execute(
        select(SameEvent.item_id, SameEvent.other_id).where(pair, SameEvent.state == PairState.dismissed)
    )
    return {b if a == item_id else a for a, b in rows}


def similar(session: Session, item: Item, found: set[str] | None = None, most: int = MOST) -> list[Match]:
    """Return the open items that may be the same event as item, most alike first (at most `most`)."""
    mine = found if found is not None else grams(item.title, item.text)
    counts = _counts(session, mine | {TOTAL})
    items = counts.pop(TOTAL, 0)
    cap = max(3, int(items * COMMON))
    rare = sorted((g for g in mine if len(g) == 2 and 0 < counts.get(g, 0) <= cap), key=lambda g: counts[g])[:RARE]
    if not rare:
        return []
    ranked: dict[int, float] = {}
    for gram, other in session.execute(
        select(Posting.gram, Posting.item_id).where(Posting.gram.in_(rare), Posting.item_id != item.id)
    ):
        ranked[other] = ranked.get(other, 0.0) + weight(items, counts[gram])
    floor = 2 * weight(items, cap)  # two rare grams shared at least
    ids = sorted((i for i, w in ranked.items() if w >= floor), key=lambda i: (-ranked[i], i))[:CANDIDATES]
    if not ids:
        return []
    rows = session.execute(select(Signature.item_id, Signature.grams).where(Signature.item_id.in_(ids)))
    theirs = {i: set(g.split()) for i, g in rows}
    counts |= _counts(session, set().union(*theirs.values()) - counts.keys() - {TOTAL})
    scored = [(i, cosine(mine, g, counts, items)) for i, g in theirs.items()]
    bar = threshold(items)
    good = {i: s for i, s in scored if s >= bar}
    if not good:
        return []
    skip = _dismissed(session, item.id, list(good))
    found_items = session.scalars(select(Item).where(Item.id.in_([i for i in good if i not in skip])))
    live = [Match(o, round(good[o.id], 3)) for o in found_items if procedure.allows(o, Act.merge)]
    return sorted(live, key=lambda m: (-m.score, m.item.id))[:most]


def on_new_item(session: Session, item: Item, at: datetime) -> list[SameEvent]:
    """Index a new item and suggest to the office the open items that may be the same event (a card each)."""
    found = index(session, item, at)
    made = []
    for match in similar(session, item, found):
        earlier, later = sorted((match.item, item), key=lambda i: (i.reported_at, i.id))
        if session.scalar(select(SameEvent.id).where(SameEvent.item_id == later.id, SameEvent.other_id == earlier.id)):
            continue
        pair = SameEvent(item_id=later.id, other_id=earlier.id, score=match.score, state=PairState.open, created_at=at)
        session.add(pair)
        session.flush()
        record(
            session, later, "system", Event.same_event_suggested, at, other=earlier.code, score=match.score,
            note=f"可能与 {earlier.code}《{earlier.title}》为同一事件",
        )  # fmt: skip
        _card(session, pair, later, earlier, at)
        made.append(pair)
    return made


def suggestion_text(later: Item, earlier: Item) -> str:
    """The office's sentence for a suggested pair: both titles, which one stays, what to send."""
    return (
        f"{later.code}《{later.title}》可能与 {earlier.code}《{earlier.title}》为同一事件。"
        f"合并后保留较早的 {earlier.code}，{later.code} 的上报人、链接、截图和书面报告并入它。"
        f"也可发送“合并 {later.code} {earlier.code}”或“不是同一事件 {later.code} {earlier.code}”。"
    )


def _card(session: Session, pair: SameEvent, later: Item, earlier: Item, at: datetime) -> None:
    office = org.userids(org.with_role(session, Role.office)) or org.office_or_leaders(session)
    task_id = f"same-{pair.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.same_event, task_id, later.id, office, at, about=pair.id)
    body = render.button_card(
        "瞭望 · 同一事件",
        f"可能与 {earlier.code} 为同一事件",
        later.code,
        f"是同一事件请点“合并”（保留较早上报的 {earlier.code}），否则点“不是同一事件”。",
        [("新条目", later.code), ("标题", later.title), ("在办条目", earlier.code), ("标题", earlier.title)],
        task_id,
        [("合并", card_key("same", pair.id, "join"), 1), ("不是同一事件", card_key("same", pair.id, "no"), 2)],
        content=suggestion_text(later, earlier),
    )
    emit(session, office, body, f"card:{task_id}", at, later, task_id=task_id)
