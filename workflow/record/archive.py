"""The archive file (案卷, 立卷归档; seed 004 §6): one ZIP per archived item, written as a stream.

Inside: `案卷封面与经过.pdf` (the cover sheet and every audit event in Chinese, in order), every attachment and
written-report file as originally received, the pages captured on arrival (网页取证/: PNG, HTML, PDF, each listed
with its link, fetch time and the sha256 recorded at capture), the written reports' text, the approval, statement,
upward-report and assessment records (JSON), and `manifest.json` listing every file with its sha256, size and
origin. A file missing on disk is listed as missing (the package is still made, the office is told). The manifest's
own sha256 is recorded in the audit trail, so a changed package is detectable.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.clock import local, show
from core.config import Config
from core.safename import safe_name
from core.scoring import parse_scoring
from core.storage import archive_dir
from core.text import clean_name, clean_text
from models import Attachment, AuditEvent, Brief, Item, Person, Role, Statement, Submission
from models.events import Event
from models.item import GRADE_NAMES, SOURCES
from models.procedure import Act
from models.state import ItemState
from workflow.appraisal.assessment import of_item
from workflow.engine import procedure
from workflow.engine.audit import record
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.record import evidence
from workflow.views import render
from workflow.views import timeline as history
from workflow.views.query import ACTIONS

if TYPE_CHECKING:
    from fpdf import FPDF

CHUNK = 1 << 20
ZIP64_FROM = (1 << 31) - 1  # an entry this large needs ZIP64 headers, decided before its size is written
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
    q = select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == Act.archive)
    return session.scalar(q.order_by(AuditEvent.id.desc()).limit(1))


def timeline(session: Session, item: Item, upto: int | None = None) -> list[tuple[str, str, str, str]]:
    """Every audit event of the item in order (up to event id upto), as (when, who, what, detail) in Chinese: the
    lines of the shared renderer (workflow.views.timeline.lines) the case file page shows too, every time with its
    year (the record is read years later, and rebuilt the same in any year)."""
    lines = history.lines(session, item, upto, ACTIONS, form="long")
    return [(x.when, x.who, x.what, x.detail[:300]) for x in lines]


def cover(item: Item) -> list[tuple[str, str]]:
    """The cover sheet's fields."""
    return [
        ("编号", item.code),
        ("标题", item.title),
        ("等级", GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定"),  # type: ignore[call-overload]
        ("来源", SOURCES.get(item.source, item.source)),
        ("上报", f"{item.reporter.name} {show(item.reported_at, form='long')}"),
        ("承办", "、".join(u.unit.name for u in item.units) or "未交办"),
        ("状态", item.state_name),
        *([("关联", f"{item.related.code}（此前已归档的同一舆情）")] if item.related is not None else []),
    ]


def pdf(
    item: Item, events: list[tuple[str, str, str, str]], archived: str, dated: datetime | None = None,
    number: str = "", term: str = "", contents: list[tuple[str, str, bool]] | None = None,
) -> bytes:  # fmt: skip
    """The case file's PDF, written to PDF/A-2b's rules (see _pdfa), dated at the 归档 when given (else now): the
    cover sheet (档号, 保管期限), the 卷内目录 (each file of the package: name, origin, missing or not), the timeline,
    and the 备考表; page numbers "— n —" at the foot; lines left-aligned (never stretched across the page);
    characters the font lacks drawn as 〓."""
    from fpdf import FPDF

    from core import fonts

    fonts.quiet()

    class CaseFile(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("cjk", size=10)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    doc = CaseFile(format="A4")
    _pdfa(doc, fonts.drawable(clean_name(f"舆情处置案卷 {number or item.code} {item.title}")), dated or clock.now())
    doc.set_auto_page_break(auto=True, margin=18)
    doc.add_font("cjk", "", str(fonts.cjk_font()))

    def lines(text: str, height: float) -> None:
        doc.multi_cell(0, height, fonts.drawable(clean_text(text, None)), new_x="LMARGIN", new_y="NEXT", align="L")

    doc.add_page()
    doc.set_font("cjk", size=20)
    doc.cell(0, 16, "舆情处置案卷", new_x="LMARGIN", new_y="NEXT", align="C")
    doc.set_font("cjk", size=12)
    head = [("档号", number)] if number else []
    tail = [("保管期限", term)] if term else []
    for key, value in [*head, *cover(item), ("归档", archived), *tail]:
        lines(f"{key}：{value}", 8)
    doc.ln(4)
    lines(f"内容：{item.text[:1500]}", 7)
    if contents is not None:
        doc.add_page()
        doc.set_font("cjk", size=16)
        doc.cell(0, 12, "卷内目录", new_x="LMARGIN", new_y="NEXT", align="C")
        doc.set_font("cjk", size=10)
        lines(f"1. {PDF_NAME}（封面、卷内目录、处置经过、备考表）", 6)
        for i, (name, origin, gone) in enumerate(contents, 2):
            lines(f"{i}. {name}（{origin}）" + ("——存储中缺失，见 manifest.json" if gone else ""), 6)
    doc.add_page()
    doc.set_font("cjk", size=16)
    doc.cell(0, 12, "处置经过（审计记录，按时间顺序）", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=10)
    for when, who, what, detail in events:
        lines(f"{when}  {who}  {what}" + (f"：{detail}" if detail else ""), 6)
    if contents is not None:
        doc.add_page()
        doc.set_font("cjk", size=16)
        doc.cell(0, 12, "备考表", new_x="LMARGIN", new_y="NEXT", align="C")
        doc.set_font("cjk", size=12)
        absent = sum(1 for _n, _o, g in contents if g)
        lines(f"本卷情况说明：本卷共 {len(contents) + 1} 件（含本文件），其中在线存储中缺失 {absent} 件"
              f"{'（见 manifest.json）' if absent else ''}；每个文件的 SHA-256 列于 manifest.json。", 8)  # fmt: skip
        lines("立卷人：瞭望系统自动立卷", 8)
        lines(f"立卷时间：{archived}", 8)
        lines("检查人：", 8)
        lines("检查时间：", 8)
    return bytes(doc.output())


CREATOR = "瞭望（Liaowang）"
PRODUCER = "fpdf2"
XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <xmp:CreatorTool>{creator}</xmp:CreatorTool>
   <xmp:CreateDate>{at}</xmp:CreateDate>
   <xmp:ModifyDate>{at}</xmp:ModifyDate>
   <xmp:MetadataDate>{at}</xmp:MetadataDate>
   <pdf:Producer>{producer}</pdf:Producer>
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


def _pdfa(doc: FPDF, title: str, at: datetime) -> None:
    """Make doc a PDF/A-2b file: PDF 1.7; the Info dictionary (title, creator, producer, creation date in Beijing
    time) repeated in an XMP stream that declares pdfaid part 2 conformance B; an sRGB output intent (GTS_PDFA1, the
    ICC profile embedded, core.color); no transparency group or soft mask. fpdf2 embeds every font, writes the
    trailer /ID and encrypts nothing unless asked."""
    from xml.sax.saxutils import escape

    from fpdf.enums import OutputIntentSubType
    from fpdf.output import PDFICCProfile

    from core import color

    when = local(at).replace(microsecond=0)  # the PDF date format has whole seconds; the XMP says the same
    doc.pdf_version = "1.7"
    doc.allow_images_transparency = False  # no /Group /Transparency on pages, no /SMask on images
    doc.set_title(title)
    doc.set_creator(CREATOR)
    doc.set_producer(PRODUCER)
    doc.set_creation_date(when)
    fields = {"title": title, "creator": CREATOR, "producer": PRODUCER, "at": when.isoformat()}
    doc.set_xmp_metadata(XMP.format(**{k: escape(v) for k, v in fields.items()}))
    doc.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier=color.SRGB_NAME,
        output_condition="IEC 61966-2-1:1999",
        registry_name="http://www.color.org",
        dest_output_profile=PDFICCProfile(contents=color.srgb(), n=3, alternate="DeviceRGB"),
        info="sRGB2014 (ICC v2)",
    )


TERMS = {"major": "永久", "significant": "30年", "general": "10年"}  # 保管期限 by grade (configurable)
TERM_CODES = {"永久": "Y", "30年": "D30", "10年": "D10"}
NUMBER = "{year}-{term_code}-{code}"  # 档号 ([archive] number): fields year, term, term_code, code, grade


def term(config: Config, item: Item) -> str:
    """The item's 保管期限: [archive] retention by grade, else 永久 / 30年 / 10年 (一般 and 未定 alike)."""
    raw = {**TERMS, **((config.raw.get("archive") or {}).get("retention") or {})}
    return str(raw.get(item.grade or "general", raw["general"]))


def file_number(config: Config, item: Item, when: datetime) -> str:
    """The item's 档号 by [archive] number (default 2026-D30-YQ-20261206-001); ConfigError naming a bad field."""
    t = term(config, item)
    grade = GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定"  # type: ignore[call-overload]
    fields = {"year": local(when).year, "term": t, "term_code": TERM_CODES.get(t, t), "code": item.code, "grade": grade}
    return _number(config, fields)


def check(config: Config) -> None:
    """Raise ConfigError if [archive] number uses a field there is not (checked when the web app and worker start)."""
    _number(config, {"year": 2026, "term": "永久", "term_code": "Y", "code": "YQ-20261206-001", "grade": "一般"})


def _number(config: Config, fields: dict[str, Any]) -> str:
    from core.config import ConfigError

    scheme = str((config.raw.get("archive") or {}).get("number") or NUMBER)
    try:
        return scheme.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"[archive] number 只能用 {{year}} {{term}} {{term_code}} {{code}} {{grade}}：{exc}"
        ) from None


def _records(session: Session, config: Config, item: Item) -> dict[str, Any]:
    names = _names(session)
    subs = session.scalars(select(Submission).where(Submission.item_id == item.id).order_by(Submission.id))
    stmts = session.scalars(select(Statement).where(Statement.item_id == item.id).order_by(Statement.version))
    upward = session.scalars(
        select(AuditEvent).where(
            AuditEvent.item_id == item.id, AuditEvent.action.in_((Event.brief_sent, Act.instruction))
        )
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


EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx", "application/msword": ".doc",
    "video/mp4": ".mp4", "audio/amr": ".amr", "text/plain": ".txt",
}  # fmt: skip


def readable(session: Session, a: Attachment, i: int) -> str:
    """An attachment's name in the package: number, origin, its own name, its extension —
    03-书面报告第1版-核查报告.docx, 01-上报截图.png (never a bare hash)."""
    own = clean_text(a.original_name or a.title or "", 120).strip()
    stem, dot, ext = own.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot and stem and 0 < len(ext) <= 5 else (own, "")
    ext = ext or EXTENSIONS.get((a.content_type or "").split(";")[0].strip().lower(), "")
    if a.submission_id:
        version = session.scalar(select(Submission.version).where(Submission.id == a.submission_id))
        origin = f"书面报告第{version}版"
    else:
        origin = ORIGINS.get(a.kind, "上报截图" if a.kind in ("image", "photo") else "上报材料")
    return safe_name("-".join([f"{i:02d}", origin, *([stem] if stem else [])]) + ext)


@dataclass(frozen=True)
class Part:
    """One file of the package, planned before anything is written (so the PDF's 卷内目录 can list it)."""

    path: str
    origin: str
    source: Path | None = None  # a stored file, streamed in
    data: bytes | None = None  # bytes made here
    extra: dict[str, Any] = field(default_factory=dict)  # a link or a picture never fetched: listed, not written

    def missing(self) -> bool:
        """Tell whether the part is listed without its content (not on disk, or never fetched)."""
        return (self.source is not None and not self.source.is_file()) or bool(self.extra.get("missing"))


def parts(session: Session, config: Config, item: Item) -> list[Part]:
    """Every file of the package after the PDF, in order: attachments, written reports, upward reports, records."""
    out = []
    rows = session.scalars(select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id))
    for i, a in enumerate(rows, 1):
        if a.stored_name:
            where = "书面报告附件" if a.submission_id else ORIGINS.get(a.kind, "上报材料")
            out.append(Part(f"附件/{readable(session, a, i)}", where, source=config.storage_dir / a.stored_name))
        elif a.url:
            out.append(Part(f"附件/{i:03d}-链接", "链接", extra={"url": a.url}))
        elif a.media_id:
            out.append(Part(f"附件/{i:03d}-图片", "上报截图",
                            extra={"missing": True, "reason": a.fetch_error or "未取回"}))  # fmt: skip
    for e in evidence.for_package(session, item, _iso):  # 网页取证: each file with the sha256 taken at capture
        source = config.storage_dir / e.stored_name if e.stored_name else None
        out.append(Part(e.path, "网页取证", source=source, extra=e.extra))
    for s in session.scalars(select(Submission).where(Submission.item_id == item.id).order_by(Submission.id)):
        if s.text:
            name = f"书面报告/第{s.version}版-{safe_name(s.unit.name)}.txt"
            out.append(Part(name, "书面报告正文", data=s.text.encode()))
    for b in session.scalars(select(Brief).where(Brief.item_id == item.id, Brief.stored_name.is_not(None))):
        out.append(
            Part(f"上报/{safe_name(b.number)}.docx", f"舆情{b.kind}", source=config.storage_dir / str(b.stored_name))
        )
    records = json.dumps(_records(session, config, item), ensure_ascii=False, indent=2).encode()
    out.append(Part("记录/审批_口径_报送_扣分.json", "审批、口径、上报与扣分记录", data=records))
    return out


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
    planned = parts(session, config, item)
    number, kept = file_number(config, item, when), term(config, item)
    contents = [(p.path, p.origin, p.missing()) for p in planned]
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        cover_pdf = pdf(item, events, show(when, form="long"), when, number, kept, contents)
        _add_bytes(zf, pkg, cover_pdf, PDF_NAME, "封面与处置经过")
        for p in planned:
            if p.source is not None:
                _add_file(zf, pkg, p.source, p.path, p.origin)
                pkg.entries[-1].update(p.extra)  # what is known of it beyond its bytes (网页取证: link, fetch time)
            elif p.data is not None:
                _add_bytes(zf, pkg, p.data, p.path, p.origin)
            else:
                pkg.entries.append({"path": p.path, "origin": p.origin, **p.extra})
                if p.extra.get("missing"):
                    pkg.missing.append(p.path)
        body = {"item": item.code, "file_number": number, "retention": kept, "archived_at": _iso(when),
                "files": pkg.entries, "missing": pkg.missing}  # fmt: skip
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
    archived = select(AuditEvent.item_id).where(AuditEvent.action == Act.archive, AuditEvent.at <= cutoff)
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
