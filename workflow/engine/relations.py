"""Who a person is to an item: the relations models/procedure.py names in each action's `who`, decided here only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Card, Item, ItemUnit, Person, Role, Unit
from models.clock import Clock
from models.procedure import Act
from models.state import CardPurpose, Subject
from workflow.people import org

ROLE_RELATIONS = {"office": Role.office, "general_office": Role.general_office, "leader": Role.leader}


def consulted(session: Session, item: Item) -> list[str]:
    """Who is asked before the reply: the general office, copied departments (属地) or co-handlers (协办), and any
    department the office named when it asked (会商 <编号> 宣传处 …)."""
    people = org.userids(org.with_role(session, Role.general_office))
    for row in session.scalars(select(ItemUnit).where(ItemUnit.item_id == item.id, ItemUnit.part != "lead")):
        people += org.userids(org.unit_leads(session, row.unit))
    for detail in session.scalars(
        select(AuditEvent.detail).where(AuditEvent.item_id == item.id, AuditEvent.action == Act.consult)
    ):
        people += [str(u) for u in (detail or {}).get("asked", [])]
    return list(dict.fromkeys(people))


def clock_deciders(session: Session, clock: Clock) -> list[str]:
    """Who decides an extension: the unit's supervisor (else the office) for a unit's clock; the leaders (else the
    office) for the office's own."""
    if clock.owner == "office":
        return org.userids(org.with_role(session, Role.leader)) or org.userids(org.with_role(session, Role.office))
    unit = session.get(Unit, clock.owner_unit_id) if clock.owner_unit_id else None
    if sup := org.supervisor(session, unit):
        return [sup]
    return org.userids(org.with_role(session, Role.office))


def owns_clock(person: Person, clock: Clock) -> bool:
    """True if person owes clock's step: a lead of the unit that owes it, or the office for its own clocks."""
    if clock.owner == "office":
        return person.has(Role.office)
    return person.has(Role.unit_lead) and person.unit_id is not None and clock.owner_unit_id == person.unit_id


def relations(
    session: Session, item: Item, person: Person, clock: Clock | None = None, submission: int | None = None
) -> frozenset[str]:
    """Return every relation person has to item (and to clock, when an action is about one; decider: a recipient of
    an approval card of the item, of that submission's when one is named — the one place who may approve is decided)."""
    rel = {"member"} | {name for name, role in ROLE_RELATIONS.items() if person.has(role)}
    leads = person.has(Role.unit_lead)
    for row in item.units:
        if leads and row.unit_id == person.unit_id:
            rel.add("lead_unit" if row.part == "lead" else "co_unit" if row.part != "cc" else "cc_unit")
            if row.part != "cc":
                rel.add("assigned_unit")
        if row.part == "lead" and org.supervisor(session, row.unit) == person.userid:
            rel.add("supervisor")
    approval = select(Card.recipients).where(Card.item_id == item.id, Card.purpose == CardPurpose.approval)
    if submission is not None:
        approval = approval.where(Card.subject == Subject.submission, Card.subject_id == submission)
    if any(person.userid in r for r in session.scalars(approval)):
        rel.add("decider")
    if person.userid in consulted(session, item):
        rel.add("consulted")
    if clock is not None and owns_clock(person, clock):
        rel.add("clock_owner")
    if clock is not None and person.userid in clock_deciders(session, clock):
        rel.add("clock_decider")
    return frozenset(rel)
