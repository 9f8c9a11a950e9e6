"""The office and leaders' board (看板): open items, what each owes by when, misses and escalations, filtered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.clock import show
from core.durations import format_duration
from models import Grade, Item, ItemState, ItemUnit, Person, Role, Submission, Unit
from models.clock import OPEN_STATES, Clock
from models.item import PART_NAMES
from models.state import AWAITING, NEXT_STEP, ClockState
from workflow.incident.consult import general_office_heard
from workflow.incident.submission import approval_cards
from workflow.views.render import grade_name

VIEWERS = (Role.office, Role.leader, Role.general_office)
DONE = (ItemState.evaluated, ItemState.archived, ItemState.merged)  # merged: a pointer to the survivor
GRADE_ORDER = {Grade.major: 0, Grade.significant: 1, Grade.general: 2, None: 3}


@dataclass
class Owed:
    """One clock still owed: what, by whom, due when, whether missed and how far escalated."""

    label: str
    owner: str
    due_at: datetime
    due_text: str
    missed: bool
    level: int
    left: str


@dataclass
class Row:
    """One item on the board."""

    code: str
    title: str
    grade: str
    grade_key: str
    state: str
    units: str
    next_step: str = ""
    owed: list[Owed] = field(default_factory=list)

    @property
    def missed(self) -> int:
        """How many of its clocks are past due."""
        return sum(1 for o in self.owed if o.missed)


def may_view(person: Person) -> bool:
    """Return True if person may open the board (office, leaders, general office)."""
    return any(person.has(r) for r in VIEWERS)


@dataclass
class Names:
    """Everyone the board names, read once per page: units, their leads, the office and the general office."""

    units: dict[int, Unit]
    leads: dict[int, str]
    office: str
    general: str

    @classmethod
    def load(cls, session: Session) -> Names:
        """Read units and active people in two queries."""
        units = {u.id: u for u in session.scalars(select(Unit))}
        people = list(session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid)))
        leads: dict[int, list[str]] = {}
        for p in people:
            if p.unit_id is not None and p.has(Role.unit_lead):
                leads.setdefault(p.unit_id, []).append(p.name)

        def pick(role: Role) -> str:
            return "、".join(p.name for p in people if p.has(role))

        return cls(units, {k: "、".join(v) for k, v in leads.items()}, pick(Role.office), pick(Role.general_office))


def _owner(clock: Clock, names: Names) -> str:
    if clock.owner_unit_id is None:
        return "舆情指挥中心（办公室）"
    unit = names.units.get(clock.owner_unit_id)
    if unit is None:
        return ""
    leads = names.leads.get(unit.id, "")
    return f"{unit.name}（{leads}）" if leads else unit.name


def rows(session: Session, now: datetime, unit_key: str = "", grade: str = "", mine: Person | None = None) -> list[Row]:
    """Return the open items (optionally of one unit and grade; with mine, only the person's own: reported by them
    or assigned to their unit), most urgent first: missed, then soonest due."""
    names = Names.load(session)
    units = names.units
    stmt = select(Item).where(Item.state.not_in([str(s) for s in DONE]))
    if mine is not None:
        assigned = select(ItemUnit.item_id).where(ItemUnit.unit_id == mine.unit_id)
        stmt = stmt.where(or_(Item.reporter_id == mine.id, Item.id.in_(assigned)))
    if grade:
        stmt = stmt.where(Item.grade == grade)
    if unit_key:
        unit = next((u for u in units.values() if u.key == unit_key), None)
        if unit is None:
            return []
        stmt = stmt.where(Item.id.in_(select(ItemUnit.item_id).where(ItemUnit.unit_id == unit.id)))
    items = list(session.scalars(stmt))
    clocks: dict[int, list[Clock]] = {}
    if items:
        for c in session.scalars(
            select(Clock)
            .where(Clock.item_id.in_([i.id for i in items]), Clock.state.in_(OPEN_STATES))
            .order_by(Clock.due_at)
        ):
            clocks.setdefault(c.item_id, []).append(c)
    out = [_row(session, item, clocks.get(item.id, []), names, now) for item in items]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    out.sort(
        key=lambda r: (
            -r.missed,
            min((o.due_at for o in r.owed), default=far),
            GRADE_ORDER.get(Grade(r.grade_key) if r.grade_key else None, 3),
        )
    )
    return out


def _row(session: Session, item: Item, owed: list[Clock], names: Names, now: datetime) -> Row:
    units = (
        "、".join(
            f"{names.units[r.unit_id].name}（{PART_NAMES.get(r.part, r.part)}）"
            for r in item.units
            if r.unit_id in names.units
        )
        or "未交办"
    )
    row = Row(
        code=item.code,
        title=item.title,
        grade=grade_name(item.grade),
        grade_key=item.grade or "",
        state=item.state_name,
        units=units,
        next_step=next_step(session, item, names),
    )
    for c in owed:
        missed = c.state == ClockState.missed or c.due_at <= now
        left = _left(c.due_at, now) if not missed else _over(c.due_at, now)
        row.owed.append(
            Owed(
                label=c.label,
                owner=_owner(c, names),
                due_at=c.due_at,
                due_text=show(c.due_at, True),
                missed=missed,
                level=c.level,
                left=left,
            )
        )
    return row


def next_step(session: Session, item: Item, names: Names) -> str:
    """Who owes the item's next step of the procedure and what it is, in one phrase."""
    state = ItemState(item.state)
    leads, office = names.leads.get(item.lead.unit_id, "") if item.lead else "", names.office
    if state == ItemState.written_reported:
        sub = session.scalar(
            select(Submission)
            .where(Submission.item_id == item.id, Submission.state.in_(AWAITING))
            .order_by(Submission.id.desc())
            .limit(1)
        )
        who = {u for c in approval_cards(session, sub, open_only=True) for u in c.recipients} if sub else set()
        deciders = "、".join(session.scalars(select(Person.name).where(Person.userid.in_(who))))
        return NEXT_STEP[state].on_board(deciders or "分管领导")
    if state == ItemState.approved:
        heard = general_office_heard(session, item)  # the office replies once the general office was heard
        return NEXT_STEP[state].on_board(office) if heard else f"待会商意见：{names.general}"
    step = NEXT_STEP.get(state)
    if step is None:
        return ""
    return step.on_board(office if step.who == "office" else leads)


def unit_choices(session: Session) -> list[tuple[str, str]]:
    """Return (key, name) of the active units that handle items (not the office kinds), for the filter."""
    return [
        (u.key, u.name)
        for u in session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id))
        if u.kind in ("department", "county")
    ]


def _over(due: datetime, now: datetime) -> str:
    """How long a clock is overdue, never "已超时 0秒"."""
    return f"已超时 {format_duration(now - due)}" if now - due >= timedelta(minutes=1) else "已超时（刚到期）"


def _left(due: datetime, now: datetime) -> str:
    """How long is left on a clock."""
    return f"还剩 {format_duration(due - now)}"
