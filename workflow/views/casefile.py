"""The case file (案卷) of one item as plain data: its header, what is owed now, the timeline in words, every clock
and how it ended, the pages captured on arrival (网页取证), the reports, opinions, statements, guided replies, upward
reports, 批示 and deductions.

`build` reads; it never writes. The H5 page (bot/h5/views.py, templates/h5/item.html) renders it; names are names,
times are Beijing time, states are words; no userid or internal code is in it. The timeline is
`workflow.views.timeline.lines`, the same lines the archive PDF prints.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.durations import format_duration
from core.scoring import RuleSet
from models import (
    SUBMISSION_STATE_NAMES,
    Attachment,
    AuditEvent,
    Brief,
    Dispute,
    GuidedAssignment,
    GuidedTask,
    Item,
    Opinion,
    Statement,
    StatementState,
    Submission,
)
from models.assessment import ROLES
from models.clock import Clock, Extension
from models.events import Event
from models.item import FLOW_NAMES, PART_NAMES, SOURCES
from models.procedure import Act
from models.state import CLOCK_STATE_NAMES, ClockState, ExtensionState
from workflow.appraisal.assessment import of_item
from workflow.incident.files import IMAGES, LABELS, safe_name, size_text
from workflow.incident.guided import STATE_WORDS as GUIDED_WORDS
from workflow.incident.statement import STATE_NAMES as STATEMENT_WORDS
from workflow.record import evidence
from workflow.views import timeline
from workflow.views.query import ACTIONS
from workflow.views.render import grade_name

OFFICE = timeline.OFFICE
EXTENSION_WORDS = {
    ExtensionState.pending: "待审批",
    ExtensionState.approved: "已同意",
    ExtensionState.refused: "不同意",
}
FACT_STATES = {"upheld": "认定", "disputed": "申诉中", "withdrawn": "已撤销"}
DISPUTE_WORDS = {"pending": "待审定", "upheld": "维持扣分", "withdrawn": "撤销扣分"}
BRIEF_WORDS = {"pending": "待审批", "approved": "已批准", "returned": "已退回"}
FACT_ACTIONS = frozenset(
    {Event.fact_recorded, Act.fact_disputed, Event.dispute_decided}
)  # shown only with the deductions
REPORTS: dict[str, str] = {Act.first_report: "首报", Act.progress_report: "续报"}


def _at(value: datetime | None) -> str:
    return show(value, True) if value is not None else ""


def attachment(att: Attachment, n: int) -> dict[str, Any]:
    """One attachment as shown: id (for its link), name, kind label, size, ready or the reason it is not."""
    ctype = att.content_type or ""
    photo = att.kind in ("image", "photo")
    return {
        "id": att.id,
        "name": safe_name(att.original_name or att.title or (f"图片{n}" if photo else f"附件{n}")),
        "label": LABELS.get(ctype, "图片" if photo else "文件"),
        "size": size_text(att.size) if att.size else "",
        "ready": bool(att.stored_name),
        "error": att.fetch_error,
        "image": ctype in IMAGES,
    }


def _outcome(c: Clock, now: datetime) -> str:
    """How a clock ended, or where it stands, in one phrase."""
    if c.state == ClockState.met and c.met_at is not None:
        return f"{show(c.met_at, True)} 按时完成"
    if c.state == ClockState.met_late and c.met_at is not None:
        return f"超时后完成（{show(c.met_at, True)}，超时 {format_duration(c.met_at - c.due_at)}）"
    if c.state == ClockState.waived:
        return "已免除"
    if c.state == ClockState.missed or c.due_at <= now:
        over = now - c.due_at
        return f"已超时 {format_duration(over)}，仍须完成" if over >= timedelta(minutes=1) else "已超时，仍须完成"
    return f"进行中，还剩 {format_duration(c.due_at - now)}"


def _clock(session: Session, n: timeline.Names, c: Clock, now: datetime) -> dict[str, Any]:
    """One clock: its name, who owes it, its aim and due, how it ended, each extension asked and the decision."""
    owner = n.units.get(c.owner_unit_id, OFFICE) if c.owner_unit_id else OFFICE
    asked = session.scalars(select(Extension).where(Extension.clock_id == c.id).order_by(Extension.id))
    late = c.state in (ClockState.missed, ClockState.met_late) or (c.state == ClockState.open and c.due_at <= now)
    return {
        "label": c.label,
        "owner": owner,
        "charged": f"交办时已来不及，超时记在交办环节（{OFFICE}）" if c.charged == "office" else "",
        "grade": grade_name(c.grade),
        "started": _at(c.started_at),
        "aim": _at(c.aim_at),
        "due": _at(c.due_at),
        "state": CLOCK_STATE_NAMES.get(ClockState(c.state), str(c.state)),
        "outcome": _outcome(c, now),
        "open": c.state in (ClockState.open, ClockState.missed),
        "tone": "warn" if late else ("ok" if c.state == ClockState.met else ""),
        "extensions": [
            {
                "by": n.person(e.requested_by),
                "longer": format_duration(timedelta(seconds=e.seconds)),
                "reason": e.reason,
                "at": _at(e.created_at),
                "state": EXTENSION_WORDS.get(ExtensionState(e.state), str(e.state)),
                "decided_by": n.person(e.decided_by) if e.decided_by else "",
                "decided_at": _at(e.decided_at),
            }
            for e in asked
        ],
    }


def _events(session: Session, item: Item, *actions: str) -> list[AuditEvent]:
    q = select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action.in_(actions))
    return list(session.scalars(q.order_by(AuditEvent.id)))


def _said(n: timeline.Names, ev: AuditEvent, kind: str) -> dict[str, Any]:
    """A report or instruction someone wrote: kind, who (with their unit), when, text."""
    d = ev.detail or {}
    text = next((str(d[k]) for k in timeline.TEXT_KEYS if d.get(k)), "")
    if d.get("asked"):
        text = "：".join(x for x in (f"征求{n.listed(d['asked'])}的意见", text) if x)
    return {
        "kind": kind,
        "who": n.person(ev.actor),
        "at": _at(ev.at),
        "text": text or ("口头汇报" if d.get("oral") else ""),
    }


def _submission(n: timeline.Names, sub: Submission) -> dict[str, Any]:
    return {
        "version": sub.version,
        "unit": sub.unit.name,
        "part": PART_NAMES.get(sub.part, sub.part),
        "author": sub.author.name,
        "at": _at(sub.created_at),
        "state": SUBMISSION_STATE_NAMES[sub.state],
        "state_key": str(sub.state),
        "text": sub.text,
        "comment": sub.comment,
        "decided_by": n.person(sub.decided_by) if sub.decided_by else "",
        "decided_at": _at(sub.decided_at),
        "via": "网页上传" if sub.via == "h5" else "聊天",
        "files": [attachment(a, i) for i, a in enumerate(sub.attachments, 1)],
    }


def _submissions(session: Session, n: timeline.Names, item: Item) -> list[dict[str, Any]]:
    """Every version of every unit's written report: the lead unit first, newest version first."""
    subs = list(session.scalars(select(Submission).where(Submission.item_id == item.id)))
    subs.sort(key=lambda x: (x.part != "lead", x.unit_id, -x.version))
    return [_submission(n, x) for x in subs]


def _statements(session: Session, n: timeline.Names, item: Item) -> list[dict[str, Any]]:
    rows = session.scalars(select(Statement).where(Statement.item_id == item.id).order_by(Statement.version.desc()))
    return [
        {
            "version": s.version,
            "state": STATEMENT_WORDS.get(s.state, str(s.state)),
            "waiting": s.state in (StatementState.pending, StatementState.reviewed, StatementState.confirming),
            "approved": s.approved_at is not None,
            "text": s.text,
            "drafted_by": n.person(s.drafted_by),
            "at": _at(s.created_at),
            "approved_by": n.person(s.approved_by) if s.approved_by else "",
            "approved_at": _at(s.approved_at),
            "comment": s.comment or "",
            "published": (
                f"{_at(s.published_at)} 由{n.person(s.published_by)}发布于{s.published_where or ''}"
                if s.published_at
                else ""
            ),
            "published_url": s.published_url or "",
        }
        for s in rows
    ]


def _guided(session: Session, n: timeline.Names, item: Item) -> list[dict[str, Any]]:
    out = []
    for t in session.scalars(select(GuidedTask).where(GuidedTask.item_id == item.id).order_by(GuidedTask.id)):
        parts = session.scalars(select(GuidedAssignment).where(GuidedAssignment.task_id == t.id))
        out.append(
            {
                "line": t.line,
                "url": t.url or "",
                "due": _at(t.due_at),
                "by": n.person(t.created_by),
                "at": _at(t.created_at),
                "people": [
                    {
                        "who": n.person(a.userid),
                        "state": GUIDED_WORDS.get(a.state, str(a.state)),
                        "proof": a.proof_url or ("截图" if a.proof_media else ""),
                        "reason": a.reason or "",
                        "done_at": _at(a.done_at),
                    }
                    for a in parts
                ],
            }
        )
    return out


def _briefs(session: Session, n: timeline.Names, item: Item) -> list[dict[str, Any]]:
    rows = session.scalars(select(Brief).where(Brief.item_id == item.id).order_by(Brief.id))
    return [
        {
            "id": b.id,
            "kind": b.kind,
            "number": b.number,
            "state": BRIEF_WORDS.get(b.state, b.state),
            "requested_by": n.person(b.requested_by),
            "at": _at(b.created_at),
            "decided_by": n.person(b.decided_by) if b.decided_by else "",
            "decided_at": _at(b.decided_at),
            "sent": f"{_at(b.sent_at)} 由{n.person(b.sent_by)}报送{b.sent_to or ''}" if b.sent_at else "",
            "file": bool(b.stored_name),
        }
        for b in rows
    ]


def _facts(session: Session, n: timeline.Names, item: Item, sets: tuple[RuleSet, ...]) -> list[dict[str, Any]]:
    disputes: dict[str, list[Dispute]] = {}
    for d in session.scalars(select(Dispute).where(Dispute.item_id == item.id).order_by(Dispute.id)):
        disputes.setdefault(d.fact_key, []).append(d)
    return [
        {
            "key": r.key,
            "unit": n.units.get(r.unit_id, ""),
            "fact": r.fact,
            "role": ROLES[r.role],
            "points": f"{r.points:g}",
            "state": FACT_STATES[r.state],
            "detail": r.detail,
            "at": _at(r.at),
            "disputes": [
                {
                    "by": n.person(d.by),
                    "reason": d.reason,
                    "at": _at(d.at),
                    "state": DISPUTE_WORDS.get(str(d.state), str(d.state)),
                    "decided_by": n.person(d.decided_by) if d.decided_by else "",
                    "note": d.note or "",
                }
                for d in disputes.get(r.key, [])
            ],
        }
        for r in of_item(session, item, sets)
    ]


def _header(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "title": item.title,
        "grade": grade_name(item.grade),
        "state": item.state_name,
        "source": SOURCES.get(item.source, item.source),
        "flow": FLOW_NAMES.get(item.flow, item.flow) if item.flow else "",
        "text": item.text,
        "reporter": item.reporter.name,
        "reported_at": _at(item.reported_at),
        "related": item.related.code if item.related is not None else "",
    }


def _owed(clocks: list[dict[str, Any]], subs: list[dict[str, Any]], statements: list[dict[str, Any]]) -> list[str]:
    """What is owed now, in one line each: open clocks (who, what, by when) and decisions awaited."""
    out = [f"{c['owner']}：{c['label']}，最迟 {c['due']}（{c['outcome']}）" for c in clocks if c["open"]]
    out += [
        f"{e['by']}申请{c['label']}延长 {e['longer']}，待审批"
        for c in clocks
        for e in c["extensions"]
        if e["state"] == EXTENSION_WORDS[ExtensionState.pending]
    ]
    out += [
        f"{s['unit']}书面报告第 {s['version']} 版{s['state']}"
        for s in subs
        if s["state_key"] in ("pending", "reviewed")
    ]
    out += [f"口径第 {s['version']} 版{s['state']}" for s in statements if s["waiting"]]
    return out


def build(session: Session, item: Item, sets: tuple[RuleSet, ...], now: datetime, facts: bool = True) -> dict[str, Any]:
    """The whole case file of item as plain data (see the module docstring); the deductions (and their lines in
    the timeline) only with facts, scored with the rule sets."""
    n = timeline.names(session, item)
    clock_rows = session.scalars(select(Clock).where(Clock.item_id == item.id).order_by(Clock.started_at, Clock.id))
    clocks = [_clock(session, n, c, now) for c in clock_rows]
    subs = _submissions(session, n, item)
    statements = _statements(session, n, item)
    shots = [a for a in item.attachments if a.kind == "image" and a.submission_id is None]
    archived = _events(session, item, Act.archive)
    deductions = _facts(session, n, item, sets) if facts else []
    disputed = [f"{f['key']} {f['unit']}{f['fact']}的申诉待审定" for f in deductions if f["state"] == "申诉中"]
    return {
        "item": _header(item),
        "units": [
            {
                "name": r.unit.name,
                "part": PART_NAMES.get(r.part, r.part),
                "assigned": _at(r.assigned_at),
                "acknowledged": _at(r.acknowledged_at),
            }
            for r in item.units
        ],
        "links": [{"url": x.url, "safe": x.url.lower().startswith(("http://", "https://"))} for x in item.links],
        "screenshots": [attachment(a, i) for i, a in enumerate(shots, 1)],
        "evidence": [evidence.shown(c) for c in evidence.captures(session, item)],
        "owed": _owed(clocks, subs, statements) + disputed,
        "timeline": [
            asdict(x) for x in timeline.lines(session, item, None, ACTIONS, frozenset() if facts else FACT_ACTIONS)
        ],
        "clocks": clocks,
        "reports": [_said(n, e, REPORTS[e.action]) for e in _events(session, item, *REPORTS)],
        "submissions": subs,
        "consults": [_said(n, e, "征求意见") for e in _events(session, item, Act.consult)],
        "opinions": _opinions(session, n, item),
        "replies": [_said(n, e, "回复来源") for e in _events(session, item, Act.reply_source)],
        "statements": statements,
        "guided": _guided(session, n, item),
        "briefs": _briefs(session, n, item),
        "instructions": [_said(n, e, "批示") for e in _events(session, item, Act.instruction)],
        "closing": [
            _said(n, e, ACTIONS[e.action]) for e in _events(session, item, Act.close, Act.evaluate, Act.archive)
        ],
        "facts": deductions,
        "archived": _at(archived[-1].at) if archived else "",
    }


def _opinions(session: Session, n: timeline.Names, item: Item) -> list[dict[str, Any]]:
    rows = session.scalars(select(Opinion).where(Opinion.item_id == item.id).order_by(Opinion.id))
    return [{"who": n.person(o.userid), "agree": o.agree, "text": o.text, "at": _at(o.created_at)} for o in rows]
