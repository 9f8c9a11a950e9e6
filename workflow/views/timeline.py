"""An item's history in words: what happened, to which clock (by its Chinese name), whose, which decision, by name.

The 查询 reply (workflow/views/query.py), the 一事一群 lines (workflow/people/appchat.py) describe an audit event
through `words`; the case file (workflow/views/casefile.py) and the archive's 经过 (workflow/record/archive.py) read
the same lines from `lines`: no userid, Python list, internal code or bare "审批延期" is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.durations import format_duration
from models import AuditEvent, Item, Person, Unit
from models.clock import Clock
from models.clocktable import label as clock_label
from models.events import Event
from models.procedure import Act
from models.state import CLOCK_STATE_NAMES, STATE_NAMES, ClockState, ExtensionState
from workflow.views.render import grade_name

OFFICE = "领导小组办公室"
TEXT_KEYS = ("text", "reason", "note", "number", "line")  # what a person wrote, in order of preference


@dataclass(frozen=True)
class Names:
    """Who and what an item's events refer to: people by userid, units by id, its clocks' names by kind."""

    people: dict[str, str]
    units: dict[int, str]
    clocks: dict[str, str]
    unit_keys: dict[str, str]
    form: str = ""  # how times are written: "" relative to now (pages), "long" always with the year (the archive)

    def person(self, userid: Any) -> str:
        """A person's name ("系统" for the timers), else the userid as given."""
        return "系统" if userid == "system" else self.people.get(str(userid), str(userid))

    def clock(self, kind: Any) -> str:
        """A clock's Chinese name (as the policy names it), e.g. 首报, 书面报告."""
        kind = str(kind or "")
        return self.clocks.get(kind) or clock_label(str(kind))

    def listed(self, value: Any) -> str:
        """A userid, or a list of userids, as names joined by 、 (other values as they are)."""
        if isinstance(value, list | tuple):
            return "、".join(self.person(v) for v in value)
        return self.person(value) if isinstance(value, str) and value in self.people else str(value)


def names(session: Session, item: Item) -> Names:
    """Load the names one item's history needs."""
    people = {p.userid: p.name for p in session.scalars(select(Person))}
    all_units = list(session.scalars(select(Unit)))
    clocks = {c.kind: c.label for c in session.scalars(select(Clock).where(Clock.item_id == item.id))}
    return Names(people, {u.id: u.name for u in all_units}, clocks, {u.key: u.name for u in all_units})


def _dispatch(n: Names, d: dict[str, Any]) -> str:
    """A 交办 in words: the grade, the lead and co-handling units, the copied ones."""
    units = [n.unit_keys.get(str(k), str(k)) for k in d.get("units") or []]
    parts = [grade_name(d["grade"])] if d.get("grade") else []
    parts += [f"主办 {units[0]}"] if units else []
    parts += [f"协办 {'、'.join(units[1:])}"] if len(units) > 1 else []
    cc = [n.unit_keys.get(str(k), str(k)) for k in d.get("cc") or []]
    parts += [f"抄送 {'、'.join(cc)}"] if cc else []
    return "，".join(parts)


def _when(n: Names, value: Any) -> str:
    try:
        return show(datetime.fromisoformat(str(value)), True, n.form)
    except ValueError:
        return ""


def _clock_life(n: Names, ev: AuditEvent, d: dict[str, Any]) -> tuple[str, str] | None:
    """Words for a clock starting, being met and moving with a new grade (the 查询 reply leaves these out)."""
    label = n.clock(d.get("kind"))
    if ev.action == Event.clock_start:
        due = _when(n, d.get("due"))
        note = "（时间不足，超时记在交办环节）" if d.get("charged") == "office" else ""
        return f"{label}开始计时", (f"最迟 {due}" if due else "") + note
    if ev.action == Event.clock_met:
        if ev.after == ClockState.met_late:
            late = int(float(d.get("late_seconds") or 0))
            return f"{label}超时后完成", f"晚了 {format_duration(timedelta(seconds=late))}" if late >= 60 else ""
        return f"{label}按时完成", ""
    if ev.action == Event.clock_regrade:
        before, after = _when(n, d.get("due_before")), _when(n, d.get("due_after"))
        return f"{label}时限随等级调整", f"最迟 {before} → {after}" if before and after else ""
    return None


def _clock_event(n: Names, ev: AuditEvent, d: dict[str, Any]) -> tuple[str, str] | None:
    """Words for the clock events: which clock, whose, which decision and the new time."""
    if (life := _clock_life(n, ev, d)) is not None:
        return life
    label = n.clock(d.get("kind"))
    if ev.action == Event.clock_missed:
        if d.get("charged") == "office":
            return f"{label}时限超时", f"交办时已过时限，记在交办环节（{OFFICE}）"
        whose = n.units.get(int(d["unit_id"])) if d.get("unit_id") else OFFICE
        due = _when(n, d.get("due"))
        return f"{label}时限超时", f"{whose}" + (f"，应于 {due}" if due else "")
    if ev.action == Event.clock_start:
        due = _when(n, d.get("due"))
        return f"{label}开始计时", f"应于 {due} 前完成" if due else ""
    if ev.action == Event.clock_met:
        return f"完成{label}", ""
    if ev.action == Event.clock_escalated:
        return f"{label}超时督办", f"第 {d.get('level')} 级"
    if ev.action == Event.extension_request:
        longer = f"延长 {format_duration(timedelta(seconds=int(d['seconds'])))}" if d.get("seconds") else ""
        return f"申请{label}延期", "：".join(x for x in (longer, str(d.get("reason") or "")) if x)
    if ev.action == Event.extension_decision:
        if ev.after == ExtensionState.approved:
            due = _when(n, d.get("due"))
            return f"同意{label}延期", f"最迟改为 {due}" if due else ""
        due = _when(n, d.get("due"))
        return f"不同意{label}延期", f"仍须在 {due} 前完成" if due else ""
    if ev.action == Event.clock_waived:
        return f"免除{label}时限", str(d.get("reason") or "")
    if ev.action == Event.clock_miss_withdrawn:
        return f"撤销{label}超时记录", str(d.get("reason") or "")
    return None


def words(n: Names, ev: AuditEvent, verb: str) -> tuple[str, str]:
    """(what happened, its detail) for one audit event; verb is the action's usual name (ACTIONS, TIMELINE)."""
    d = ev.detail or {}
    if (clock := _clock_event(n, ev, d)) is not None:
        return clock
    text = next((str(d[k]) for k in TEXT_KEYS if d.get(k)), "")
    if ev.action == Act.dispatch:
        return verb, _dispatch(n, d)
    if ev.action == Event.brief_sent and d.get("to"):
        return verb, "，".join(x for x in (text, f"报送{n.listed(d['to'])}") if x)
    if ev.action == Event.guided_reply_missed and d.get("userid"):
        return verb, n.person(d["userid"])
    if ev.action == Act.regrade:
        return verb, "：".join(x for x in (f"{grade_name(ev.before)} → {grade_name(ev.after)}", text) if x)
    if ev.action == Act.opinion:
        return ("无不同意见", text) if d.get("agree") else ("提出会商意见", text)
    if ev.action == Act.consult and d.get("asked"):
        return verb, "：".join(x for x in (f"征求{n.listed(d['asked'])}的意见", text) if x)
    if ev.action == Act.guide_replies and d.get("to"):
        return verb, "：".join(x for x in (n.listed(d["to"]), text) if x)
    if ev.action in (Event.brief_requested, Event.brief_decided) and d.get("kind") in ("快报", "专报"):
        verb = verb.replace("快报或专报", str(d["kind"]))  # 拟报送快报, 审批专报: which one
        if "ok" in d:
            return verb, "：".join(x for x in ("同意" if d["ok"] else "退回", text) if x)
    if "ok" in d:
        return verb, "：".join(x for x in ("同意" if d["ok"] else "不同意", text) if x)
    if d.get("to") and not text:
        text = n.listed(d["to"])
    if "version" in d and ev.action in (
        Act.written_report,
        Act.approve,
        Act.return_,
        Act.review,
        Event.statement_drafted,
    ):
        verb = f"{verb} 第 {d['version']} 版"
    return verb, text


MOVES = {str(k): v for k, v in [*STATE_NAMES.items(), *CLOCK_STATE_NAMES.items()]}  # states as people read them
SAID = {
    Act.report,  # 上报: the item begins in its first state
    Event.extension_decision,
    Event.clock_met,
    Event.clock_start,
    Event.clock_regrade,
    Event.clock_missed,
}  # their words already say the change
WARN = {Event.clock_missed, Event.clock_escalated, Event.guided_reply_missed, Act.rebound, Event.fact_recorded}
GOOD = {Event.clock_met, Act.approve, Event.statement_approved, Act.close, Act.archive}


@dataclass(frozen=True)
class Line:
    """One step of an item's history as people read it: when (Beijing), who (a name), what, detail; tone is
    "warn" (a miss), "ok" (a step completed) or "" for the page's colour."""

    at: datetime
    when: str
    who: str
    what: str
    detail: str
    tone: str = ""


def _tone(ev: AuditEvent) -> str:
    if ev.action in WARN or ev.after == ClockState.met_late:
        return "warn"
    return "ok" if ev.action in GOOD else ""


def _move(before: str | None, after: str | None) -> str:
    """A change of state in words: "已交办，待签收→已签收，待首报", or "状态：…" for the first."""
    if not before:
        return f"状态：{MOVES.get(after or '', after or '')}"
    return f"{MOVES.get(before, before)}→{MOVES.get(after or '', after or '')}"


def lines(
    session: Session,
    item: Item,
    upto: int | None = None,
    verbs: dict[str, str] | None = None,
    hide: frozenset[str] = frozenset(),
    form: str = "",
) -> list[Line]:
    """Every audit event of item in order (up to event id upto) in words: the one renderer of an item's history
    that the case file page and the archive PDF share. verbs names the actions (workflow.views.query.ACTIONS);
    events whose action is in hide are left out; form "long" writes every time with its year (core.clock.show), so
    a record read years later (the archive PDF) says the same as on the day it was written."""
    if verbs is None:
        from workflow.views.query import ACTIONS

        verbs = ACTIONS
    n = replace(names(session, item), form=form)
    q = select(AuditEvent).where(AuditEvent.item_id == item.id)
    q = q.where(AuditEvent.id <= upto) if upto is not None else q
    q = q.where(AuditEvent.action.not_in(hide)) if hide else q
    out = []
    for ev in session.scalars(q.order_by(AuditEvent.id)):
        what, detail = words(n, ev, verbs.get(ev.action, "记录"))
        if (ev.before in MOVES or ev.after in MOVES) and ev.action not in SAID and ev.before != ev.after:
            detail = "；".join(x for x in (detail, _move(ev.before, ev.after)) if x)
        out.append(Line(ev.at, show(ev.at, True, form), n.person(ev.actor), what, detail, _tone(ev)))
    return out
