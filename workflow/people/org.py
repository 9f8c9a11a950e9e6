"""Organisation look-ups and the idempotent TOML import (SPEC §1)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.text import clean_name
from models import AuditEvent, Person, Role, Unit
from models.events import Event
from models.org import UNIT_KINDS
from workflow.engine.audit import record


def person(session: Session, userid: str) -> Person | None:
    """Return the active person with this WeCom userid, or None."""
    return session.scalar(select(Person).where(Person.userid == userid, Person.active.is_(True)))


def with_role(session: Session, role: Role) -> list[Person]:
    """Return every active person holding role, ordered by userid."""
    people = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid))
    return [p for p in people if p.has(role)]


GONE_BUT_KEPT = "gone"  # a contact_guard audit event's `after`: kept in a post although WeCom deleted the person


def stranded(session: Session) -> set[str]:
    """Userids kept in a post by the contact guard although WeCom deleted them, and not back since."""
    events = (
        select(AuditEvent)
        .where(AuditEvent.action.in_((Event.contact_guard, Event.contact_person)))
        .order_by(AuditEvent.id)
    )
    if session.scalar(select(AuditEvent.id).where(AuditEvent.action == Event.contact_guard).limit(1)) is None:
        return set()
    out: set[str] = set()
    for e in session.scalars(events):
        userid = str(e.detail.get("userid"))
        if e.action == Event.contact_guard and e.after == GONE_BUT_KEPT:
            out.add(userid)
        elif e.action == Event.contact_person and e.after != "deactivated":
            out.discard(userid)
    return out


def office_or_leaders(session: Session) -> list[str]:
    """The office's userids, with the leaders' when no active office member is reachable in WeCom (nobody, or only
    people the contact guard kept although WeCom deleted them): a report never reaches nobody."""
    office = userids(with_role(session, Role.office))
    if office and not set(office) <= stranded(session):
        return office
    return list(dict.fromkeys([*office, *userids(with_role(session, Role.leader))]))


def unit_leads(session: Session, unit: Unit) -> list[Person]:
    """Return the active unit_lead people of unit."""
    people = session.scalars(
        select(Person).where(Person.unit_id == unit.id, Person.active.is_(True)).order_by(Person.userid)
    )
    return [p for p in people if p.has(Role.unit_lead)]


def supervisor(session: Session, unit: Unit | None) -> str | None:
    """Return the userid of unit's 分管领导 if that person is active in the organisation, else None."""
    if unit is None or not unit.supervisor_userid:
        return None
    return unit.supervisor_userid if person(session, unit.supervisor_userid) else None


def find_unit(session: Session, word: str) -> Unit | None:
    """Return the active unit whose key or name is word (exact, then unique prefix of the name)."""
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True))))
    for u in units:
        if word in (u.key, u.name):
            return u
    partial = [u for u in units if word and word in u.name]
    return partial[0] if len(partial) == 1 else None


def userids(people: Iterable[Person]) -> list[str]:
    """Return the distinct userids of people, in order."""
    return list(dict.fromkeys(p.userid for p in people))


class OrgFileError(Exception):
    """The organisation file is invalid; the message names the entry."""


def load_org_file(path: Path) -> dict[str, Any]:
    """Parse and validate an organisation TOML file, raising OrgFileError with a clear line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OrgFileError(f"无法读取组织文件 {path}：{exc}") from None
    units, people = data.get("units", []), data.get("people", [])
    keys = set()
    for i, u in enumerate(units):
        if not u.get("key") or not u.get("name"):
            raise OrgFileError(f"第 {i + 1} 个 [[units]] 缺少 key 或 name")
        if u.get("kind", "department") not in UNIT_KINDS:
            raise OrgFileError(f"单位 {u['key']} 的 kind 必须是 {' | '.join(UNIT_KINDS)}")
        keys.add(u["key"])
    for i, p in enumerate(people):
        if not p.get("userid") or not p.get("name"):
            raise OrgFileError(f"第 {i + 1} 个 [[people]] 缺少 userid 或 name")
        if p.get("unit") and p["unit"] not in keys:
            raise OrgFileError(f"人员 {p['userid']} 的单位 {p['unit']} 不在 [[units]] 中")
        bad = [r for r in p.get("roles", []) if r not in Role.__members__]
        if bad:
            raise OrgFileError(f"人员 {p['userid']} 的角色无效：{', '.join(bad)}")
    return data


def import_org(session: Session, data: dict[str, Any], at: datetime, actor: str = "system") -> dict[str, int]:
    """Create or update units and people from parsed data; deactivate those missing; return counts."""
    counts = {"units": 0, "people": 0, "deactivated": 0}
    units = {u.key: u for u in session.scalars(select(Unit))}
    seen_units = set()
    for u in data.get("units", []):
        unit = units.get(u["key"]) or Unit(key=u["key"])
        unit.name, unit.kind = clean_name(u["name"]) or u["key"], u.get("kind", "department")
        unit.supervisor_userid, unit.active = u.get("supervisor"), True
        session.add(unit)
        units[unit.key] = unit
        seen_units.add(unit.key)
        counts["units"] += 1
    session.flush()
    people = {p.userid: p for p in session.scalars(select(Person))}
    seen = set()
    for p in data.get("people", []):
        person_ = people.get(p["userid"]) or Person(userid=p["userid"])
        person_.name, person_.roles, person_.active = (
            clean_name(p["name"]) or p["userid"],
            list(p.get("roles", [])),
            True,
        )
        person_.unit_id = units[p["unit"]].id if p.get("unit") else None
        session.add(person_)
        seen.add(person_.userid)
        counts["people"] += 1
    for key, unit in units.items():
        if key not in seen_units and unit.active:
            unit.active = False
    for uid, person_ in people.items():
        if uid not in seen and person_.active:
            person_.active = False
            counts["deactivated"] += 1
    record(session, None, actor, Event.org_import, at, None, None, **counts)
    return counts
