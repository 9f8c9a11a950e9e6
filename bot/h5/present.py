"""What the H5 templates show: plain dictionaries built from the database, with names made safe for display."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import SUBMISSION_STATE_NAMES, Attachment, Item, ItemUnit, Person, Submission
from models.item import PART_NAMES
from models.procedure import Act
from workflow.engine import procedure
from workflow.incident.files import EXTENSIONS, IMAGES, LABELS, safe_name, size_text
from workflow.views.render import grade_name


def item_summary(item: Item) -> dict[str, Any]:
    """Return the item's code, title, grade and state for the page header."""
    return {"code": item.code, "title": item.title, "grade": grade_name(item.grade), "state": item.state_name}


def closed_reason(item: Item) -> str:
    """Return why no new version can be sent for item in its present state."""
    return (
        f"{item.code} 的书面报告已审核通过（当前：{item.state_name}），不能再上传新版本。"
        f"有新情况请在聊天中发送“续报 {item.code} 内容”。"
    )


def served_type(content_type: str | None) -> str:
    """Return the content type to serve a stored file with: one we accept, else application/octet-stream."""
    return content_type if content_type in EXTENSIONS else "application/octet-stream"


def attachment_view(att: Attachment, n: int) -> dict[str, Any]:
    """Return one attachment for display: name, kind label, size, link, and whether it is ready or failed."""
    ctype = att.content_type or ""
    fallback = f"图片{n}" if att.kind in ("image", "photo") else f"附件{n}"
    return {
        "id": att.id,
        "name": safe_name(att.original_name or att.title or fallback),
        "label": LABELS.get(ctype, "图片" if att.kind in ("image", "photo") else "文件"),
        "size": size_text(att.size) if att.size else "",
        "ready": bool(att.stored_name),
        "error": att.fetch_error,
        "image": ctype in IMAGES,
        "url": url_for("h5.file", attachment_id=att.id),
    }


def submission_view(sub: Submission) -> dict[str, Any]:
    """Return one version of a unit's written report for display."""
    return {
        "version": sub.version,
        "unit": sub.unit.name,
        "part": PART_NAMES.get(sub.part, sub.part),
        "author": sub.author.name,
        "at": show(sub.created_at, True),
        "state": SUBMISSION_STATE_NAMES[sub.state],
        "state_key": sub.state,
        "text": sub.text,
        "comment": sub.comment,
        "via": "网页上传" if sub.via == "h5" else "聊天",
        "files": [attachment_view(a, i) for i, a in enumerate(sub.attachments, 1)],
    }


def _submissions(s: Session, item: Item, unit_id: int | None = None) -> list[Submission]:
    """Return item's versions (of one unit if given): the lead unit first, newest version first."""
    query = select(Submission).where(Submission.item_id == item.id)
    if unit_id is not None:
        query = query.where(Submission.unit_id == unit_id)
    subs = list(s.scalars(query.order_by(Submission.unit_id, Submission.version.desc())))
    return sorted(subs, key=lambda x: (x.part != "lead", x.unit_id, -x.version))


def upload_context(s: Session, item: Item, row: ItemUnit, person: Person) -> dict[str, Any]:
    """Return what the upload page shows: the item, the person's unit and part, and that unit's earlier versions."""
    return {
        "item": item_summary(item),
        "unit": row.unit.name,
        "part": PART_NAMES.get(row.part, row.part),
        "person": person.name,
        "versions": [submission_view(x) for x in _submissions(s, item, row.unit_id)],
        "viewer": url_for("h5.viewer", code=item.code),
    }


def _link(url: str) -> dict[str, Any]:
    """Return a reported link for display; only http(s) links become clickable."""
    return {"url": url, "safe": url.lower().startswith(("http://", "https://"))}


def viewer_context(s: Session, item: Item, person: Person) -> dict[str, Any]:
    """Return what the viewer shows: the item, its units and links, the reporter's screenshots, every version."""
    shots = [a for a in item.attachments if a.kind == "image" and a.submission_id is None]
    units = [
        {"name": r.unit.name, "part": PART_NAMES.get(r.part, r.part), "acknowledged": r.acknowledged_at is not None}
        for r in item.units
    ]
    return {
        "item": {
            **item_summary(item),
            "text": item.text,
            "reporter": item.reporter.name,
            "reported_at": show(item.reported_at, True),
        },
        "person": person.name,
        "units": units,
        "links": [_link(x.url) for x in item.links],
        "screenshots": [attachment_view(a, i) for i, a in enumerate(shots, 1)],
        "submissions": [submission_view(x) for x in _submissions(s, item)],
    }


def facts_context(s: Session, item: Item, config: Config) -> dict[str, Any]:
    """For the office on the item page: the item's assessment facts and what the record form offers."""
    from core.scoring import parse_scoring
    from models.assessment import RECORDED_KINDS, ROLES
    from workflow.appraisal.assessment import of_item

    rows = of_item(s, item, parse_scoring(config.raw.get("scoring")))
    states = {"upheld": "认定", "disputed": "申诉中", "withdrawn": "已撤销"}
    return {
        "facts": [
            {
                "key": r.key,
                "fact": r.fact,
                "role": ROLES[r.role],
                "points": f"{r.points:g}",
                "state": states[r.state],
                "detail": r.detail,
                "unit": next((u.unit.name for u in item.units if u.unit_id == r.unit_id), ""),
            }
            for r in rows
        ],  # fmt: skip
        "fact_units": [(u.unit.key, f"{u.unit.name}（{PART_NAMES.get(u.part, u.part)}）") for u in item.units],
        "fact_kinds": RECORDED_KINDS,
        "may_record": True,
        "archived": procedure.allows(item, Act.package),
    }
