"""Contact-book sync (通讯录, docs/contacts.md): the mapping file, a full sync from department/list + user/list, and
one change_contact event. WeCom decides who is in the organisation, their names and departments; the mapping decides
which departments are which units and who holds which roles. Nothing is deleted: people and units are deactivated."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock
from core.text import clean_name
from core.wecom import WecomApi, WecomError
from models import AuditEvent, GuidedAssignment, Opinion, Patrol, Person, Role, Unit
from models.events import Event
from models.org import UNIT_KINDS
from workflow.engine.audit import record
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

ACTOR = "contacts"
ROOT = 1
ACTIVE = 1  # WeCom status: 1 已激活, 2 已禁用, 4 未激活, 5 退出企业
GONE = (60111, 60011)  # user/get: no such member, or outside the app's visibility
KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MappingError(Exception):
    """The mapping file is invalid; the message names the entry."""


class DirectoryError(Exception):
    """WeCom answered something that is not a directory (a missing or malformed field)."""


@dataclass(frozen=True)
class DeptRule:
    """What one WeCom department is for Liaowang: a unit (or none) and the default roles of its members."""

    unit: str | None = None
    name: str | None = None
    kind: str = "department"
    supervisor: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    """The parsed mapping file: which departments to sync, what each department is, who holds which roles."""

    roots: tuple[int, ...] = (ROOT,)
    departments: dict[int, DeptRule] = field(default_factory=dict)
    people: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def unit_key(self, departments: tuple[int, ...], main: int | None) -> str | None:
        """Return the unit of a member: their main department's, else the first of their departments that has one."""
        for dep in ([main] if main in departments else []) + list(departments):
            rule = self.departments.get(dep) if dep is not None else None
            if rule is not None and rule.unit:
                return rule.unit
        return None

    def roles(self, userid: str, departments: tuple[int, ...], main: int | None) -> list[str]:
        """Return a member's roles: their [[people]] entry, else their main department's defaults, else the first."""
        if userid in self.people:
            return list(self.people[userid])
        first = main if main in self.departments else next((d for d in departments if d in self.departments), None)
        return list(self.departments[first].roles) if first is not None else []

    def rule_of(self, unit: str) -> DeptRule:
        """Return the first department rule that names unit."""
        return next(r for _d, r in sorted(self.departments.items()) if r.unit == unit)


# the mapping file ----------------------------------------------------------------------------------------
def _ids(value: Any, where: str) -> tuple[int, ...]:
    """Return value as department ids, or raise MappingError naming where."""
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and v >= 1 for v in value):
        raise MappingError(f"{where} 必须是部门 id（正整数）的列表，如 [1]")
    return tuple(value)


def _roles(value: Any, where: str) -> tuple[str, ...]:
    """Return value as role names, or raise MappingError naming where and the bad roles."""
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise MappingError(f"{where} 的 roles 必须是角色名的列表")
    bad = [r for r in value if r not in Role.__members__]
    if bad:
        raise MappingError(f"{where} 的角色无效：{', '.join(bad)}（可用：{', '.join(Role.__members__)}）")
    return tuple(value)


def _rule(i: int, entry: Any) -> tuple[int, DeptRule]:
    """Return the i-th [[departments]] entry as (department id, rule), or raise MappingError."""
    where = f"第 {i + 1} 个 [[departments]]"
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or entry["id"] < 1:
        raise MappingError(f"{where} 缺少 id（企业微信部门 id，正整数）")
    where = f"部门 {entry['id']}"
    unit, kind, supervisor = entry.get("unit"), entry.get("kind", "department"), entry.get("supervisor")
    if unit is not None and (not isinstance(unit, str) or not KEY.match(unit)):
        raise MappingError(f"{where} 的 unit 必须是单位 key（字母、数字、_ 或 -）")
    if kind not in UNIT_KINDS:
        raise MappingError(f"{where} 的 kind 必须是 {' | '.join(UNIT_KINDS)}")
    if unit is None and any(k in entry for k in ("name", "kind", "supervisor")):
        raise MappingError(f"{where} 没有 unit，不能写 name、kind 或 supervisor")
    for key in ("name", "supervisor"):
        if entry.get(key) is not None and not (isinstance(entry[key], str) and entry[key].strip()):
            raise MappingError(f"{where} 的 {key} 必须是非空文字")
    unknown = set(entry) - {"id", "unit", "name", "kind", "supervisor", "roles"}
    if unknown:
        raise MappingError(f"{where} 有不认识的键：{', '.join(sorted(unknown))}")
    roles = _roles(entry.get("roles", []), where)
    return entry["id"], DeptRule(unit, entry.get("name"), kind, supervisor, roles)


def parse_mapping(data: dict[str, Any]) -> Mapping:
    """Validate a parsed mapping and return it, or raise MappingError with a clear line."""
    unknown = set(data) - {"sync", "departments", "people"}
    if unknown:
        raise MappingError(
            f"映射文件有不认识的表：{', '.join(sorted(unknown))}（只有 [sync]、[[departments]]、[[people]]）"
        )
    roots = _ids(data.get("sync", {}).get("departments", [ROOT]), "[sync] departments")
    departments: dict[int, DeptRule] = {}
    for i, entry in enumerate(data.get("departments", [])):
        dep, rule = _rule(i, entry)
        if dep in departments:
            raise MappingError(f"部门 {dep} 在 [[departments]] 里出现了两次")
        departments[dep] = rule
    units: dict[str, DeptRule] = {}
    for dep, rule in sorted(departments.items()):
        first = units.setdefault(rule.unit, rule) if rule.unit else rule
        if (first.name, first.kind, first.supervisor) != (rule.name, rule.kind, rule.supervisor):
            raise MappingError(f"单位 {rule.unit} 由多个部门映射，但 name、kind 或 supervisor 不一致（部门 {dep}）")
    people: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(data.get("people", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("userid"), str) or not entry["userid"]:
            raise MappingError(f"第 {i + 1} 个 [[people]] 缺少 userid")
        if entry["userid"] in people:
            raise MappingError(f"人员 {entry['userid']} 在 [[people]] 里出现了两次")
        people[entry["userid"]] = _roles(entry.get("roles", []), f"人员 {entry['userid']}")
    return Mapping(roots, departments, people)


def load_mapping(path: Path) -> Mapping:
    """Read and validate the mapping TOML file, raising MappingError with a clear line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"无法读取通讯录映射文件 {path}：{exc}") from None
    return parse_mapping(data)


# what WeCom says -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """A member as user/get or user/list answers: only the fields Liaowang relies on."""

    userid: str
    name: str
    departments: tuple[int, ...]
    main: int | None
    status: int

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> Member:
        """Read userid, name, department, main_department and status; raise DirectoryError if they are malformed."""
        userid, name, deps = data.get("userid"), data.get("name"), data.get("department", [])
        if not isinstance(userid, str) or not userid or not isinstance(name, str):
            raise DirectoryError(f"企业微信返回的成员缺少 userid 或 name：{str(data)[:100]}")
        if not isinstance(deps, list) or not all(isinstance(d, int) for d in deps):
            raise DirectoryError(f"企业微信返回的成员 {userid} 的 department 不是部门 id 列表")
        main, status = data.get("main_department"), data.get("status", ACTIVE)
        return cls(
            userid, clean_name(name) or userid, tuple(deps), main if isinstance(main, int) else None, int(status)
        )


@dataclass(frozen=True)
class Directory:
    """Departments (id → name, parent) under the synced roots, and the members found in them."""

    departments: dict[int, tuple[str, int]]
    members: dict[str, Member] = field(default_factory=dict)


def fetch_departments(api: WecomApi, mapping: Mapping) -> dict[int, tuple[str, int]]:
    """Return id → (name, parentid) of every department under the synced roots (department/list)."""
    found: dict[int, tuple[str, int]] = {}
    for root in mapping.roots:
        for dep in api.call("get", "department/list", params={"id": root}).get("department", []):
            if not isinstance(dep, dict) or not isinstance(dep.get("id"), int):
                raise DirectoryError("企业微信返回的部门列表格式不对")
            found[dep["id"]] = (clean_name(str(dep.get("name") or "")) or str(dep["id"]), int(dep.get("parentid", 0)))
    return found


def fetch_directory(api: WecomApi, mapping: Mapping) -> Directory:
    """Read the synced departments and every member of each (department/list, then user/list per department)."""
    directory = Directory(fetch_departments(api, mapping))
    for dep in directory.departments:
        for data in api.call("get", "user/list", params={"department_id": dep}).get("userlist", []):
            member = Member.from_wecom(data)
            directory.members.setdefault(member.userid, member)
    return directory


def fetch_member(api: WecomApi, userid: str) -> Member | None:
    """Return the member as user/get answers now, or None if WeCom no longer shows them (60111, 60011)."""
    try:
        return Member.from_wecom(api.call("get", "user/get", params={"userid": userid}))
    except WecomError as exc:
        if exc.errcode in GONE:
            return None
        raise


# applying it ---------------------------------------------------------------------------------------------
@dataclass
class Report:
    """What a sync or an event changed."""

    departments: int = 0
    units: int = 0
    created: int = 0
    updated: int = 0
    reactivated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    renamed: int = 0
    unmapped: dict[int, str] = field(default_factory=dict)  # departments with members but no [[departments]] entry
    missing: list[int] = field(default_factory=list)  # mapped departments WeCom does not show
    kept: list[str] = field(default_factory=list)  # roles the change would have left empty: "岗位：姓名（userid）"

    def as_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {**self.__dict__, "unmapped": {str(k): v for k, v in self.unmapped.items()}}


def ensure_unit(session: Session, mapping: Mapping, key: str, wecom_name: str | None, at: datetime) -> Unit:
    """Create or update the unit named key from its rule (name from the mapping, else WeCom's); activate it."""
    rule = mapping.rule_of(key)
    unit = session.scalar(select(Unit).where(Unit.key == key)) or Unit(key=key, name=key, active=False)
    before = (unit.name, unit.kind, unit.supervisor_userid, unit.active)
    unit.name = clean_name(rule.name or wecom_name) or unit.name
    unit.kind, unit.supervisor_userid, unit.active = rule.kind, rule.supervisor, True
    if unit.id is None or before != (unit.name, unit.kind, unit.supervisor_userid, unit.active):
        session.add(unit)
        session.flush()
        record(session, None, ACTOR, Event.contact_unit, at, None, None, unit=key, name=unit.name, active=True)
    return unit


def sync_units(session: Session, mapping: Mapping, departments: dict[int, tuple[str, int]], at: datetime) -> int:
    """Ensure every mapped unit whose department WeCom shows; return how many units are mapped."""
    keys: dict[str, str] = {}
    for dep, rule in sorted(mapping.departments.items()):
        if rule.unit and dep in departments:
            keys.setdefault(rule.unit, departments[dep][0])
    for key, name in keys.items():
        ensure_unit(session, mapping, key, name, at)
    return len(keys)


def _unit_id(
    session: Session, mapping: Mapping, member: Member, names: dict[int, tuple[str, int]], at: datetime
) -> int | None:
    """Return the id of the member's unit under the mapping (created or reactivated if need be), or None."""
    key = mapping.unit_key(member.departments, member.main)
    if key is None:
        return None
    unit = session.scalar(select(Unit).where(Unit.key == key))
    if unit is None or not unit.active:
        dep = next((d for d in member.departments if (r := mapping.departments.get(d)) and r.unit == key), None)
        unit = ensure_unit(session, mapping, key, names.get(dep, ("", 0))[0] if dep else None, at)
    return unit.id


def put_member(
    session: Session, mapping: Mapping, member: Member, names: dict[int, tuple[str, int]], at: datetime, report: Report
) -> None:
    """Create, update, reactivate or deactivate the person for one member as WeCom shows them."""
    person = session.scalar(select(Person).where(Person.userid == member.userid))
    if member.status != ACTIVE:
        deactivate(session, member.userid, at, report, f"企业微信状态 {member.status}")
        return
    state = (
        member.name,
        _unit_id(session, mapping, member, names, at),
        mapping.roles(member.userid, member.departments, member.main),
        True,
    )
    if person is None:
        person = Person(userid=member.userid)
        session.add(person)
        what = "created"
    else:
        old = (person.name, person.unit_id, list(person.roles or []), person.active)
        what = "unchanged" if old == state else ("reactivated" if not person.active else "updated")
    person.name, person.unit_id, person.roles, person.active = state[0], state[1], list(state[2]), True
    setattr(report, what, getattr(report, what) + 1)
    if what != "unchanged":
        record(
            session,
            None,
            ACTOR,
            Event.contact_person,
            at,
            None,
            what,
            userid=member.userid,
            name=member.name,
            unit_id=state[1],
            roles=state[2],
        )


def deactivate(session: Session, userid: str, at: datetime, report: Report, why: str) -> None:
    """Mark the person inactive (kept with their history); nothing to do if unknown or already inactive."""
    person = session.scalar(select(Person).where(Person.userid == userid))
    if person is None or not person.active:
        report.unchanged += 1 if person is not None else 0
        return
    person.active = False
    report.deactivated += 1
    record(session, None, ACTOR, Event.contact_person, at, "active", "deactivated", userid=userid, why=why)


MASS_SHARE = 0.5  # a sync that would deactivate more than this share of the active people is refused


def mass_deactivation(session: Session, directory: Directory) -> str | None:
    """Return why applying directory looks like a set-up mistake (it would deactivate most people), else None."""
    active = set(session.scalars(select(Person.userid).where(Person.active.is_(True))))
    gone = active - directory.members.keys()
    if active and (not directory.members or (len(gone) > 2 and len(gone) > MASS_SHARE * len(active))):
        return (
            f"企业微信通讯录的同步范围里只有 {len(directory.members)} 人，同步会停用现有 {len(active)} 人中的 "
            f"{len(gone)} 人——多半是应用的可见范围或映射文件的 [sync] departments 设错了"
        )
    return None


def apply_directory(session: Session, mapping: Mapping, directory: Directory, at: datetime) -> Report:
    """Make the organisation match WeCom's directory under the mapping; people WeCom does not show are deactivated."""
    report = Report(departments=len(directory.departments))
    mapping, before = with_renames(mapping, renames(session)), holders(session)
    report.units = sync_units(session, mapping, directory.departments, at)
    report.missing = sorted(d for d in mapping.departments if d not in directory.departments)
    for member in directory.members.values():
        put_member(session, mapping, member, directory.departments, at, report)
        for dep in member.departments:
            if dep in directory.departments and dep not in mapping.departments:
                report.unmapped[dep] = directory.departments[dep][0]
    for person in list(session.scalars(select(Person).where(Person.active.is_(True)))):
        if person.userid not in directory.members:
            deactivate(session, person.userid, at, report, "不在企业微信通讯录的同步范围内")
    keep_needed(session, before, at, report)
    record(session, None, ACTOR, Event.contacts_sync, at, None, None, **{k: v for k, v in report.as_json().items()})
    return report


# one change_contact event ----------------------------------------------------------------------------------
USER_CHANGES = ("create_user", "update_user", "delete_user")
PARTY_CHANGES = ("create_party", "update_party", "delete_party")


@dataclass(frozen=True)
class ContactEvent:
    """One change_contact callback, reduced to what Liaowang uses (the rest is read back from WeCom)."""

    change: str
    userid: str = ""
    new_userid: str = ""
    party: int = 0
    party_name: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What WeCom shows now, read before the transaction: the synced departments and (for user events) the member."""

    departments: dict[int, tuple[str, int]]
    member: Member | None = None


def snapshot(api: WecomApi, mapping: Mapping, event: ContactEvent) -> Snapshot:
    """Read the current departments and, for a member event, the member (the event itself may carry no more than
    UserID and Department: WeCom's callbacks since 2022-08-15)."""
    departments = fetch_departments(api, mapping)
    if event.change in USER_CHANGES:
        return Snapshot(departments, fetch_member(api, event.new_userid or event.userid))
    return Snapshot(departments)


def apply_event(session: Session, mapping: Mapping, event: ContactEvent, now: Snapshot, at: datetime) -> Report:
    """Apply one change_contact event against what WeCom shows now; the same event twice changes nothing more."""
    report = Report(departments=len(now.departments))
    mapping, before = with_renames(mapping, renames(session)), holders(session)
    if event.change in USER_CHANGES:
        _user_event(session, mapping, event, now, at, report)
    elif event.change in PARTY_CHANGES:
        _party_event(session, mapping, event, now, at, report)
    keep_needed(session, before, at, report)
    record(
        session,
        None,
        ACTOR,
        "change_contact",
        at,
        None,
        event.change,
        userid=event.userid or None,
        party=event.party or None,
    )
    return report


def _user_event(
    session: Session, mapping: Mapping, event: ContactEvent, now: Snapshot, at: datetime, report: Report
) -> None:
    """Apply create/update/delete_user as user/get shows the member now (a delete retried by WeCom after the member
    was created again changes nothing): deactivate them if WeCom no longer shows them, else put them."""
    if event.new_userid and event.new_userid != event.userid:
        if rename(session, event.userid, event.new_userid, at, report):
            mapping = with_renames(mapping, {event.userid: event.new_userid})
        else:
            deactivate(session, event.userid, at, report, f"企业微信账号改为 {event.new_userid}")
    member = now.member
    if member is None or not any(d in now.departments for d in member.departments):
        deactivate(session, event.new_userid or event.userid, at, report, "不在企业微信通讯录的同步范围内")
        return
    put_member(session, mapping, member, now.departments, at, report)


def _party_event(
    session: Session, mapping: Mapping, event: ContactEvent, now: Snapshot, at: datetime, report: Report
) -> None:
    """Apply create/update/delete_party to the mapped unit: ensure it while a department maps to it, else retire it."""
    rule = mapping.departments.get(event.party)
    if rule is None or not rule.unit:
        if event.party in now.departments and event.change != "delete_party":
            report.unmapped[event.party] = now.departments[event.party][0]
        return
    still = [d for d, r in mapping.departments.items() if r.unit == rule.unit and d in now.departments]
    if still:
        name = event.party_name or now.departments.get(event.party, ("", 0))[0] or now.departments[still[0]][0]
        ensure_unit(session, mapping, rule.unit, name, at)
        report.units += 1
        return
    unit = session.scalar(select(Unit).where(Unit.key == rule.unit))
    if unit is not None and unit.active:  # its department is gone: kept, with its items, but no longer offered
        unit.active = False
        record(session, None, ACTOR, Event.contact_unit, at, "active", "inactive", unit=unit.key, party=event.party)


# a userid change ---------------------------------------------------------------------------------------------
RENAMED = "renamed"
USERID_TABLES = (Patrol, GuidedAssignment, Opinion)


def rename(session: Session, old: str, new: str, at: datetime, report: Report) -> bool:
    """Move the person (roles, unit, items) and their userid-keyed records from old to new; False when there is no
    such person or new is already somebody (then the old one is deactivated instead). The audit keeps old."""
    person = session.scalar(select(Person).where(Person.userid == old))
    if person is None or session.scalar(select(Person.id).where(Person.userid == new)) is not None:
        return False
    person.userid = new
    session.execute(update(Unit).where(Unit.supervisor_userid == old).values(supervisor_userid=new))
    for table in USERID_TABLES:
        session.execute(update(table).where(table.userid == old).values(userid=new))
    session.flush()
    report.renamed += 1
    record(session, None, ACTOR, Event.contact_person, at, None, RENAMED, userid=new, old_userid=old)
    return True


def renames(session: Session) -> dict[str, str]:
    """old userid → current userid for every account WeCom renamed (from the audit; chains followed)."""
    found = {
        str(e.detail.get("old_userid")): str(e.detail.get("userid"))
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == Event.contact_person, AuditEvent.after == RENAMED)
        )
    }
    out = {}
    for old in found:
        new, seen = found[old], {old}
        while new in found and new not in seen:
            seen.add(new)
            new = found[new]
        out[old] = new
    return out


def with_renames(mapping: Mapping, moved: dict[str, str]) -> Mapping:
    """The mapping with renamed userids read as their new ones (a [[people]] entry or supervisor under the old id)."""
    if not moved:
        return mapping
    people = {moved.get(u, u): r for u, r in mapping.people.items()}
    people.update({u: r for u, r in mapping.people.items() if u not in moved})
    deps = {
        d: replace(r, supervisor=moved.get(r.supervisor, r.supervisor)) if r.supervisor else r
        for d, r in mapping.departments.items()
    }
    return replace(mapping, people=people, departments=deps)


# the roles the procedure needs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Need:
    """A post the procedure cannot do without: the office, the leaders, a unit's lead or its 分管领导."""

    title: str
    role: Role
    unit_id: int | None = None


def holders(session: Session) -> dict[Need, list[int]]:
    """Every needed post and the ids of the active people holding it now."""
    people = list(session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.userid)))
    out: dict[Need, list[int]] = {
        Need("领导小组办公室", Role.office): [p.id for p in people if p.has(Role.office)],
        Need("领导小组领导", Role.leader): [p.id for p in people if p.has(Role.leader)],
    }
    for unit in session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)):
        leads = [p.id for p in people if p.unit_id == unit.id and p.has(Role.unit_lead)]
        out[Need(f"{unit.name}的负责人", Role.unit_lead, unit.id)] = leads
        sup = [p.id for p in people if unit.supervisor_userid and p.userid == unit.supervisor_userid]
        out[Need(f"{unit.name}的分管领导", Role.supervisor, unit.id)] = sup
    return out


def _keep(session: Session, need: Need, person: Person) -> None:
    """Give person back the post need: active, with its role (and unit, or the unit's supervisor field)."""
    person.active = True
    if need.role is not Role.supervisor and not person.has(need.role):
        person.roles = [*(person.roles or []), need.role.value]
    if need.role is Role.unit_lead:
        person.unit_id = need.unit_id
    if need.role is Role.supervisor and need.unit_id is not None:
        unit = session.get(Unit, need.unit_id)
        if unit is not None:
            unit.supervisor_userid = person.userid


GONE_WHY = "已从企业微信通讯录删除或停用"


def keep_needed(session: Session, before: dict[Need, list[int]], at: datetime, report: Report) -> None:
    """Keep the last holders of any post the change emptied, and tell the leaders and the office in one message."""
    session.flush()
    after = holders(session)
    kept: list[tuple[Need, Person, str]] = []
    for need, ids in before.items():
        if not ids or after.get(need) or need not in after:  # held, or its unit was retired or renamed
            continue
        for pid in ids:
            person = session.get(Person, pid)
            if person is not None:
                why = GONE_WHY if not person.active else "已不再担任这个岗位"
                _keep(session, need, person)
                kept.append((need, person, why))
    if not kept:
        return
    session.flush()
    report.kept = [f"{n.title}：{p.name}（{p.userid}）" for n, p, _w in kept]
    for need, person, why in kept:
        state = org.GONE_BUT_KEPT if why == GONE_WHY else "kept"
        record(
            session, None, ACTOR, Event.contact_guard, at, None, state, post=need.title, userid=person.userid, why=why
        )
    _tell_kept(session, kept, at)


def _tell_kept(session: Session, kept: list[tuple[Need, Person, str]], at: datetime) -> None:
    """One message to the leaders and the office about the posts kept (once a day for the same posts)."""
    lines = "\n".join(f"· {n.title}：{p.name}（{p.userid}）{why}" for n, p, why in kept)
    text = (
        "【通讯录变更：岗位不能空缺】按企业微信通讯录的这次变更，下列岗位将没有在用的人，瞭望暂时保留了原来的人：\n"
        f"{lines}\n"
        "办公室的人都不在通讯录时，新的上报同时发给领导。请尽快在企业微信通讯录（或通讯录映射文件）里指定新的人选，"
        "再运行 liaowang contacts sync。"
    )
    to = org.userids([*org.with_role(session, Role.leader), *org.with_role(session, Role.office)])
    posts = ",".join(sorted(f"{n.title}={p.userid}" for n, p, _w in kept))
    key = f"contacts-kept:{clock.local(at).date().isoformat()}:{hashlib.sha256(posts.encode()).hexdigest()[:32]}"
    emit(session, to, render.text(text), key, at)
