"""The ledger (台账): every item in every state, found by words, state, grade, unit, source and dates, sorted, paged,
counted and exported — for the H5 page /h5/items and `liaowang items list`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, String, case, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core import cells
from core.clock import LOCAL_TZ, local, show
from core.dates import in_range, refuse_range
from models import (
    GRADE_NAMES,
    AuditEvent,
    Card,
    Grade,
    GuidedAssignment,
    GuidedTask,
    Item,
    ItemState,
    ItemUnit,
    Opinion,
    Person,
    Role,
    Unit,
)
from models.item import SOURCES
from models.procedure import Act
from workflow.engine.errors import Refusal
from workflow.record import search

S = ItemState


class Scope(StrEnum):
    """Which part of the record: items still being handled, closed (办结 … 总结评估), archived, or all of them."""

    open = "open"
    closed = "closed"
    archived = "archived"
    all = "all"


SCOPE_NAMES = {Scope.open: "在办", Scope.closed: "已办结", Scope.archived: "已归档", Scope.all: "全部"}
SCOPE_STATES: dict[Scope, tuple[ItemState, ...]] = {
    Scope.open: (S.reported, S.dispatched, S.acknowledged, S.first_reported, S.written_reported, S.returned,
                 S.approved, S.replied),
    Scope.closed: (S.closed, S.follow_up, S.evaluated, S.merged),  # a merged item's handling ended with its merge
    Scope.archived: (S.archived,),
}  # fmt: skip


class Sort(StrEnum):
    """The orders of the list."""

    new = "new"
    old = "old"
    grade = "grade"
    code = "code"


SORT_NAMES = {Sort.new: "最新上报在前", Sort.old: "最早上报在前", Sort.grade: "等级高的在前", Sort.code: "按编号"}
EVERYTHING = (Role.office, Role.leader, Role.general_office)  # the same people who may open every case file
PER_PAGE = 20
EXPORT_MAX = 50_000
COUNT_CAP = 500  # very common words: the page counts this many matches, then shows “500+”
HEADER = ("编号", "标题", "状态", "等级", "来源", "上报时间", "上报人", "主办单位", "协办单位", "链接")


@dataclass(frozen=True)
class Query:
    """What the ledger shows: words, filters, order and page (all optional)."""

    q: str = ""
    scope: Scope = Scope.all
    grade: str = ""
    unit: str = ""
    source: str = ""
    since: date | None = None
    until: date | None = None
    sort: Sort = Sort.new
    page: int = 1

    def args(self, **change: Any) -> dict[str, str]:
        """The query as URL parameters (defaults left out), with some values changed (e.g. page=2)."""
        me = replace(self, **change)
        out = {
            "q": me.q,
            "scope": "" if me.scope == Scope.all else str(me.scope),
            "grade": me.grade,
            "unit": me.unit,
            "source": me.source,
            "since": me.since.isoformat() if me.since else "",
            "until": me.until.isoformat() if me.until else "",
            "sort": "" if me.sort == Sort.new else str(me.sort),
            "page": "" if me.page == 1 else str(me.page),
        }
        return {k: v for k, v in out.items() if v}


def parse(args: Mapping[str, str], scope: Scope = Scope.all) -> Query:
    """Read a Query from page or command-line arguments (the state as "scope": the page's "state" is OAuth's); refuse
    a bad state, grade, source, date or page in Chinese."""
    q = " ".join(str(args.get("q") or "").split())[:200]
    state = args.get("scope") or str(scope)
    if state not in set(Scope):
        raise Refusal(f"状态只能是 open（在办）、closed（已办结）、archived（已归档）或 all（全部），没有“{state}”。")
    grade = args.get("grade") or ""
    if grade and grade not in set(Grade):
        raise Refusal(f"等级只能是 general（一般）、significant（较大）或 major（重大），没有“{grade}”。")
    source = args.get("source") or ""
    if source and source not in SOURCES:
        raise Refusal(f"没有“{source}”这个来源。可选：{'、'.join(f'{k}（{v}）' for k, v in SOURCES.items())}。")
    sort = args.get("sort") or str(Sort.new)
    if sort not in set(Sort):
        raise Refusal(f"排序只能是 {'、'.join(f'{k}（{v}）' for k, v in SORT_NAMES.items())}。")
    since, until = _day(args.get("since"), "起始日期"), _day(args.get("until"), "截止日期")
    if since and until and until < since:
        raise Refusal(f"截止日期 {until} 早于起始日期 {since}。")
    page = args.get("page") or "1"
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise Refusal(f"页码应是正整数（现在是“{page}”）。")
    unit = (args.get("unit") or "")[:64]
    return Query(q, Scope(state), grade, unit, source, since, until, Sort(sort), int(page))


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Refusal(f"{what}写成 2026-11-01 这样的年-月-日（现在是“{value}”）。") from None
    if not in_range(day):
        raise Refusal(refuse_range(value))
    return day


def sees_everything(person: Person | None) -> bool:
    """Return True if person (None: the operator at the command line) may find every item."""
    return person is None or any(person.has(r) for r in EVERYTHING)


def visible(person: Person) -> Any:
    """The condition on Item for the items person took part in: reported or merged a report, their unit assigned
    (or supervised), asked for an opinion, sent a card about it, or given a guided reply (跟帖) to post."""
    mine = select(ItemUnit.item_id).join(Unit, Unit.id == ItemUnit.unit_id)
    mine = mine.where(or_(ItemUnit.unit_id == person.unit_id, Unit.supervisor_userid == person.userid))
    merged = select(AuditEvent.item_id).where(AuditEvent.action == Act.report_merged, AuditEvent.actor == person.userid)
    opinion = select(Opinion.item_id).where(Opinion.userid == person.userid)
    quoted = '%"' + person.userid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
    card = select(Card.item_id).where(cast(Card.recipients, String).like(quoted, escape="\\"))
    guided = select(GuidedTask.item_id).join(GuidedAssignment, GuidedAssignment.task_id == GuidedTask.id)
    guided = guided.where(GuidedAssignment.userid == person.userid)
    return or_(
        Item.reporter_id == person.id,
        Item.id.in_(mine),
        Item.id.in_(merged),
        Item.id.in_(opinion),
        Item.id.in_(card),
        Item.id.in_(guided),
    )


def _filtered(
    session: Session, query: Query, viewer: Person | None, scoped: bool = True, words: list[Any] | None = None
) -> Select[Any] | None:
    """Select Item filtered by everything in query (without the scope unless scoped; the words' conditions looked up
    unless given); None if nothing can match."""
    stmt = select(Item)
    if not sees_everything(viewer):
        assert viewer is not None
        stmt = stmt.where(visible(viewer))
    stmt = stmt.where(*(search.conditions(session, query.q) if words is None else words))
    if scoped and query.scope != Scope.all:
        stmt = stmt.where(Item.state.in_([str(s) for s in SCOPE_STATES[query.scope]]))
    if query.grade:
        stmt = stmt.where(Item.grade == query.grade)
    if query.source:
        stmt = stmt.where(Item.source == query.source)
    if query.unit:
        unit = session.scalar(select(Unit.id).where(Unit.key == query.unit))
        if unit is None:
            return None
        stmt = stmt.where(Item.id.in_(select(ItemUnit.item_id).where(ItemUnit.unit_id == unit)))
    if query.since:
        stmt = stmt.where(Item.reported_at >= datetime.combine(query.since, time(0), LOCAL_TZ))
    if query.until:
        stmt = stmt.where(Item.reported_at < datetime.combine(query.until + timedelta(days=1), time(0), LOCAL_TZ))
    return stmt


def _ordered(stmt: Select[Any], sort: Sort) -> Select[Any]:
    if sort == Sort.old:
        return stmt.order_by(Item.reported_at, Item.id)
    if sort == Sort.code:
        return stmt.order_by(Item.code)
    if sort == Sort.grade:
        rank = case({"major": 0, "significant": 1, "general": 2}, value=Item.grade, else_=3)
        return stmt.order_by(rank, Item.reported_at.desc(), Item.id.desc())
    return stmt.order_by(Item.reported_at.desc(), Item.id.desc())


@dataclass
class Row:
    """One item as the ledger lists it."""

    item_id: int
    code: str
    title: str
    state: str
    state_name: str
    grade: str
    grade_name: str
    source: str
    source_name: str
    unit: str
    unit_name: str
    units: str
    reporter: str
    reported_at: datetime
    reported_text: str
    link: str
    hit: search.Hit | None = None

    def as_json(self) -> dict[str, Any]:
        """The row for `liaowang items list --json` (times in Beijing time, ISO 8601)."""
        return {
            "code": self.code,
            "title": self.title,
            "state": self.state,
            "state_name": self.state_name,
            "grade": self.grade or None,
            "grade_name": self.grade_name,
            "unit": self.unit or None,
            "unit_name": self.unit_name,
            "units": self.units,
            "reporter": self.reporter,
            "reported_at": local(self.reported_at).isoformat(),
            "source": self.source,
            "source_name": self.source_name,
        }

    def cells(self) -> tuple[Any, ...]:
        """The row's cells under HEADER."""
        lead, _sep, co = self.units.partition("；")
        return (self.code, self.title, self.state_name, self.grade_name, self.source_name, self.reported_text,
                self.reporter, lead, co, self.link)  # fmt: skip


def _row(item: Item) -> Row:
    lead = item.lead
    parts: dict[str, list[str]] = {}
    for r in item.units:
        parts.setdefault(r.part, []).append(r.unit.name)
    units = "、".join(parts.get("lead", [])) + "；" + "、".join(parts.get("co", []))
    state = str(item.state)
    return Row(
        item_id=item.id,
        code=item.code,
        title=item.title,
        state=state,
        state_name=item.state_name,
        grade=item.grade or "",
        grade_name=GRADE_NAMES.get(Grade(item.grade), item.grade) if item.grade else "未定级",
        source=item.source,
        source_name=SOURCES.get(item.source, item.source),
        unit=lead.unit.key if lead else "",
        unit_name=lead.unit.name if lead else "未交办",
        units=units if units != "；" else "",
        reporter=item.reporter.name,
        reported_at=item.reported_at,
        reported_text=show(item.reported_at, form="table"),
        link=item.links[0].url if item.links else "",
    )


def _load(session: Session, stmt: Select[Any]) -> list[Row]:
    stmt = stmt.options(
        selectinload(Item.units).selectinload(ItemUnit.unit), selectinload(Item.reporter), selectinload(Item.links)
    )
    return [_row(i) for i in session.scalars(stmt)]


@dataclass
class Page:
    """One page of the ledger: its rows, how many match in all, per scope, and the pages. When the words are very
    common (capped) only the first COUNT_CAP matches are counted: the counts are lower bounds, shown as “500+”, and the
    pages go on as long as there are rows (more)."""

    query: Query
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    counts: dict[Scope, int] = field(default_factory=dict)
    per_page: int = PER_PAGE
    capped: bool = False
    more: bool = False

    @property
    def pages(self) -> int:
        """How many pages the matching items fill (at least 1); capped: the pages known so far (this one, the next)."""
        known = max(1, -(-self.total // self.per_page))
        return max(known, self.query.page + self.more) if self.capped else known


def page(session: Session, query: Query, viewer: Person | None, per_page: int = PER_PAGE) -> Page:
    """Return the page query asks for, with the total and the counts per scope under the same filters (capped at
    COUNT_CAP when every word is common and the sort follows an index)."""
    walkable = query.sort != Sort.grade  # the other orders follow an index, so a walk can stop after a page
    found = search.find(session, query.q, walkable=walkable)  # looked up once for the counts and the page
    out = _page(session, query, viewer, per_page, found)
    if out.capped and not out.rows and query.page > 1:  # past the end of a capped list: count it all to show the last
        out = _page(session, query, viewer, per_page, search.find(session, query.q, walkable=False))
    return out


def _page(session: Session, query: Query, viewer: Person | None, per_page: int, found: search.Found) -> Page:
    out = Page(query, per_page=per_page, counts=dict.fromkeys(Scope, 0))
    base = _filtered(session, query, viewer, scoped=False, words=found.conds)
    if base is None:
        return out
    states, out.capped = _count_states(session, base, found.dense)
    for scope, members in SCOPE_STATES.items():
        out.counts[scope] = sum(states.get(str(s), 0) for s in members)
    out.counts[Scope.all] = min(sum(states.values()), COUNT_CAP) if out.capped else sum(states.values())
    out.total = out.counts[query.scope]
    stmt = _filtered(session, query, viewer, words=found.conds)
    assert stmt is not None
    at = query.page if out.capped else min(query.page, out.pages)
    listed = _ordered(stmt.with_only_columns(Item.id), query.sort).offset((at - 1) * per_page)
    ids = list(session.scalars(listed.limit(per_page + 1)))
    out.more, ids = len(ids) > per_page, ids[:per_page]
    loaded = {r.item_id: r for r in _load(session, select(Item).where(Item.id.in_(ids)))}
    out.rows = [loaded[i] for i in ids]
    if query.q:
        hit = search.hits(session, [r.item_id for r in out.rows], query.q)
        for row in out.rows:
            row.hit = hit.get(row.item_id)
    return out


def _count_states(session: Session, base: Select[Any], dense: bool) -> tuple[dict[str, int], bool]:
    """Return the matching items per state and whether counting stopped at COUNT_CAP (dense: counted newest first,
    item by item, up to COUNT_CAP + 1)."""
    if dense:
        sub = base.with_only_columns(Item.state).order_by(Item.id.desc()).limit(COUNT_CAP + 1).subquery()
    else:
        sub = base.with_only_columns(Item.state).subquery()
    got = {str(state): n for state, n in session.execute(select(sub.c.state, func.count()).group_by(sub.c.state))}
    return got, dense and sum(got.values()) > COUNT_CAP


def rows(session: Session, query: Query, viewer: Person | None, limit: int = EXPORT_MAX) -> list[Row]:
    """Return every row of the current view (all pages, in its order; at most limit)."""
    stmt = _filtered(session, query, viewer)
    return [] if stmt is None else _load(session, _ordered(stmt, query.sort).limit(limit))


def to_csv(found: list[Row]) -> bytes:
    """The rows as CSV (UTF-8 with BOM; nothing typed becomes a formula)."""
    return cells.csv_bytes(HEADER, [r.cells() for r in found])


def to_xlsx(found: list[Row]) -> bytes:
    """The rows as an xlsx workbook with one sheet 台账."""
    return cells.xlsx_bytes({"台账": (HEADER, [r.cells() for r in found])})


def describe(query: Query, session: Session) -> str:
    """The current filters in words, for the page and the export's file name: "已归档 · 重大 · 含“噪音”"."""
    parts = [SCOPE_NAMES[query.scope]]
    if query.grade:
        parts.append(GRADE_NAMES[Grade(query.grade)])
    if query.unit:
        parts.append(session.scalar(select(Unit.name).where(Unit.key == query.unit)) or query.unit)
    if query.source:
        parts.append(SOURCES.get(query.source, query.source))
    if query.since or query.until:
        parts.append(f"{query.since or '…'} 至 {query.until or '…'}")
    if query.q:
        parts.append(f"含“{query.q}”")
    return " · ".join(parts)


def unit_exists(session: Session, key: str) -> bool:
    """Return True if a unit has this key."""
    return session.scalar(select(Unit.id).where(Unit.key == key)) is not None


def choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The filters' options: scopes, grades, units (every unit that can hold items), sources, orders."""
    units = session.scalars(select(Unit).where(Unit.kind.in_(("department", "county"))).order_by(Unit.id))
    return {
        "scopes": [(str(k), v) for k, v in SCOPE_NAMES.items()],
        "grades": [(str(k), v) for k, v in GRADE_NAMES.items()],
        "units": [(u.key, u.name) for u in units],
        "sources": list(SOURCES.items()),
        "sorts": [(str(k), v) for k, v in SORT_NAMES.items()],
    }
