"""The H5 routes: the written-report upload page, the report viewer and the file download, all behind WeCom OAuth2."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from bot.h5 import present
from bot.h5.auth import (
    EXPIRED,
    csrf_ok,
    csrf_token,
    current_person,
    logged_in,
    rt,
)
from bot.h5.upload import FileRefused, describe, read_files, save
from bot.h5.web import bp, message, page
from core import clock
from core.safename import safe_name
from core.scoring import parse_scoring
from core.text import clean_text
from models import Attachment, Brief, Item, Person, Role, Unit
from models.procedure import Act
from workflow.appraisal import assessment
from workflow.engine import procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.incident.files import MAX_REQUEST_BYTES, content_disposition, download_name, is_inline
from workflow.incident.submission import assignment, submit
from workflow.people import org
from workflow.record import archive, evidence
from workflow.views import casefile
from workflow.views.query import involved

log = logging.getLogger(__name__)

NOT_INVOLVED = "您没有参与该舆情的处置，无权查看。"
NOT_YET = "文件正在从企业微信下载，请稍后刷新。"
NEED_LOGIN = "请从企业微信里打开报告页面后再查看文件。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BAD_CSRF = "页面已过期或来源不明（校验码不对），没有保存任何内容。请从企业微信里重新打开本页面再提交。"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """The whole request is over the app's MAX_CONTENT_LENGTH: a Chinese 413 page."""
    limit = (request.max_content_length or MAX_REQUEST_BYTES) // 1024 // 1024
    return message(f"一次提交的内容超过 {limit} MB，请分几次提交。没有保存任何内容。", 413)


def _page_login(view: Callable[[Session, Person, Item], Response], code: str) -> Response:
    """Run view(session, person, item) for a logged-in person and the item code names (404 if none)."""

    def with_item(s: Session, person: Person) -> Response:
        try:
            item = find_item(s, code)
        except Refusal as r:
            return message(r.message, 404)
        return view(s, person, item)

    return logged_in(with_item)


@bp.get("/upload/<code>")
def upload_form(code: str) -> Response:
    """The upload form for the person's unit's written report, or the reason they may not send one."""
    return _page_login(_upload_form, code)


def _upload_form(s: Session, person: Person, item: Item) -> Response:
    """Render the form (200), the refusal (403), or the earlier versions when no new one is accepted (409)."""
    try:
        row = assignment(s, item, person)
    except Refusal as r:
        return message(r.message, 403, item=present.item_summary(item))
    context = present.upload_context(s, item, row, person)
    if not procedure.allows(item, Act.written_report):
        return page("upload.html", 409, closed=present.closed_reason(item), **context)
    return page("upload.html", 200, csrf=csrf_token(), **context)


def person_and_item(s: Session, userid: str, code: str) -> tuple[Person, Item] | Response:
    """The logged-in person and the item a form names, or the page refusing (login expired 403, no such item 404)."""
    person = org.person(s, userid)
    if person is None:
        return message(EXPIRED, 403)
    try:
        return person, find_item(s, code)
    except Refusal as r:
        return message(r.message, 404)


@bp.post("/upload/<code>")
def upload_submit(code: str) -> Response:
    """Check the CSRF token, the person's right, every file by size and content; store them and submit a version."""
    with rt().sessions() as s:
        person = current_person(s)
        if person is None:
            return message(EXPIRED, 403)
        userid = person.userid
    if not csrf_ok(request.form.get("csrf")):
        return message(BAD_CSRF, 400)
    with rt().sessions() as s:
        found = person_and_item(s, userid, code)
        if isinstance(found, Response):
            return found
        person, item = found
        try:
            assignment(s, item, person)
        except Refusal as r:
            return message(r.message, 403, item=present.item_summary(item))
        code = item.code
    try:
        checked = read_files(request.files.getlist("files"))
    except FileRefused as r:
        return message(r.message, r.status, link=("返回重新选择", url_for("h5.upload_form", code=code)))
    text = clean_text(request.form.get("text", ""))
    if not text.strip() and not checked:
        return message(
            "书面报告是空的：请填写内容，或选择要上传的文件。",
            400,
            link=("返回填写", url_for("h5.upload_form", code=code)),
        )
    records = describe(checked)
    try:
        with rt().sessions() as s, s.begin():
            author = org.person(s, userid)
            if author is None:
                return message(EXPIRED, 403)
            sub = submit(s, author, code, text, clock.now(), rt().config, files=records, via="h5")
            save(rt().config.storage_dir, checked, records)
            version, lead, unit = sub.version, sub.part == "lead", sub.unit.name
    except Refusal as r:
        return message(r.message, 409, link=("查看报告", url_for("h5.viewer", code=code)))
    log.info("H5 written report %s v%s by %s: %d files", code, version, userid, len(checked))
    return page(
        "done.html",
        200,
        code=code,
        version=version,
        lead=lead,
        unit=unit,
        files=checked,
        viewer=url_for("h5.viewer", code=code),
    )


@bp.get("/item/<code>")
def viewer(code: str) -> Response:
    """The item with its links, screenshots and every version of every unit's report, for people involved."""
    return _page_login(_viewer, code)


FACT_READERS = (Role.office, Role.leader, Role.general_office)  # who reads an item's deductions on its case file
BRIEF_READERS = FACT_READERS


def _viewer(s: Session, person: Person, item: Item) -> Response:
    """Render the case file for a person involved in item, else 403; the office also records facts there."""
    if not involved(s, person, item):
        return message(NOT_INVOLVED, 403)
    show_facts = any(person.has(r) for r in FACT_READERS)
    cf = casefile.build(s, item, parse_scoring(rt().config.raw.get("scoring")), clock.now(), show_facts)
    for f in [*cf["screenshots"], *(a for v in cf["submissions"] for a in v["files"])]:
        f["url"] = url_for("h5.file", attachment_id=f["id"])
    for f in (f for c in cf["evidence"] for f in c["files"]):
        f["url"] = url_for("h5.evidence_file", code=item.code, file_id=f["id"])
    extra = present.record_form(item) if person.has(Role.office) else {}
    return page(
        "item.html",
        200,
        csrf=csrf_token(),
        person=person.name,
        show_facts=show_facts,
        may_brief=any(person.has(r) for r in BRIEF_READERS),
        **cf,
        **extra,
    )


@bp.get("/item/<code>/brief/<int:brief_id>.docx")
def brief_file(code: str, brief_id: int) -> Response:
    """An upward report's Word file (快报/专报), for the office, the general office and leaders."""
    return _page_login(lambda s, person, item: _brief_file(s, person, item, brief_id), code)


def _brief_file(s: Session, person: Person, item: Item, brief_id: int) -> Response:
    if not any(person.has(r) for r in BRIEF_READERS):
        return message("快报和专报由领导小组办公室和领导查看。", 403)
    b = s.get(Brief, brief_id)
    if b is None or b.item_id != item.id or not b.stored_name:
        return message("没有这份快报或专报的文件。", 404)
    path = _inside(rt().config.storage_dir, b.stored_name)
    if path is None:
        return message("文件不在存储目录中，请联系管理员。", 404)
    return send_file(path, mimetype=DOCX, as_attachment=True, download_name=safe_name(f"{b.number}.docx"))


@bp.get("/item/<code>/evidence/<int:file_id>")
def evidence_file(code: str, file_id: int) -> Response:
    """A captured page's file (网页取证: PNG shown inline; HTML and PDF downloaded, never rendered here)."""
    return _page_login(lambda s, person, item: _evidence_file(s, person, item, file_id), code)


def _evidence_file(s: Session, person: Person, item: Item, file_id: int) -> Response:
    if not involved(s, person, item):
        return message(NOT_INVOLVED, 403)
    found = evidence.find_file(s, item, file_id)
    if found is None:
        return message("没有这个取证文件。", 404)
    f, n = found
    path = _inside(rt().config.storage_dir, f.stored_name)
    if path is None:
        return message("文件不在存储目录中，请联系管理员。", 404)
    inline = f.kind == "png"  # a captured page's HTML must never run in our origin: it is a download
    ctype = {"png": "image/png", "pdf": "application/pdf"}.get(f.kind, "application/octet-stream")
    resp = send_file(path, mimetype=ctype, conditional=True, etag=False)
    resp.headers["Content-Disposition"] = content_disposition(evidence.file_name(item, n, f.kind), inline)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return resp


@bp.get("/item/<code>/archive.zip")
def archive_download(code: str) -> Response:
    """The archived item's package (案卷), for the office."""
    return _page_login(_archive_download, code)


def _archive_download(s: Session, person: Person, item: Item) -> Response:
    if not person.has(Role.office):
        return message("案卷由领导小组办公室下载。", 403)
    if not procedure.allows(item, Act.package):
        return message(f"{item.code} 还没有立卷归档，没有案卷。", 409)
    path = archive.package_path(rt().config, item)
    if not path.is_file():
        return message("案卷正在生成，请稍后刷新。生成后办公室会收到通知。", 409)
    return send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=safe_name(f"{item.code} 案卷.zip")
    )


@bp.post("/item/<code>/fact")
def record_fact(code: str) -> Response:
    """The office records 漏报 / 瞒报 / 处置不当 against one of the item's units, with an optional evidence file."""
    with rt().sessions() as s:
        person = current_person(s)
        userid = person.userid if person else None
    if userid is None:
        return message(EXPIRED, 403)
    if not csrf_ok(request.form.get("csrf")):
        return message(BAD_CSRF, 400)
    back = ("返回条目", url_for("h5.viewer", code=code))
    try:
        checked = read_files(request.files.getlist("evidence_file"))
    except FileRefused as r:
        return message(r.message, r.status, link=back)
    records = describe(checked)
    form = request.form
    try:
        with rt().sessions() as s, s.begin():
            actor = org.person(s, userid)
            unit = s.scalar(select(Unit).where(Unit.key == form.get("unit", "")))
            if actor is None:
                return message(EXPIRED, 403)
            if unit is None:
                raise Refusal("请选择单位。")
            fact = assessment.record_fact(
                s, actor, code, unit, form.get("kind", ""), form.get("role", ""), clean_text(form.get("reason", "")),
                clean_text(form.get("evidence", "")), clock.now(), records[0] if records else None,
            )  # fmt: skip
            save(rt().config.storage_dir, checked[:1], records[:1])
            key, unit_name = f"F{fact.id}", unit.name
    except Refusal as r:
        return message(r.message, 400, link=back)
    return message(f"已记录 {key}：{unit_name} {form.get('kind')}。该单位负责人已收到通知，可以申诉。", 200, link=back)


@bp.get("/file/<int:attachment_id>")
def file(attachment_id: int) -> Response:
    """Serve a stored attachment's bytes to a logged-in person involved in its item; 403/404 otherwise."""
    root = rt().config.storage_dir
    with rt().sessions() as s:
        person = current_person(s)
        if person is None:
            return message(NEED_LOGIN, 403)
        att = s.get(Attachment, attachment_id)
        item = s.get(Item, att.item_id) if att is not None else None
        if att is None or item is None:
            return message("没有这个文件。", 404)
        if not involved(s, person, item):
            return message(NOT_INVOLVED, 403)
        if not att.stored_name:
            why = f"这个文件未能从企业微信取回（{att.fetch_error}）。" if att.fetch_error else NOT_YET
            return message(why, 404)
        stored, ctype = att.stored_name, present.served_type(att.content_type)
        name = download_name(att.original_name or att.title or f"附件{att.id}", ctype)
    path = _inside(root, stored)
    if path is None:
        return message("文件不在存储目录中，请联系管理员。", 404)
    resp = send_file(path, mimetype=ctype, conditional=True, etag=False)
    resp.headers["Content-Disposition"] = content_disposition(name, is_inline(ctype))
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _inside(root: Path, stored: str) -> Path | None:
    """Return root/stored if it is an existing file inside root, else None."""
    base = root.resolve()
    path = (base / stored).resolve()
    return path if path.is_relative_to(base) and path.is_file() else None
