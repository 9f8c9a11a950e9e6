"""Which items a person owes a step on (首报, 书面报告, 续报 …; the office's 回复来源, 办结, 总结评估, 归档): what lets
a typed command leave out its 编号, the buttons of 我的待办 and of the card to pick an item from, and the H5 form of a
step. It reads, and sends only the pick card: the step itself is still checked and taken by its workflow module."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import clock
from models import Item, ItemState, ItemUnit, Person, Role, clocktable
from models.clock import OPEN_STATES, Clock
from models.codes import card_key
from models.procedure import ACTIONS, OPEN, Act
from models.state import CardPurpose, SubmissionState
from workflow.engine import procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.engine.relations import ROLE_RELATIONS
from workflow.incident import consult, followup
from workflow.incident.submission import current
from workflow.views import render

# the steps a person may owe and take from a button, with what the button says (≤ 10 characters)
STEP_LABELS: dict[Act, str] = {
    Act.dispatch: "定级交办",
    Act.acknowledge: "签收",
    Act.first_report: "写首报",
    Act.written_report: "书面报告",
    Act.progress_report: "续报",
    Act.handling_report: "处置报告",
    Act.request_extension: "申请延期",
    Act.draft_statement: "拟口径",
    Act.reply_source: "回复来源",
    Act.close: "办结",
    Act.evaluate: "总结评估",
    Act.archive: "归档",
}
# the command word a person types for each step (what a list to pick from tells them to send)
STEP_WORDS: dict[Act, str] = {
    Act.dispatch: "交办",
    Act.acknowledge: "签收",
    Act.first_report: "首报",
    Act.written_report: "书面报告",
    Act.progress_report: "续报",
    Act.handling_report: "处置报告",
    Act.request_extension: "申请延期",
    Act.draft_statement: "口径",
    Act.reply_source: "回复来源",
    Act.close: "办结",
    Act.evaluate: "总结评估",
    Act.archive: "归档",
}
# the office's own steps on an item: owed on every item whose state allows the action (its row in the procedure
# table) when the person may take it (procedure.permit) and nothing else holds it back (READY)
ITEM_STEPS = (Act.dispatch, Act.reply_source, Act.close, Act.evaluate, Act.archive)
# what a step waits for beyond the item's state, refusing with the step's own sentence (the workflow's checks)
READY: dict[Act, Callable[[Session, Item], None]] = {
    Act.reply_source: consult.require_heard,
    Act.evaluate: followup.require_watch_over,
}
# the steps that have a short H5 form (/h5/step/<step>/<编号>): a text, and files for the written report
FORM_STEPS = (Act.first_report, Act.progress_report, Act.handling_report, Act.written_report, Act.draft_statement)
STEP_FLOW, PICK_FLOW = "step", "pick"  # the chat conversations bound to one item's step, and the pick of an item
PICK_BUTTONS = 6  # a button_interaction card holds at most 6 buttons: more items to pick from are a numbered list
PICK_SOURCE = "瞭望 · 选择舆情"


@dataclass(frozen=True)
class Owed:
    """One step a person owes on one item; clock: the clock it meets or extends (None for 签收 and 续报)."""

    act: Act
    item: Item
    clock: Clock | None = None
    unit_key: str = ""

    @property
    def label(self) -> str:
        """The button's text."""
        return STEP_LABELS[self.act]

    @property
    def key(self) -> str:
        """The button key: the existing 签收 / 申请延期 buttons where they exist, else `do:<step>:<编号>`."""
        if self.act == Act.acknowledge:
            return card_key("ack", self.item.code, self.unit_key)
        if self.act == Act.request_extension and self.clock is not None:
            return card_key("askext", self.clock.id)
        return card_key("do", self.act.value, self.item.code)


def _unit_rows(session: Session, person: Person, parts: Iterable[str]) -> list[ItemUnit]:
    """The assignments of the person's unit (unit leads only) in the given parts, oldest first."""
    if not person.has(Role.unit_lead) or person.unit_id is None:
        return []
    return list(
        session.scalars(
            select(ItemUnit)
            .where(ItemUnit.unit_id == person.unit_id, ItemUnit.part.in_(list(parts)))
            .order_by(ItemUnit.assigned_at)
        )
    )


def _open_clocks(session: Session, person: Person, kinds: tuple[str, ...] | None = None) -> list[Clock]:
    """Open clocks the person owes (their unit's; the office's own for the office; of these kinds when given),
    soonest due first."""
    owners = []
    if person.has(Role.unit_lead) and person.unit_id is not None:
        owners.append(Clock.owner_unit_id == person.unit_id)
    if person.has(Role.office):
        owners.append(Clock.owner == "office")
    if not owners:
        return []
    query = select(Clock).where(Clock.state.in_(OPEN_STATES), or_(*owners)).order_by(Clock.due_at)
    if kinds is not None:
        query = query.where(Clock.kind.in_(kinds))
    return list(session.scalars(query))


def _allowed(session: Session, item: Item, act: Act, person: Person) -> bool:
    """True if the item's state allows act and person holds a relation that may take it."""
    if not procedure.allows(item, act):
        return False
    try:
        procedure.permit(session, item, act, person)
    except Refusal:
        return False
    return True


def ready(session: Session, item: Item, act: Act) -> None:
    """Refuse with the step's own sentence if item waits for something else before act (局办公室's opinion before
    回复来源, the end of the watch before 总结评估); its state and who may act are procedure.allowed's."""
    check = READY.get(act)
    if check is not None:
        check(session, item)


def _by_role(act: Act) -> bool:
    """True if act is taken by roles alone (its `who` names only roles): who may take it does not depend on the item."""
    return set(ACTIONS[act].who) <= set(ROLE_RELATIONS)


def _ready(session: Session, item: Item, act: Act) -> bool:
    """True if nothing beyond its state holds item back from act (READY)."""
    try:
        ready(session, item, act)
    except Refusal:
        return False
    return True


def _waiting(session: Session, person: Person, act: Act) -> list[Item]:
    """The items in a state act's row allows, that person may take act on (procedure.permit) and that are ready for
    it, oldest waiting first."""
    if _by_role(act) and not any(person.has(ROLE_RELATIONS[w]) for w in ACTIONS[act].who):
        return []  # none of the roles that take it: no item need be looked at
    query = select(Item).where(Item.state.in_(list(ACTIONS[act].states))).order_by(Item.updated_at, Item.id)
    items = list(session.scalars(query))
    if _by_role(act):  # the same answer for every item: permit asked once
        items = items if items and _allowed(session, items[0], act, person) else []
    else:
        items = [i for i in items if _allowed(session, i, act, person)]
    return [i for i in items if _ready(session, i, act)]


def owed_on(session: Session, person: Person, act: Act) -> list[Owed]:
    """The items person owes act on, one entry per item, most urgent first."""
    out: list[Owed] = []
    if act == Act.acknowledge:
        for row in _unit_rows(session, person, ("lead", "co")):
            if row.acknowledged_at is None and ItemState(row.item.state) in OPEN:
                out.append(Owed(act, row.item, unit_key=row.unit.key))
    elif act == Act.progress_report:
        for row in _unit_rows(session, person, ("lead", "co")):
            if ItemState(row.item.state) in OPEN:
                out.append(Owed(act, row.item))
    elif act in ITEM_STEPS:
        out = [Owed(act, item) for item in _waiting(session, person, act)]
    elif act == Act.request_extension:
        for c in _open_clocks(session, person):
            item = session.get_one(Item, c.item_id)
            if c.due_at > clock.now() and procedure.allows(item, act):
                out.append(Owed(act, item, c))
    else:
        for c in _open_clocks(session, person, clocktable.clocks_owed_by(act)):
            item = session.get_one(Item, c.item_id)
            if _allowed(session, item, act, person):
                out.append(Owed(act, item, c))
        if act == Act.written_report:  # a returned report is owed again, with no clock left open
            for row in _unit_rows(session, person, ("lead",)):
                last = current(session, row.item)
                if last is not None and last.state == SubmissionState.returned and procedure.allows(row.item, act):
                    out.append(Owed(act, row.item))
    seen: set[int] = set()
    return [o for o in out if not (o.item.id in seen or seen.add(o.item.id))]  # type: ignore[func-returns-value]


TODO_STEPS = (
    Act.acknowledge,
    Act.first_report,
    Act.written_report,
    Act.handling_report,
    Act.draft_statement,
    *ITEM_STEPS,
)


def owed_steps(session: Session, person: Person) -> list[Owed]:
    """Every step person owes now, by step then urgency (我的待办's buttons); 申请延期 only beside a clock owed."""
    return [o for act in TODO_STEPS for o in owed_on(session, person, act)]


def resolve(session: Session, person: Person, act: Act) -> list[Item]:
    """The items a typed command without 编号 may mean: those the person owes act on (one means it)."""
    return [o.item for o in owed_on(session, person, act)]


def form_path(act: Act, code: str) -> str:
    """The path of act's H5 form for item code (handlers link it; bot/h5/step.py serves it)."""
    return f"/h5/step/{act.value}/{code}"


def pick_card(act: Act, items: Sequence[Item], title: str, task_id: str) -> dict[str, Any]:
    """The card to pick one of items for act: a numbered line and a `do:<step>:<编号>` button per item (≤ 6)."""
    lines = [f"{n} {i.code}《{i.title}》" for n, i in enumerate(items, 1)]
    return render.button_card(
        PICK_SOURCE,
        title,
        "",
        f"点按钮选择舆情，接着{STEP_LABELS[act]}；也可以回复序号。",
        [],
        task_id,
        [(f"{n} {i.title}", card_key("do", act.value, i.code), 2) for n, i in enumerate(items, 1)],
        content="\n".join(lines),
    )


def send_pick_card(
    session: Session, person: Person, act: Act, items: Sequence[Item], title: str, key: str, now: datetime
) -> bool:
    """Send person the card to pick one of items for act under key (a reply); False (nothing sent) beyond 6 items."""
    if not 2 <= len(items) <= PICK_BUTTONS:
        return False
    task_id = f"pick-{person.id}-{secrets.token_hex(6)}"
    new_card(session, CardPurpose.pick, task_id, items[0].id, [person.userid], now, about=person.id)
    emit(session, [person.userid], pick_card(act, items, title, task_id), f"reply:pick:{key}", now, task_id=task_id)
    return True
