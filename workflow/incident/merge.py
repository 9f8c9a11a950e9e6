"""Merge two items of the same event (合并), or say they are not (不是同一事件): the office's answer to a suggestion
(workflow.incident.similar) or its own command.

The earlier item survives (reported first; the first finder keeps the credit). The later one's reporter is recorded
on it as a repeat report (重复上报（已合并）, as for a repeated link), its links, screenshots and files and its units'
written reports move to it, and the later item becomes a read-only pointer (state 已并入同一事件的另一条目): its
clocks still owed end as merged — waived, never missed, no deduction (the clock table's ON_ALL) — and its open
cards close. Both steps go through workflow.engine.procedure.apply (合并同一事件 on the later item, 并入同一事件的条目
on the earlier). Everyone involved is told. A dismissed pair is remembered and never suggested again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Attachment, Capture, Card, Item, ItemLink, PairState, Person, Role, SameEvent, Submission
from models.intake import is_system
from models.procedure import ACTIONS, Act
from models.state import CardState
from workflow.engine import procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.people import org
from workflow.views import render


@dataclass(frozen=True)
class Merged:
    """The item that stays, the one merged into it, and what moved."""

    survivor: Item
    merged: Item
    links: int
    files: int
    reports: int
    to_dispatch: bool = False  # the merged item was dispatched, the one kept not yet: the office should dispatch it

    def next_step(self) -> str:
        """What the office should do next, when anything ("" otherwise)."""
        code = self.survivor.code
        return f"{code} 还没有交办，请发送“交办 {code} <单位>”。" if self.to_dispatch else ""


def _ordered(a: Item, b: Item) -> tuple[Item, Item]:
    """(earlier, later): the earlier reported survives."""
    earlier, later = sorted((a, b), key=lambda i: (i.reported_at, i.id))
    return earlier, later


def pair_of(session: Session, pair_id: int) -> tuple[SameEvent, Item, Item]:
    """Return a suggested pair and its (earlier, later) items, or refuse."""
    pair = session.get(SameEvent, pair_id)
    if pair is None:
        raise Refusal("这条同一事件的提示不存在了。")
    return pair, session.get_one(Item, pair.other_id), session.get_one(Item, pair.item_id)


def _pair(session: Session, earlier: Item, later: Item, at: datetime) -> SameEvent:
    """The pair's row (made now when the office merges or dismisses two items nobody suggested)."""
    pair = session.scalar(select(SameEvent).where(SameEvent.item_id == later.id, SameEvent.other_id == earlier.id))
    if pair is None:
        pair = SameEvent(item_id=later.id, other_id=earlier.id, score=None, state=PairState.open, created_at=at)
        session.add(pair)
        session.flush()
    return pair


def two_items(session: Session, first: str, second: str) -> tuple[Item, Item]:
    """Return (earlier, later) for two 编号, or refuse (the same one twice)."""
    a, b = find_item(session, first), find_item(session, second)
    if a.id == b.id:
        raise Refusal(f"两个编号相同（{a.code}），请发送两条不同条目的编号。")
    return _ordered(a, b)


def merge_codes(session: Session, actor: Person, first: str, second: str, at: datetime) -> Merged:
    """`合并 <编号> <编号>`: merge the later of the two items into the earlier."""
    earlier, later = two_items(session, first, second)
    return merge(session, actor, earlier, later, at)


def merge_pair(session: Session, actor: Person, pair_id: int, at: datetime, clicked: tuple[str, str] | None) -> Merged:
    """The 合并 button of a suggestion card."""
    _pair_row, earlier, later = pair_of(session, pair_id)
    return merge(session, actor, earlier, later, at, clicked)


def merge(
    session: Session, actor: Person, earlier: Item, later: Item, at: datetime, clicked: tuple[str, str] | None = None
) -> Merged:
    """Merge later into earlier (checked first: who, and that both are still being handled); tell everyone."""
    procedure.allowed(session, later, Act.merge, actor)
    procedure.allowed(session, earlier, Act.absorb, actor)
    pair = _pair(session, earlier, later, at)
    pair.state, pair.decided_by, pair.decided_at = PairState.merged, actor.userid, at
    involved = _involved(session, earlier) | _involved(session, later)
    to_dispatch = bool(later.units) and not earlier.units
    links, files, reports = _move(session, earlier, later)
    if later.reporter_id != earlier.reporter_id and not is_system(later.reporter.userid):
        procedure.apply(session, earlier, Act.report_merged, later.reporter, at, note=f"合并自 {later.code}")
    procedure.apply(
        session, later, Act.merge, actor, at, about=_open_subjects(session, later), clicked=clicked,
        closing=f"{actor.name} 已合并入 {earlier.code}", into=earlier.code, note=f"{earlier.code}（保留较早上报的）",
    )  # fmt: skip
    procedure.apply(
        session, earlier, Act.absorb, actor, at, merged=later.code, links=links, files=files, reports=reports,
        note=f"{later.code}《{later.title}》并入本条",
    )  # fmt: skip
    session.flush()
    done = Merged(earlier, later, links, files, reports, to_dispatch)
    _tell(session, done, actor, involved, at)
    return done


def _open_subjects(session: Session, later: Item) -> list[int]:
    """The subjects of the later item's open cards that merging closes (its suggestions, 签收, 书面报告 …)."""
    purposes = ACTIONS[Act.merge].closes
    rows = session.scalars(
        select(Card.subject_id).where(
            Card.item_id == later.id, Card.state == CardState.open, Card.purpose.in_([str(p) for p in purposes])
        )
    )
    return sorted(set(rows))


def _move(session: Session, earlier: Item, later: Item) -> tuple[int, int, int]:
    """Move the later item's links the earlier lacks (with their captures), files and written reports; return counts."""
    have = set(session.scalars(select(ItemLink.normalized).where(ItemLink.item_id == earlier.id)))
    moved: list[int] = []
    for link in session.scalars(select(ItemLink).where(ItemLink.item_id == later.id)):
        if link.normalized not in have:
            link.item_id = earlier.id
            moved.append(link.id)
            have.add(link.normalized)
    links = len(moved)
    for capture in session.scalars(select(Capture).where(Capture.item_id == later.id, Capture.link_id.in_(moved))):
        capture.item_id = earlier.id  # a moved link's page capture goes with it
    reports = 0
    for sub in session.scalars(select(Submission).where(Submission.item_id == later.id).order_by(Submission.id)):
        top = session.scalar(
            select(func.max(Submission.version)).where(
                Submission.item_id == earlier.id, Submission.unit_id == sub.unit_id
            )
        )
        sub.item_id, sub.version, reports = earlier.id, (top or 0) + 1, reports + 1
        session.flush()
    files = 0
    for att in session.scalars(select(Attachment).where(Attachment.item_id == later.id)):
        att.item_id, files = earlier.id, files + (att.submission_id is None)
    session.flush()
    session.expire(earlier)
    session.expire(later)
    return links, files, reports


def _involved(session: Session, item: Item) -> set[str]:
    """The people of an item told of a merge: its reporter (not a pushing system) and its units' leads."""
    people = {item.reporter.userid} if not is_system(item.reporter.userid) else set()
    for part in item.units:
        people |= set(org.userids(org.unit_leads(session, part.unit)))
    return people


def _tell(session: Session, done: Merged, actor: Person, involved: set[str], at: datetime) -> None:
    s, m = done.survivor, done.merged
    moved = f"链接 {done.links} 条、截图和文件 {done.files} 个、书面报告 {done.reports} 份已并入"
    text = (
        f"【同一事件已合并】{m.code}《{m.title}》已并入 {s.code}《{s.title}》（保留较早上报的 {s.code}）。\n"
        f"{moved}；{m.code} 未完成的时限按合并结束，不计超时。请今后在 {s.code} 上办理和报送。\n"
        f"办公室：{actor.name}" + (f"\n{done.next_step()}" if done.next_step() else "")
    )
    office = org.userids(org.with_role(session, Role.office))
    tell(
        session,
        s,
        f"samemerge:{m.code}",
        at,
        render.text(text),
        followers=[*office, *sorted(involved)],
        by=actor.userid,
    )


def dismiss_codes(session: Session, actor: Person, first: str, second: str, at: datetime) -> SameEvent:
    """`不是同一事件 <编号> <编号>`: remember that the two items are different events."""
    earlier, later = two_items(session, first, second)
    return dismiss(session, actor, _pair(session, earlier, later, at), earlier, later, at)


def dismiss_pair(
    session: Session, actor: Person, pair_id: int, at: datetime, clicked: tuple[str, str] | None
) -> SameEvent:
    """The 不是同一事件 button of a suggestion card."""
    pair, earlier, later = pair_of(session, pair_id)
    return dismiss(session, actor, pair, earlier, later, at, clicked)


def dismiss(
    session: Session,
    actor: Person,
    pair: SameEvent,
    earlier: Item,
    later: Item,
    at: datetime,
    clicked: tuple[str, str] | None = None,
) -> SameEvent:
    """Record that the pair is not the same event (never suggested again) and close its card."""
    procedure.permit(session, later, Act.not_same, actor)
    if pair.state == PairState.merged:
        raise Refusal(f"{later.code} 已并入 {earlier.code}，不能再标记为不是同一事件。")
    if pair.state == PairState.dismissed:  # said before (another office member, a second press): nothing new
        return pair
    pair.state, pair.decided_by, pair.decided_at = PairState.dismissed, actor.userid, at
    procedure.apply(
        session, later, Act.not_same, actor, at, about=pair.id, clicked=clicked,
        closing=f"{actor.name} 已确认不是同一事件", other=earlier.code, note=f"与 {earlier.code} 不是同一事件",
    )  # fmt: skip
    return pair


def merged_into(session: Session, item: Item) -> Item | None:
    """The item this one was merged into, if it was."""
    other = session.scalar(
        select(SameEvent.other_id).where(SameEvent.item_id == item.id, SameEvent.state == PairState.merged)
    )
    return session.get(Item, other) if other is not None else None


def pointer_line(session: Session, item: Item) -> str:
    """For 查询 of a merged item: the sentence that names the item it was merged into ("" when it was not)."""
    into = merged_into(session, item)
    if into is None:
        return ""
    return f"{item.code} 已并入同一事件的 {into.code}《{into.title}》（{into.state_name}），请查询 {into.code}。"
