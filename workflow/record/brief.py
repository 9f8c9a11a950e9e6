"""Upward reports (舆情快报 first and fast, 专报 later) as Word documents from the bureau's templates
(workflow.record.documents), their approval (the card shows the text and links the full preview; the 期号 is given
on approval), the record of sending them
upward (seed 003: 经办公室汇总上报; seed 001 第十条: 归口报送), and leaders' instructions (批示)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.clock import local
from core.config import Config
from core.safename import safe_name
from core.storage import store
from core.text import clean_name
from models import AuditEvent, Brief, DayCounter, Item, Person, Role, Submission
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
from workflow.record import documents
from workflow.views import pages, render

KINDS = ("快报", "专报")
NEXT = {"快报": "持续关注网上态势，按规定时限续报。", "专报": "做好善后处置和总结评估，防止反弹。"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


KIND_NAMES = {"image": "图片", "photo": "图片", "file": "文件", "video": "视频", "voice": "语音", "link": "链接"}


def _texts(session: Session, item: Item, actions: tuple[str, ...]) -> list[str]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
    )
    out = []
    for e in rows:
        lines = documents.paragraphs((e.detail or {}).get("text"))
        if lines:
            out += [f"{documents.moment(e.at)}，{lines[0]}", *lines[1:]]
    return out


def _instructions(session: Session, item: Item) -> list[dict[str, str]]:
    """Leaders' 批示 on the item, oldest first: by (name), date, text."""
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.item_id == item.id, AuditEvent.action == Act.instruction)
        .order_by(AuditEvent.id)
    )  # fmt: skip
    names = {p.userid: p.name for p in session.scalars(select(Person))}
    return [
        {"by": names.get(e.actor, e.actor), "date": documents.day(e.at),
         "text": " ".join(documents.paragraphs((e.detail or {}).get("text")))}
        for e in rows if (e.detail or {}).get("text")
    ]  # fmt: skip


def _attachments(item: Item) -> list[str]:
    """附件说明 lines: 附件：1. name, then 2. name … aligned under it; unnamed files by their kind (图片1)."""
    names, seen = [], dict[str, int]()
    for a in item.attachments:
        name = clean_name(a.original_name or a.title or "", 120)
        if not name:
            word = KIND_NAMES.get(a.kind, "材料")
            seen[word] = seen.get(word, 0) + 1
            name = f"{word}{seen[word]}"
        names.append(name)
    return [f"{'附件：' if i == 0 else '　　　'}{i + 1}. {n}" for i, n in enumerate(names)]


def issue(number: str) -> str:
    """The 期号 line of a number: 快报〔2026〕第3期 → 第3期 (a draft keeps its note: 第3期（草稿）)."""
    return re.sub(r"^(快报|专报)?(〔\d{4}〕)?", "", number).replace(" ", "") or number


def context(session: Session, config: Config, item: Item, kind: str, number: str, at: datetime) -> dict[str, Any]:
    """The fields the 快报 / 专报 template receives (documents.FIELDS), filled from the item's record."""
    approved = session.scalars(
        select(Submission)
        .where(Submission.item_id == item.id, Submission.state == SubmissionState.approved)
        .order_by(Submission.version)
    ).all()
    line = statement.approved(session, item)
    grade = GRADE_NAMES.get(item.grade, "未定") if item.grade else "未定"  # type: ignore[call-overload]
    source = [f"舆情来源：{SOURCES.get(item.source, item.source)}（编号：{item.code}）。"]
    source += [f"链接：{x.url}" for x in item.links]
    verification = [p for s in approved for p in documents.paragraphs(s.text)]
    return {
        **documents.distribution(config),
        "kind": kind,
        "title": clean_name(item.title, 500),
        "number": number,
        "issue": issue(number),
        "year": str(local(at).year),
        "date": documents.day(at),
        "code": item.code,
        "grade": grade,
        "grade_line": f"舆情等级：{grade}。",
        "source": source,
        "content": documents.paragraphs(item.text) or ["（无）"],
        "situation": _texts(session, item, (Act.first_report, Act.progress_report)) or ["尚未报送首报或续报。"],
        "verification": verification or ["书面报告尚未审核通过。"],
        "handling": _texts(session, item, (Act.handling_report, Act.reply_source)) or ["尚未报送处置情况。"],
        "statement": documents.paragraphs(line.text) if line else ["尚无定稿口径。"],
        "next_steps": [NEXT[kind]],
        "instructions": _instructions(session, item),
        "attachments": _attachments(item),
    }


def docx(session: Session, config: Config, item: Item, kind: str, number: str, at: datetime) -> bytes:
    """The Word document of the item's 快报 / 专报 from the bureau's template (documents.render)."""
    return documents.render(config, kind, context(session, config, item, kind, number, at))


def next_number(session: Session, kind: str, at: datetime) -> str:
    """快报〔2026〕第N期: numbered per kind and year (numbers are given only when a request is approved, so a returned
    request leaves no gap). The sequence is a counter row (key 快报2026) bumped in one upsert, so two leaders approving
    at the same moment on different workers get two numbers; its first value follows the highest number already given
    (numbers given before the counter existed)."""
    year = local(at).year
    given = session.scalars(select(Brief.number).where(Brief.kind == kind, Brief.number.like(f"%〔{year}〕%")))
    highest = max((int(m.group(1)) for n in given if (m := re.search(r"第\s*(\d+)\s*期", n))), default=0)
    insert = pg_insert if session.bind and session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(DayCounter).values(day=f"{kind}{year}", last=highest + 1)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"last": DayCounter.last + 1})
    return f"{kind}〔{year}〕第{session.execute(stmt.returning(DayCounter.last)).scalar_one()}期"


def item_code(session: Session, b: Brief) -> str:
    """The 编号 of the brief's item."""
    return session.get_one(Item, b.item_id).code


def label(b: Brief, item: Item) -> str:
    """How messages name a brief: its 期号 once approved, else 快报申请（YQ-…）."""
    return b.number or f"{b.kind}申请（{item.code}）"


def preview_path(b: Brief) -> str:
    """The H5 path of the brief's full text (查看全文)."""
    return f"/h5/brief/{b.id}"


def preview_docx(session: Session, config: Config, b: Brief) -> bytes:
    """The document the leader approves: the stored file once approved, else rendered now with the 期号 to come."""
    if b.stored_name:
        return (config.storage_dir / b.stored_name).read_bytes()
    item = session.get_one(Item, b.item_id)
    return docx(session, config, item, b.kind, f"{b.kind}〔{local(b.created_at).year}〕第　期（审批同意后编号）",
                b.created_at)  # fmt: skip


def request(session: Session, config: Config, actor: Person, code: str, kind: str, at: datetime) -> Brief:
    """The office asks for a 快报 / 专报; the leaders (else the office) approve it on a card."""
    item = find_item(session, code)
    procedure.allowed(session, item, Act.brief, actor)
    b = Brief(
        item_id=item.id, kind=kind, number="", state="pending", requested_by=actor.userid, deciders=[], created_at=at,
    )  # fmt: skip
    session.add(b)
    session.flush()
    b.deciders = org.userids(org.with_role(session, Role.leader)) or org.userids(org.with_role(session, Role.office))
    task_id = f"brief-{b.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.brief, task_id, item.id, b.deciders, at, about=b.id)
    fields = context(session, config, item, kind, "", at)
    body = render.button_card(
        "瞭望 · 上报审批",
        f"【{kind}审批】{item.title}",
        "",
        f"{actor.name}拟报送{kind}，请阅后审批（整份见“查看全文”）。同意后编期号。",
        [("编号", item.code), ("期号", "同意后编号")],
        task_id,
        [("同意", card_key("brief", b.id, "ok"), 1), ("退回", card_key("brief", b.id, "back"), 2)],
        links=[("查看全文", pages.oauth_url(config, preview_path(b)))],
        content="\n".join(["主要内容：" + "".join(fields["content"])[:300], *fields["situation"][:2]]),
    )
    emit(session, b.deciders, body, f"card:{task_id}", at, item, task_id=task_id)
    procedure.apply(session, item, Act.brief, actor, at, event=Event.brief_requested, kind=kind)
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
        return f"{label(b, item)}已经处理过了。"
    b.state, b.decided_by, b.decided_at = ("approved" if ok else "returned"), actor.userid, at
    if ok:
        b.number = next_number(session, b.kind, at)  # given on approval: a returned request uses no number
    procedure.apply(
        session, item, Act.decide_brief, actor, at, about=b.id, closing=f"{actor.name} 已{'同意' if ok else '退回'}",
        clicked=clicked, kind=b.kind, number=b.number, ok=ok,
    )  # fmt: skip
    if not ok:
        emit(session, [b.requested_by], render.text(f"【上报】{label(b, item)}被{actor.name}退回，请核实后重新申请。"),
             f"brief:{b.id}:returned", at, item)  # fmt: skip
        return f"已退回{label(b, item)}。"
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
