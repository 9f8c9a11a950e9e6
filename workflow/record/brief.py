"""Upward reports (舆情快报 first and fast, 专报 later) as Word documents, their approval, the record of sending them
upward (seed 003: 经办公室汇总上报; seed 001 第十条: 归口报送), and leaders' instructions (批示)."""

from __future__ import annotations

import io
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import local, show
from core.config import Config
from core.safename import safe_name
from core.storage import store
from core.text import clean_name, clean_text
from models import AuditEvent, Brief, Item, Person, Role, Submission
from models.codes import card_key
from models.events import Event
from models.item import GRADE_NAMES, SOURCES
from models.procedure import Act
from models.state import CardPurpose, SubmissionState
from workflow.engine import procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.outbox import emit
from workflow.incident import statement
from workflow.people import org
from workflow.views import render

KINDS = ("快报", "专报")
NEXT = {"快报": "持续关注网上态势，按规定时限续报。", "专报": "做好善后处置和总结评估，防止反弹。"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _texts(session: Session, item: Item, actions: tuple[str, ...]) -> list[str]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
    )
    return [
        f"{show(e.at, True)} {(e.detail or {}).get('text', '')}".strip() for e in rows if (e.detail or {}).get("text")
    ]


def sections(
    session: Session, config: Config, item: Item, kind: str, number: str, at: datetime
) -> list[tuple[str, str]]:
    """The standard layout filled from the item's record: (heading, text) in order."""
    sender = str(config.raw.get("brief", {}).get("sender", "舆情工作领导小组办公室"))
    links = "\n".join(x.url for x in item.links) or "（无）"
    approved = session.scalars(
        select(Submission)
        .where(Submission.item_id == item.id, Submission.state == SubmissionState.approved)
        .order_by(Submission.version)
    ).all()
    line = statement.approved(session, item)
    handled = _texts(session, item, ("handling_report", "reply_source"))
    situation = _texts(session, item, ("first_report", "progress_report"))
    attachments = [a.original_name or a.title or a.kind for a in item.attachments]
    return [
        ("报送单位", sender),
        ("编号", f"{number}（{item.code}）"),
        ("时间", show(at, form="long")),
        ("舆情来源与链接", f"{SOURCES.get(item.source, item.source)}\n{links}"),
        ("主要内容", item.text),
        ("网上态势", "\n".join(situation) or "（尚未报送首报或续报）"),
        ("核查情况", "\n".join(s.text for s in approved if s.text) or "（书面报告尚未审核通过）"),
        ("处置情况", "\n".join(handled) or "（尚未报送处置情况）"),
        ("对外口径", line.text if line else "（尚无定稿口径）"),
        (
            "下一步工作",
            "持续关注网上态势，按规定时限续报。" if kind == "快报" else "做好善后处置和总结评估，防止反弹。",
        ),
        ("附件", "、".join(attachments) or "无"),
        ("等级", GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定"),  # type: ignore[call-overload]
    ]


def docx(session: Session, config: Config, item: Item, kind: str, number: str, at: datetime) -> bytes:
    """The Word document of the item's 快报 / 专报 (see document)."""
    return document(kind, item.title, sections(session, config, item, kind, number, at))


def document(kind: str, title: str, parts: list[tuple[str, str]]) -> bytes:
    """The Word document: 舆情{kind} and the title centred, then each section's heading and text; any text is
    written (characters Word's XML cannot hold are dropped, Word's line breaks start a new paragraph)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(14)
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(f"舆情{clean_name(kind)}")
    run.bold, run.font.size = True, Pt(22)
    doc.add_paragraph(clean_name(title, 500)).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for heading, text in parts:
        p = doc.add_paragraph()
        p.add_run(f"{clean_name(heading)}：").bold = True
        for i, line in enumerate(clean_text(text, None).split("\n")):
            (p if i == 0 else doc.add_paragraph()).add_run(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def next_number(session: Session, kind: str, at: datetime) -> str:
    """快报〔2026〕第 N 期: numbered per kind and year."""
    year = local(at).year
    n = session.scalar(
        select(func.count()).select_from(Brief).where(Brief.kind == kind, Brief.number.like(f"%〔{year}〕%"))
    )
    return f"{kind}〔{year}〕第 {int(n or 0) + 1} 期"


def request(session: Session, config: Config, actor: Person, code: str, kind: str, at: datetime) -> Brief:
    """The office asks for a 快报 / 专报; the leaders (else the office) approve it on a card."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.brief, actor)
    b = Brief(
        item_id=item.id, kind=kind, number=next_number(session, kind, at), state="pending",
        requested_by=actor.userid, deciders=[], created_at=at,
    )  # fmt: skip
    session.add(b)
    session.flush()
    b.deciders = org.userids(org.with_role(session, Role.leader)) or org.userids(org.with_role(session, Role.office))
    task_id = f"brief-{b.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.brief, task_id, item.id, b.deciders, at, about=b.id)
    body = render.button_card(
        "瞭望 · 上报审批",
        f"【{kind}审批】{item.title}",
        f"{b.number}：{item.text[:120]}",
        f"{actor.name}拟向上级报送{kind}，请审批。同意后生成 Word 文件发给办公室。",
        [("编号", item.code), ("期号", b.number)],
        task_id,
        [("同意", card_key("brief", b.id, "ok"), 1), ("退回", card_key("brief", b.id, "back"), 2)],
    )
    emit(session, b.deciders, body, f"card:{task_id}", at, item, task_id=task_id)
    procedure.apply(session, item, Act.brief, actor, at, event=Event.brief_requested, kind=kind, number=b.number)
    return b


def decide(
    session: Session, config: Config, actor: Person, brief_id: int, ok: bool, at: datetime,
    clicked: tuple[str, str] | None = None,
) -> str:  # fmt: skip
    """Approve (the document is made and sent to the requester as a file) or return; once."""
    b = session.get(Brief, brief_id)
    if b is None:
        raise Refusal("这张上报审批卡片已失效。")
    item = session.get_one(Item, b.item_id)
    procedure.allowed(session, item, Act.decide_brief, actor)
    if actor.userid not in b.deciders:
        raise Refusal(f"这份{b.kind}不是送您审批的。")
    if b.state != "pending":
        return f"{b.number}已经处理过了。"
    b.state, b.decided_by, b.decided_at = ("approved" if ok else "returned"), actor.userid, at
    procedure.apply(
        session, item, Act.decide_brief, actor, at, about=b.id, closing=f"{actor.name} 已{'同意' if ok else '退回'}",
        clicked=clicked, kind=b.kind, number=b.number, ok=ok,
    )  # fmt: skip
    if not ok:
        emit(session, [b.requested_by], render.text(f"【上报】{b.number}被{actor.name}退回，请核实后重新申请。"),
             f"brief:{b.id}:returned", at, item)  # fmt: skip
        return f"已退回{b.number}。"
    data = docx(session, config, item, b.kind, b.number, at)
    _digest, b.stored_name = store(config.storage_dir, data)
    upload = {"path": b.stored_name, "filename": safe_name(f"{b.number} {item.title[:30]}.docx"), "content_type": DOCX,
              "media_id": None, "uploaded_at": None}  # fmt: skip
    emit(session, [b.requested_by], {"msgtype": "file", "file": {}, "upload": upload}, f"brief:{b.id}:file", at, item)
    emit(session, [b.requested_by], render.text(
        f"【上报】{b.number}已由{actor.name}同意，Word 文件见上。报送后请发送“报送 {item.code} <报送对象>”登记。"),
        f"brief:{b.id}:approved", at, item)  # fmt: skip
    return f"已同意{b.number}，文件已发给办公室。"


def sent(session: Session, actor: Person, code: str, to: str, at: datetime) -> Brief:
    """Record that the newest approved brief of the item was sent upward: to whom, when, by whom."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.brief, actor)
    b = session.scalar(
        select(Brief).where(Brief.item_id == item.id, Brief.state == "approved").order_by(Brief.id.desc()).limit(1)
    )
    if b is None:
        raise Refusal(f"{item.code} 还没有审批同意的快报或专报。先发送“快报 {item.code}”。")
    if not to.strip():
        raise Refusal(f"请写明报送对象，例如：报送 {item.code} 县委宣传部、县网信办")
    b.sent_to, b.sent_by, b.sent_at = to.strip()[:500], actor.userid, at
    procedure.apply(
        session, item, Act.brief, actor, at, event=Event.brief_sent, kind=b.kind, number=b.number, to=b.sent_to
    )
    return b


def instruct(session: Session, actor: Person, code: str, text: str, at: datetime) -> Item:
    """A leader's instruction (批示) on an item, passed on to the units concerned and the office."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.instruction, actor)
    if not text.strip():
        raise Refusal(f"请写上批示内容，例如：批示 {item.code} 请尽快核实，依法处理，及时回应。")
    procedure.apply(session, item, Act.instruction, actor, at, text=text[:2000])
    to = org.userids(org.with_role(session, Role.office))
    for row in item.units:
        to += org.userids(org.unit_leads(session, row.unit))
        if sup := org.supervisor(session, row.unit):
            to.append(sup)
    emit(session, to, render.text(f"【领导批示】{item.code}《{item.title}》{actor.name}批示：{text[:1500]}"),
         f"instruction:{item.id}:{at.timestamp()}", at, item)  # fmt: skip
    return item
