"""Report an item (上报): number it, record links and screenshots, merge repeats, tell the office."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Attachment, DayCounter, Item, ItemLink, Person, Role
from models.events import Event
from models.procedure import Act
from workflow.duty import patrol, periods
from workflow.engine import clocks, procedure
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.outbox import Job, defer, emit
from workflow.incident import links as linkmod
from workflow.incident import similar
from workflow.people import org
from workflow.views import render


@dataclass
class Draft:
    """What a reporter has given so far."""

    text: str
    source: str = "discovery"
    suggested_grade: str | None = None
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    link_titles: dict[str, str] = field(default_factory=dict)
    title: str = ""  # the item's title when the sender gives one (intake API), else taken from the text
    origin: str = ""  # the system that pushed it (intake API), named to the office as the source


@dataclass
class ReportResult:
    """The item, whether this report joined an earlier one, and the archived item a new one recurs (关联)."""

    item: Item
    merged: bool
    related: Item | None = None


def next_code(session: Session, at: datetime, prefix: str = "YQ") -> str:
    """Hand out the next 编号 for the local day of at, e.g. YQ-20261126-003 (safe under concurrency)."""
    day = show(at, form="day")
    insert = pg_insert if session.bind and session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(DayCounter).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"last": DayCounter.last + 1})
    seq = session.execute(stmt.returning(DayCounter.last)).scalar_one()
    return f"{prefix}-{day}-{seq:03d}"


def _title(text: str) -> str:
    plain = linkmod.strip_links(text) or "（仅链接）"
    first = plain.splitlines()[0] if plain else plain
    return first[:30] + ("…" if len(first) > 30 else "")


def _title_for(text: str, draft: Draft) -> str:
    if linkmod.strip_links(text):
        return _title(text)
    titles = [t for t in draft.link_titles.values() if t]
    return _title(titles[0]) if titles else ("（仅链接）" if text or draft.links else "（截图）")


def _existing(session: Session, normalized: list[str]) -> tuple[Item | None, Item | None]:
    """(the first item with one of the links that may still take a report, the latest archived one with them).

    An archived item is read-only: a repeat of its link is a new item linked to it, never merged into it."""
    if not normalized:
        return None, None
    found = session.scalars(
        select(Item).join(ItemLink).where(ItemLink.normalized.in_(normalized)).order_by(ItemLink.id)
    ).all()
    live = [i for i in found if procedure.allows(i, Act.report_merged)]
    archived = [i for i in found if not procedure.allows(i, Act.report_merged)]
    return (live[0] if live else None), (max(archived, key=lambda i: i.id) if archived else None)


def report(session: Session, reporter: Person, draft: Draft, at: datetime, config: Config) -> ReportResult:
    """Create an item from draft (or join the item with one of its links), start its clocks, tell the office."""
    text = draft.text.strip()
    all_links = list(dict.fromkeys(draft.links + linkmod.find_links(text)))
    if not text and not all_links and not draft.images:
        raise Refusal("上报内容是空的。请发送“上报 描述”，描述里可以附链接。")
    if len(text) > 4000:
        raise Refusal("描述太长了（超过 4000 字）。请精简后再发，长材料可作为书面报告提交。")
    normalized = {u: linkmod.normalize(u) for u in all_links}
    item, related = _existing(session, list(normalized.values()))
    merged = item is not None
    related = None if merged else related
    if item is None:
        item = Item(
            code=next_code(session, at, config.code_prefix),
            title=_title(draft.title) if draft.title else _title_for(text, draft),
            text=text or "（见链接/截图）",
            source=draft.source,
            suggested_grade=draft.suggested_grade,
            state="reported",
            reporter_id=reporter.id,
            reported_at=at,
            updated_at=at,
            related_item_id=related.id if related else None,
        )
        session.add(item)
        session.flush()
        again: dict[str, Any] = {"related": related.code} if related else {}
        # advance=False: the report's clocks start below, once its links are in, where a clock that cannot be
        # computed is told to the office instead of refusing the report (_start_clocks)
        procedure.apply(
            session, item, Act.report, reporter, at, advance=False, change=(None, item.state), source=draft.source,
            **again,
        )  # fmt: skip
        if running := periods.in_force(session, config, at):  # a sensitive period: one grade higher unless graded
            item.suggested_grade = periods.BUMP[draft.suggested_grade or "general"]
            record(session, item, "system", Event.period_grade, at, period=running[0].name, grade=item.suggested_grade)
    linkmod.record(session, config, item, normalized, reporter.id, at)  # and asks for their capture (网页取证)
    for media_id in draft.images:
        att = Attachment(item_id=item.id, kind="image", media_id=media_id, uploader_id=reporter.id, created_at=at)
        session.add(att)
        session.flush()
        defer(session, Job.fetch_media, att.id)
    session.flush()
    session.refresh(item)
    if merged:
        _merged_notices(session, item, reporter, text, at)
    else:
        _new_notices(session, item, reporter, at, related, draft.origin)
        _start_clocks(session, item, config, at)
        similar.on_new_item(session, item, at)  # open items that may be the same event: a card to the office
    patrol.on_report(session, config, reporter, item.code, at)  # a report that day is the check-in
    return ReportResult(item=item, merged=merged, related=related)


def related_line(related: Item) -> str:
    """How a new item names the archived item it recurs: 关联 YQ-…《…》（已立卷归档）."""
    return f"关联 {related.code}《{related.title}》（{related.state_name}，同一链接再次出现）"


def _start_clocks(session: Session, item: Item, config: Config, at: datetime) -> None:
    """Start the office's clocks; a clock that cannot be computed is told loudly to the office, not hidden."""
    try:
        with session.begin_nested():
            clocks.on_action(session, item, Act.report, "system", at, config=config)
    except Refusal as exc:
        office = org.userids(org.with_role(session, Role.office))
        emit(
            session,
            office,
            render.text(f"【时限无法计算】{item.code}：{exc.message}"),
            f"clockfail:{item.code}",
            at,
            item,
        )


def _new_notices(
    session: Session, item: Item, reporter: Person, at: datetime, related: Item | None = None, origin: str = ""
) -> None:
    office = org.office_or_leaders(session)
    again = f"\n{related_line(related)}：原条目已归档不变，本条按新条目定级交办。" if related else ""
    emit(
        session,
        office,
        render.text(render.new_item_notice(item, reporter.name, origin) + again),
        f"report:{item.code}:office",
        at,
        item,
    )


def _merged_notices(session: Session, item: Item, reporter: Person, text: str, at: datetime) -> None:
    procedure.apply(session, item, Act.report_merged, reporter, at, note=text[:500])
    if reporter.id == item.reporter_id:
        return
    note = (
        f"【重复上报已合并】{item.code}《{item.title}》\n{reporter.name} 于 {show(at)} 也上报了同一链接，"
        f"首报仍记 {item.reporter.name}。"
    )
    office = org.userids(org.with_role(session, Role.office))
    emit(session, office, render.text(note), f"merge:{item.code}:{reporter.userid}:{at.timestamp()}", at, item)
