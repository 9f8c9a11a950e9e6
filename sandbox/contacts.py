"""The contact book (通讯录): department/list, user/list, user/get as WeCom answers them, within the app's visibility,
and directory edits (/sandbox/contacts) that post the change_contact callback the way WeCom does."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox import acts
from sandbox.callbacks import XmlValue
from sandbox.errors import NO_PRIVILEGE, USER_NOT_FOUND, ApiError, ControlError
from sandbox.state import PHONE_ONLY_FIELDS, ROOT_DEPARTMENT, World, member

INVALID_USERID = 40003
BAD_PARAMETER = 40058
DEPARTMENT_NOT_FOUND = 60003
PARENT_NOT_FOUND = 60004
DEPARTMENT_HAS_MEMBERS = 60005
DEPARTMENT_HAS_CHILDREN = 60006
ROOT_NOT_DELETABLE = 60007
DEPARTMENT_EXISTS = 60008
BAD_DEPARTMENT_NAME = 60009
DEPARTMENT_CYCLE = 60010
USERID_EXISTS = 60102
BAD_MEMBER_NAME = 60112
USERID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-@.]{0,63}$")
BAD_NAME_CHARS = set('\\:*?"<>|')
STATUSES = (1, 2, 4, 5)  # 已激活, 已禁用, 未激活, 退出企业
# what user/get and user/list answer a self-built app created after 2022-06-20 (no mobile, email, avatar, gender …)
USER_FIELDS = ("userid", "name", "department", "order", "position", "is_leader_in_dept", "direct_leader", "status")
CONTROL_KEYS = ("change", "replay", "wait")  # how to deliver, not what to change
CHANGES = ("create_user", "update_user", "delete_user", "create_party", "update_party", "delete_party")


# the tree ----------------------------------------------------------------------------------------------
def subtree(world: World, root: int) -> list[int]:
    """Return root and its descendants, parents before children, siblings by WeCom's order (larger first)."""
    out, stack = [], [root]
    while stack:
        dep = stack.pop()
        out.append(dep)
        kids = [d for d in world.departments.values() if d["parentid"] == dep and d["id"] != dep]
        stack.extend(d["id"] for d in sorted(kids, key=lambda d: (d["order"], -d["id"])))
    return out


def visible_departments(world: World) -> list[int]:
    """Return the departments the app may read: all with root visibility, else the subtrees of visible_parties."""
    if world.settings.visibility_root:
        return subtree(world, ROOT_DEPARTMENT)
    seen: list[int] = []
    for party in world.visible_parties:
        seen.extend(d for d in (subtree(world, party) if party in world.departments else []) if d not in seen)
    return seen


def user_visible(world: World, person: dict[str, Any]) -> bool:
    """Tell whether the app sees this member (visibility given as people one by one: everyone, as agent/get says)."""
    if world.settings.visibility_root or not world.visible_parties:
        return True
    return bool(set(person["department"]) & set(visible_departments(world)))


def public_user(person: dict[str, Any]) -> dict[str, Any]:
    """Return a member as user/get and user/list show it (never the /phone display fields)."""
    shown = {k: person.get(k) for k in USER_FIELDS}
    shown["direct_leader"] = person.get("direct_leader", [])
    shown["main_department"] = person["main_department"]
    return {k: v for k, v in shown.items() if k not in PHONE_ONLY_FIELDS}


def department_arg(name: str, required: bool) -> int | None:
    """Return an integer department id query argument; an absent or malformed one is WeCom's 60003."""
    raw = request.args.get(name, "")
    if raw == "" and not required:
        return None
    if not raw.isdigit():
        raise ApiError(DEPARTMENT_NOT_FOUND, f"department not found: {raw!r}")
    return int(raw)


def readable(world: World, dep: int) -> None:
    """Refuse an unknown department (60003) or one outside the app's visibility (60011)."""
    if dep not in world.departments:
        raise ApiError(DEPARTMENT_NOT_FOUND, "department not found")
    if dep not in visible_departments(world):
        raise ApiError(NO_PRIVILEGE, "no privilege to access/modify contact/party/agent")


# /cgi-bin ----------------------------------------------------------------------------------------------
def register_contact_routes(bp: Blueprint, world: World) -> None:
    """Add department/list, department/simplelist, department/get, user/list, user/simplelist, user/get."""

    def departments(dep: int | None) -> list[dict[str, Any]]:
        with world.lock:
            if dep is not None:
                readable(world, dep)
            visible = visible_departments(world)
            ids = [d for d in subtree(world, dep) if d in visible] if dep is not None else visible
            return [dict(world.departments[d]) for d in ids]

    @bp.get("/department/list")
    def department_list() -> Response:
        found = departments(department_arg("id", required=False))
        return jsonify({"errcode": 0, "errmsg": "ok", "department": found})

    @bp.get("/department/simplelist")
    def department_simplelist() -> Response:
        found = departments(department_arg("id", required=False))
        ids = [{"id": d["id"], "parentid": d["parentid"], "order": d["order"]} for d in found]
        return jsonify({"errcode": 0, "errmsg": "ok", "department_id": ids})

    @bp.get("/department/get")
    def department_get() -> Response:
        dep = department_arg("id", required=True)
        with world.lock:
            readable(world, dep or 0)
            return jsonify({"errcode": 0, "errmsg": "ok", "department": dict(world.departments[dep or 0])})

    def members(simple: bool) -> Response:
        dep = department_arg("department_id", required=True) or 0
        with world.lock:
            readable(world, dep)
            scope = set(subtree(world, dep)) if request.args.get("fetch_child") == "1" else {dep}
            found = [p for p in world.people.values() if scope & set(p["department"])]
            if simple:
                users = [{"userid": p["userid"], "name": p["name"], "department": p["department"]} for p in found]
            else:
                users = [public_user(p) for p in found]
        return jsonify({"errcode": 0, "errmsg": "ok", "userlist": users})

    bp.add_url_rule("/user/list", "user_list", lambda: members(simple=False), methods=["GET"])
    bp.add_url_rule("/user/simplelist", "user_simplelist", lambda: members(simple=True), methods=["GET"])

    @bp.get("/user/get")
    def user_get() -> Response:
        with world.lock:
            person = world.people.get(request.args.get("userid") or "")
            if person is None:
                raise ApiError(USER_NOT_FOUND, "userid not found")
            if not user_visible(world, person):
                raise ApiError(NO_PRIVILEGE, "no privilege to access/modify contact/party/agent")
            return jsonify({"errcode": 0, "errmsg": "ok", **public_user(person)})


# validation (what the admin console and the contact API refuse) ----------------------------------------
def refuse(errcode: int, text: str) -> ControlError:
    """Return the refusal of a directory edit: HTTP 400 naming WeCom's errcode."""
    return ControlError(f"{errcode}: {text}")


def int_list(body: dict[str, Any], key: str) -> list[int]:
    """Return body[key] as a non-empty list of department ids."""
    value = body.get(key)
    ints = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ints or not value:
        raise refuse(DEPARTMENT_NOT_FOUND, f"{key} must be a non-empty list of department ids")
    return list(dict.fromkeys(value or []))


def check_member(world: World, person: dict[str, Any]) -> dict[str, Any]:
    """Refuse a member WeCom would refuse (userid, name, departments, main department, status); return it normalised."""
    if not isinstance(person.get("userid"), str) or not USERID.match(person["userid"]):
        raise refuse(INVALID_USERID, "userid: 1-64 of [0-9A-Za-z_-@.], starting with a letter or digit")
    name = person.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise refuse(BAD_MEMBER_NAME, "name: 1-64 characters")
    departments = int_list(person, "department")
    if len(departments) > 100 or any(d not in world.departments for d in departments):
        raise refuse(DEPARTMENT_NOT_FOUND, "department: unknown department id (at most 100)")
    main = person.get("main_department", departments[0])
    if main not in departments:
        raise refuse(DEPARTMENT_NOT_FOUND, "main_department must be one of department")
    if person.get("status", 1) not in STATUSES:
        raise refuse(BAD_PARAMETER, "status must be 1, 2, 4 or 5")
    for key, kind in (("position", str), ("unit", str), ("roles", list)):
        if key in person and not isinstance(person[key], kind):
            raise ControlError(f"{key} must be a {kind.__name__}")
    return member({**person, "department": departments, "main_department": main})


def check_department(world: World, dep: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Refuse a department WeCom would refuse (id, name, parent, cycle, sibling name taken); return it complete."""
    dep_id, name, parent = dep.get("id"), dep.get("name"), dep.get("parentid")
    if not isinstance(dep_id, int) or isinstance(dep_id, bool) or dep_id < 1:
        raise refuse(DEPARTMENT_NOT_FOUND, "id must be a positive integer")
    if creating and dep_id in world.departments:
        raise refuse(DEPARTMENT_EXISTS, f"department {dep_id} exists")
    if not isinstance(name, str) or not 1 <= len(name) <= 32 or BAD_NAME_CHARS & set(name):
        raise refuse(BAD_DEPARTMENT_NAME, 'name: 1-32 characters, none of \\:*?"<>|')
    if dep_id == ROOT_DEPARTMENT:
        parent = 0
    elif not isinstance(parent, int) or parent not in world.departments:
        raise refuse(PARENT_NOT_FOUND, "parent department not found")
    elif parent in subtree(world, dep_id):
        raise refuse(DEPARTMENT_CYCLE, "a department cannot move under itself")
    taken = [d for d in world.departments.values() if d["parentid"] == parent and d["name"] == name]
    if any(d["id"] != dep_id for d in taken):
        raise refuse(DEPARTMENT_EXISTS, f"the parent already has a department named {name}")
    order = dep.get("order", 0)
    if not isinstance(order, int) or not 0 <= order < 2**32:
        raise refuse(DEPARTMENT_NOT_FOUND, "order must be in [0, 2^32)")
    return {
        "id": dep_id,
        "name": name,
        "name_en": str(dep.get("name_en", "")),
        "department_leader": [],
        "parentid": parent,
        "order": order,
    }


# edits and their callbacks -----------------------------------------------------------------------------
def comma(ids: list[int]) -> str:
    """Render department ids as WeCom's comma list."""
    return ",".join(str(i) for i in ids)


def user_change(world: World, change: str, body: dict[str, Any]) -> tuple[list[tuple[str, XmlValue]], bool]:
    """Apply a member edit; return the event's fields after ChangeType and whether the app saw the member."""
    userid = body.get("userid")
    before = world.people.get(userid) if isinstance(userid, str) else None
    if change == "create_user":
        if before is not None:
            raise refuse(USERID_EXISTS, "userid existed")
        after = check_member(world, body)
        world.people[after["userid"]] = after
        return full_fields(world, after, [("UserID", after["userid"]), ("Department", comma(after["department"]))]), (
            user_visible(world, after)
        )
    if before is None:
        raise refuse(USER_NOT_FOUND, "userid not found")
    seen = user_visible(world, before)
    if change == "delete_user":
        del world.people[before["userid"]]
        return [("UserID", before["userid"])], seen
    new_userid = body.get("new_userid")
    after = check_member(world, edited(before, body))
    fields: list[tuple[str, XmlValue]] = [("UserID", before["userid"])]
    if new_userid is not None and new_userid != before["userid"]:
        if new_userid in world.people:
            raise refuse(USERID_EXISTS, "new_userid existed")
        after = check_member(world, {**after, "userid": new_userid})
        fields.append(("NewUserID", new_userid))
        del world.people[before["userid"]]
    world.people[after["userid"]] = after
    fields.append(("Department", comma(after["department"])))
    return full_fields(world, after, fields), seen or user_visible(world, after)


def edited(before: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Return the member with the edit's fields; new departments reset their orders and, unless kept, the main one."""
    merged = {**before, **{k: v for k, v in body.items() if k != "new_userid"}}
    if "department" in body:
        for key in ("order", "is_leader_in_dept"):
            if key not in body:
                merged.pop(key, None)
        departments = body["department"] if isinstance(body["department"], list) else []
        if "main_department" not in body and before["main_department"] not in departments:
            merged.pop("main_department", None)
    return merged


def full_fields(world: World, person: dict[str, Any], fields: list[tuple[str, XmlValue]]) -> list[tuple[str, XmlValue]]:
    """Add the member's other attributes when the emulator plays a callback URL configured before 2022-08-15."""
    if not world.contact_full_fields:
        return fields  # since 2022-08-15 WeCom sends only UserID/Department (and NewUserID); the app asks user/get
    return [
        *fields,
        ("Name", person["name"]),
        ("MainDepartment", person["main_department"]),
        ("Position", person["position"]),
        ("Status", person["status"]),
    ]


def party_change(world: World, change: str, body: dict[str, Any]) -> tuple[list[tuple[str, XmlValue]], bool]:
    """Apply a department edit; return the event's fields after ChangeType and whether the app saw the department."""
    dep_id = body.get("id")
    if change == "create_party":
        if dep_id is None:
            dep_id = max(world.departments) + 1
        dep = check_department(world, {**body, "id": dep_id}, creating=True)
        world.departments[dep["id"]] = dep
        fields: list[tuple[str, XmlValue]] = [
            ("Id", dep["id"]),
            ("Name", dep["name"]),
            ("ParentId", str(dep["parentid"])),
            ("Order", dep["order"]),
        ]
        return fields, dep["id"] in visible_departments(world)
    before = world.departments.get(dep_id) if isinstance(dep_id, int) else None
    if before is None:
        raise refuse(DEPARTMENT_NOT_FOUND, "department not found")
    assert isinstance(dep_id, int)
    seen = dep_id in visible_departments(world)
    if change == "delete_party":
        if dep_id == ROOT_DEPARTMENT:
            raise refuse(ROOT_NOT_DELETABLE, "the root department cannot be deleted")
        if any(dep_id in p["department"] for p in world.people.values()):
            raise refuse(DEPARTMENT_HAS_MEMBERS, "department has members")
        if any(d["parentid"] == dep_id for d in world.departments.values()):
            raise refuse(DEPARTMENT_HAS_CHILDREN, "department has sub-departments")
        del world.departments[dep_id]
        return [("Id", dep_id)], seen
    after = check_department(world, {**before, **body}, creating=False)
    world.departments[dep_id] = after
    fields = [("Id", dep_id)]
    if after["name"] != before["name"]:
        fields.append(("Name", after["name"]))
    if after["parentid"] != before["parentid"]:
        fields.append(("ParentId", str(after["parentid"])))
    return fields, seen or dep_id in visible_departments(world)


def set_departments(world: World, departments: list[Any], merge: bool) -> None:
    """Replace (or merge into) the department tree without callbacks (setting the scene); the root always stays."""
    with world.lock:
        kept = dict(world.departments) if merge else {ROOT_DEPARTMENT: world.departments[ROOT_DEPARTMENT]}
        saved, world.departments = world.departments, kept
        try:
            if not all(isinstance(d, dict) for d in departments):
                raise ControlError("departments must be a list of {id, name, parentid, order?}")
            waiting = list(departments)
            while waiting:  # parents first, whatever the order given
                ready = [d for d in waiting if d.get("parentid") in world.departments or d.get("id") == ROOT_DEPARTMENT]
                for dep in ready or waiting[:1]:  # none ready: the first one is refused for its parent
                    world.departments[dep.get("id", 0)] = check_department(world, dep, creating=False)
                    waiting.remove(dep)
        except ControlError:
            world.departments = saved
            raise


def register_contact_control(bp: Blueprint, world: World) -> None:
    """Add GET/POST /sandbox/departments (set the scene) and POST /sandbox/contacts (an edit plus its callback)."""

    @bp.get("/departments")
    def departments_get() -> Response:
        with world.lock:
            return jsonify({"departments": [world.departments[d] for d in subtree(world, ROOT_DEPARTMENT)]})

    @bp.post("/departments")
    def departments_set() -> Response:
        body = acts.payload()
        if not isinstance(body.get("departments"), list):
            raise ControlError("departments must be a list of {id, name, parentid, order?}")
        set_departments(world, body["departments"], bool(body.get("merge", False)))
        return departments_get()

    @bp.post("/contacts")
    def contacts_change() -> Response:
        """Edit the directory as the admin would, then post change_contact to the app if its visibility covers it."""
        body = acts.payload()
        change = body.get("change")
        if change not in CHANGES:
            raise ControlError(f"change must be one of {', '.join(CHANGES)}")
        with world.lock:
            edit = user_change if change.endswith("_user") else party_change
            extra, seen = edit(world, change, {k: v for k, v in body.items() if k not in CONTROL_KEYS})
        fields: list[tuple[str, XmlValue]] = [
            *acts.base_fields(world, "sys", "event"),
            ("Event", "change_contact"),
            ("ChangeType", change),
            *extra,
        ]
        info = {"change": change, "msg_id": ""}
        if not seen:
            return jsonify({**info, "delivered": False, "reason": "outside the app's visibility: WeCom sends nothing"})
        if not world.callback_url:
            return jsonify({**info, "delivered": False, "reason": "no callback_url configured"})
        return acts.run_act(world, "sys", fields, body, {**info, "delivered": True})
