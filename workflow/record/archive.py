"""The archive file (案卷, 立卷归档; seed 004 §6): one ZIP per archived item, written as a stream.

Inside: `案卷封面与经过.pdf` (the cover sheet and every audit event in Chinese, in order), every attachment and
written-report file as originally received, the written reports' text, the approval, statement, upward-report and
assessment records (JSON), and `manifest.json` listing every file with its sha256, size and origin. A file missing
on disk is listed as missing (the package is still made, the office is told). The manifest's own sha256 is recorded
in the audit trail, so a changed package is detectable.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import local, show
from core.config import Config
from core.safename import safe_name
from core.scoring import parse_scoring
from core.storage import archive_dir
from core.text import clean_text
from models import Attachment, AuditEvent, Brief, Item, Person, Role, Statement, Submission
from models.events import Event
from models.item import GRADE_NAMES, SOURCES
from models.procedure import Act
from models.state import CLOCK_STATE_NAMES, STATE_NAMES, ItemState
from workflow.appraisal.assessment import of_item
from workflow.engine import procedure
from workflow.engine.audit import record
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render
from workflow.views import timeline as history
from workflow.views.query import ACTIONS

CHUNK = 1 << 20
ZIP64_FROM = (1 << 31) - 1  # an entry this large needs ZIP64 headers, decided before its size is written
WORDS = {str(k): v for k, v in [*STATE_NAMES.items(), *CLOCK_STATE_NAMES.items()]}  # states as people read them
PDF_NAME = "案卷封面与经过.pdf"


def package_path(config: Config, item: Item) -> Path:
    """The item's package on disk."""
    return archive_dir(config) / f"{safe_name(item.code)}.zip"


@dataclass
class Package:
    """What went into a package: its manifest entries and what was missing."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    dated: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)  # every entry's date: the 归档 (Beijing)


def _sha(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _entry(pkg: Package, arcname: str, compress: int) -> zipfile.ZipInfo:
    """A ZIP entry dated at the 归档 (not at the moment of writing), so the same record makes the same bytes."""
    info = zipfile.ZipInfo(arcname, date_time=pkg.dated)
    info.compress_type = compress
    return info


def _add_file(zf: zipfile.ZipFile, pkg: Package, source: Path, arcname: str, origin: str) -> None:
    """Stream one stored file into the package (never whole in memory); list it, or list it as missing."""
    if not source.is_file():
        pkg.entries.append({"path": arcname, "origin": origin, "missing": True})
        pkg.missing.append(arcname)
        return
    digest, size = _sha(source)
    info = _entry(pkg, arcname, zipfile.ZIP_STORED)  # pictures, PDF and Word are compressed already
    with source.open("rb") as src, zf.open(info, "w", force_zip64=size > ZIP64_FROM) as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    pkg.entries.append({"path": arcname, "sha256": digest, "size": size, "origin": origin})


def _add_bytes(zf: zipfile.ZipFile, pkg: Package, data: bytes, arcname: str, origin: str) -> None:
    zf.writestr(_entry(pkg, arcname, zipfile.ZIP_DEFLATED), data)
    pkg.entries.append(
        {"path": arcname, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "origin": origin}
    )


CLI = "命令行"  # the actor of steps taken with the liaowang command


def _names(session: Session) -> dict[str, str]:
    return {p.userid: p.name for p in session.scalars(select(Person))}


def _who(names: dict[str, str], userid: str | None) -> str | None:
    """A person as “name（userid）” for the package's records (None stays None)."""
    if not userid:
        return userid
    name = "系统" if userid == "system" else names.get(userid)
    return f"{name}（{userid}）" if name and name != userid else userid


def _iso(at: datetime | None) -> str | None:
    """A time in the package's records: Beijing time, ISO 8601 with +08:00."""
    return local(at).isoformat() if at is not None else None


def archived_event(session: Session, item: Item) -> AuditEvent | None:
    """The item's 归档 step (its record ends there), if it was archived."""
    q = select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == "archive")
    return session.scalar(q.order_by(AuditEvent.id.desc()).limit(1))


def timeline(session: Session, item: Item, upto: int | None = None) -> list[tuple[str, str, str, str]]:
    """Every audit event of the item in order (up to event id upto), as (when, who, what, detail) in Chinese."""
    n = history.names(session, item)
    out = []
    q = select(AuditEvent).where(AuditEvent.item_id == item.id)
    q = q.where(AuditEvent.id <= upto) if upto is not None else q
    for ev in session.scalars(q.order_by(AuditEvent.id)):
        what, detail = history.words(n, ev, ACTIONS.get(ev.action, ev.action))
        if (ev.before in WORDS or ev.after in WORDS) and ev.action != "extension_decision":
            move = f"{WORDS.get(ev.before or '', ev.before or '')}→{WORDS.get(ev.after or '', ev.after or '')}"
            detail = "；".join(x for x in (detail, move) if x)
        out.append((show(ev.at, True), n.person(ev.actor), what, detail[:300]))
    return out


def cover(item: Item) -> list[tuple[str, str]]:
    """The cover sheet's fields."""
    return [
        ("编号", item.code),
        ("标题", item.title),
        ("等级", GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定"),  # type: ignore[call-overload]
        ("来源", SOURCES.get(item.source, item.source)),
        ("上报", f"{item.reporter.name} {show(item.reported_at, True)}"),
        ("承办", "、".join(u.unit.name for u in item.units) or "未交办"),
        ("状态", item.state_name),
        *([("关联", f"{item.related.code}（此前已归档的同一舆情）")] if item.related is not None else []),
    ]


def pdf(item: Item, events: list[tuple[str, str, str, str]], archived: str, dated: datetime | None = None) -> bytes:
    """The cover sheet and the timeline as a PDF (Noto Sans CJK SC embedded), dated at the 归档 when given."""
    from fpdf import FPDF

    from workflow.appraisal.bulletin_files import font_path

    doc = FPDF(format="A4")
    if dated is not None:
        doc.set_creation_date(dated)
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_font("cjk", "", str(font_path()))
    doc.add_page()
    doc.set_font("cjk", size=20)
    doc.cell(0, 16, "舆情处置案卷", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font("cjk", size=12)
    for key, value in [*cover(item), ("归档", archived)]:
        doc.multi_cell(0, 8, clean_text(f"{key}：{value}", None), new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    doc.multi_cell(0, 7, clean_text(f"内容：{item.text[:1500]}"), new_x="LMARGIN", new_y="NEXT")
    doc.add_page()
    doc.set_font("cjk", size=16)
    doc.cell(0, 12, "处置经过（审计记录，按时间顺序）", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=10)
    for when, who, what, detail in events:
        line = f"{when}  {who}  {what}" + (f"：{detail}" if detail else "")
        doc.multi_cell(0, 6, clean_text(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def _records(session: Session, config: Config, item: Item) -> dict[str, Any]:
    names = _names(session)
    subs = session.scalars(select(Submission).where(Submission.item_id == item.id).order_by(Submission.id))
    stmts = session.scalars(select(Statement).where(Statement.item_id == item.id).order_by(Statement.version))
    upward = session.scalars(
        select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action.in_(("brief_sent", "instruction")))
    )
    return {
        "written_reports": [
            {
                "version": s.version,
                "unit": s.unit.name,
                "author": _who(names, s.author.userid),
                "state": s.state.value,
                "decided_by": _who(names, s.decided_by),
                "comment": s.comment,
                "created_at": _iso(s.created_at),
                "text": s.text,
            }
            for s in subs
        ],
        "statements": [
            {
                "version": s.version,
                "state": s.state.value,
                "text": s.text,
                "drafted_by": _who(names, s.drafted_by),
                "approved_by": _who(names, s.approved_by),
                "approved_at": _iso(s.approved_at),
                "published_where": s.published_where,
                "published_url": s.published_url,
                "published_at": _iso(s.published_at),
                "published_by": _who(names, s.published_by),
            }
            for s in stmts
        ],
        "facts": [
            {
                "key": r.key,
                "fact": r.fact,
                "role": r.role,
                "points": r.points,
                "state": r.state,
                "detail": r.detail,
                "at": _iso(r.at),
            }
            for r in of_item(session, item, parse_scoring(config.raw.get("scoring")))
        ],  # fmt: skip
        "upward_and_instructions": [
            {"action": e.action, "actor": _who(names, e.actor), "at": _iso(e.at), **(e.detail or {})} for e in upward
        ],
    }


ORIGINS = {"evidence": "扣分证据", "proof": "跟帖凭证"}


def _attachments(zf: zipfile.ZipFile, pkg: Package, session: Session, config: Config, item: Item) -> None:
    rows = session.scalars(select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id))
    for i, a in enumerate(rows, 1):
        if a.stored_name:
            name = safe_name(a.original_name or a.title or a.stored_name.split("/")[-1])
            where = "书面报告附件" if a.submission_id else ORIGINS.get(a.kind, "上报材料")
            _add_file(zf, pkg, config.storage_dir / a.stored_name, f"附件/{i:03d}-{name}", where)
        elif a.url:
            pkg.entries.append({"path": f"附件/{i:03d}-链接", "origin": "链接", "url": a.url})
        elif a.media_id:
            path = f"附件/{i:03d}-图片"
            pkg.entries.append(
                {"path": path, "origin": "上报截图", "missing": True, "reason": a.fetch_error or "未取回"}
            )
            pkg.missing.append(path)


def build(session: Session, config: Config, item: Item, out: Path, at: datetime) -> tuple[str, Package]:
    """Write the package of item to out (streamed) and return (the manifest's sha256, what went in).

    The package is the record as it stood at 归档: its timeline ends with the 归档 step and every date in it is the
    归档's, so packaging the same archived item again gives the same bytes (later packaging and pruning are audited
    but are not part of the case file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    ev = archived_event(session, item)
    when = ev.at if ev is not None else at
    pkg = Package(dated=local(when).timetuple()[:6])
    events = timeline(session, item, ev.id if ev is not None else None)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _add_bytes(zf, pkg, pdf(item, events, show(when, True), when), PDF_NAME, "封面与处置经过")
        _attachments(zf, pkg, session, config, item)
        for s in session.scalars(select(Submission).where(Submission.item_id == item.id).order_by(Submission.id)):
            if s.text:
                _add_bytes(
                    zf, pkg, s.text.encode(), f"书面报告/第{s.version}版-{safe_name(s.unit.name)}.txt", "书面报告正文"
                )
        for b in session.scalars(select(Brief).where(Brief.item_id == item.id, Brief.stored_name.is_not(None))):
            _add_file(
                zf, pkg, config.storage_dir / str(b.stored_name), f"上报/{safe_name(b.number)}.docx", f"舆情{b.kind}"
            )
        records = json.dumps(_records(session, config, item), ensure_ascii=False, indent=2).encode()
        _add_bytes(zf, pkg, records, "记录/审批_口径_报送_扣分.json", "审批、口径、上报与扣分记录")
        body = {"item": item.code, "archived_at": _iso(when), "files": pkg.entries, "missing": pkg.missing}
        manifest = json.dumps(body, ensure_ascii=False, indent=2).encode()
        zf.writestr(_entry(pkg, "manifest.json", zipfile.ZIP_DEFLATED), manifest)
    tmp.replace(out)
    return hashlib.sha256(manifest).hexdigest(), pkg


def make(
    session: Session, config: Config, code: str, at: datetime, out: Path | None = None, actor: str = "system"
) -> tuple[Path, str, Package]:
    """Package an archived item (refuse an item not yet archived), record the manifest's hash, tell the office about
    anything missing; return (path, manifest sha256, package)."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.package, None)
    path = out or package_path(config, item)
    digest, pkg = build(session, config, item, path, at)
    files, missing = len(pkg.entries), pkg.missing
    # the archived record is closed: the packaging is audited outside it (item_id NULL, the 编号 in the detail)
    procedure.apply(session, item, Act.package, None, at, by=actor, outside=True, code=item.code,
                    manifest_sha256=digest, files=files, missing=missing)  # fmt: skip
    if pkg.missing:
        office = org.userids(org.with_role(session, Role.office))
        text = (
            f"【案卷】{item.code} 的案卷已生成，但有 {len(missing)} 个文件在存储中找不到："
            f"{'、'.join(missing)[:300]}。清单 manifest.json 已注明。"
        )
        emit(session, office, render.text(text), f"archive:{item.code}:{digest[:12]}:missing", at, item)
    return path, digest, pkg


def prune(session: Session, config: Config, now: datetime, apply: bool) -> list[tuple[str, str, int]] | None:
    """Attachments stored online for items archived longer than [archive] keep_attachments (None: kept for ever).

    Returns (编号, file, bytes) for each; with apply the files are deleted from storage and each item's deletion is
    audited (the package, written at 归档, keeps its copy)."""
    from core.durations import parse_duration

    keep = str(config.raw.get("archive", {}).get("keep_attachments", "forever"))
    if keep == "forever":
        return None
    cutoff = now - parse_duration(keep)
    archived = select(AuditEvent.item_id).where(AuditEvent.action == "archive", AuditEvent.at <= cutoff)
    plan: list[tuple[str, str, int]] = []
    for item in session.scalars(select(Item).where(Item.id.in_(archived), Item.state == ItemState.archived)):
        gone = []
        for a in session.scalars(
            select(Attachment).where(Attachment.item_id == item.id, Attachment.stored_name.is_not(None))
        ):
            path = config.storage_dir / str(a.stored_name)
            shared = select(Attachment.id).where(Attachment.stored_name == a.stored_name, Attachment.item_id != item.id)
            if path.is_file() and session.scalar(shared.limit(1)) is None:  # files are kept by content: never another's
                plan.append((item.code, a.original_name or a.stored_name or "", path.stat().st_size))
                gone.append(str(a.stored_name))
                if apply:
                    path.unlink()
        if apply and gone:
            record(session, None, CLI, Event.attachments_pruned, now, code=item.code, files=gone, keep=keep)
    return plan
