"""书面报告: a unit's written report as one versioned submission (text, photos, files); the lead's goes to approval."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import show
from core.config import Config
from models import Attachment, Card, Grade, Item, ItemUnit, Person, Role, Submission, Unit
from models.clock import Clock
from models.procedure import Act
from models.state import AWAITING, CardPurpose, ClockState, SubmissionState
from workflow.engine import cards, clocks, procedure
from workflow.engine.cards import new_card
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.engine.notify import tell
from workflow.engine.outbox import Job, defer
from workflow.incident.assignment import mark_acknowledged
from workflow.people import org
from workflow.views import pages, render
from workflow.views.render_reports import approval_card, upload_card


@dataclass(frozen=True)
class StoredFile:
    """A file already checked and stored by content hash; original_name is metadata only, never a path."""

    sha256: str
    stored_name: str
    content_type: str
    size: int
    original_name: str


def assignment(session: Session, item: Item, actor: Person) -> ItemUnit:
    """Return the actor's unit's part in item if the actor leads that unit, else refuse."""
    procedure.permit(session, item, Act.written_report, actor)
    row = session.scalar(select(ItemUnit).where(ItemUnit.item_id == item.id, ItemUnit.unit_id == actor.unit_id))
    assert row is not None
    return row


def submit(
    session: Session,
    actor: Person,
    code: str,
    text: str,
    at: datetime,
    config: Config,
    images: Sequence[str] = (),
    files: Sequence[StoredFile] = (),
    via: str = "chat",
) -> Submission:
    """Record a new version of the actor's unit's written report; the lead unit's version goes to approval."""
    item = find_item(session, code)
    row = assignment(session, item, actor)
    text = text.strip()
    if not text and not images and not files:
        raise Refusal(f"书面报告是空的。请写上内容，或附上照片、文件后再提交（书面报告 {item.code}）。")
    if len(text) > 20000:
        raise Refusal("书面报告正文超过 2 万字，请精简，或作为 Word/PDF 文件上传。")
    procedure.allowed(session, item, Act.written_report, actor)
    mark_acknowledged(session, item, row, actor, at, implied_by=Act.written_report)
    version = (
        session.scalar(
            select(func.max(Submission.version)).where(Submission.item_id == item.id, Submission.unit_id == row.unit_id)
        )
        or 0
    ) + 1
    lead = row.part == "lead"
    sub = Submission(
        item_id=item.id,
        unit_id=row.unit_id,
        part=row.part,
        version=version,
        author_id=actor.id,
        text=text,
        via=via,
        state=SubmissionState.pending if lead else SubmissionState.contribution,
        created_at=at,
    )
    session.add(sub)
    session.flush()
    _attach(session, item, sub, actor, images, files, at)
    met = procedure.apply(
        session,
        item,
        Act.written_report,
        actor,
        at,
        advance=lead,
        about=row.unit_id,
        closing=f"{actor.name} 已报送",
        version=version,
        via=via,
        unit=row.unit.key,
        part=row.part,
        files=len(images) + len(files),
        text=text[:4000],
    ).met
    if lead:
        _lead_submitted(session, item, sub, row, actor, at, config, met)
    else:
        _contribution(session, item, sub, row, actor, at)
    return sub


def _attach(
    session: Session,
    item: Item,
    sub: Submission,
    actor: Person,
    images: Sequence[str],
    files: Sequence[StoredFile],
    at: datetime,
) -> None:
    for media_id in images:
        att = Attachment(
            item_id=item.id, submission_id=sub.id, kind="photo", media_id=media_id, uploader_id=actor.id, created_at=at
        )
        session.add(att)
        session.flush()
        defer(session, Job.fetch_media, att.id)
    for f in files:
        session.add(
            Attachment(
                item_id=item.id,
                submission_id=sub.id,
                kind="file",
                sha256=f.sha256,
                stored_name=f.stored_name,
                content_type=f.content_type,
                size=f.size,
                original_name=f.original_name[:256],
                title=f.original_name[:256],
                uploader_id=actor.id,
                created_at=at,
            )
        )
    session.flush()
    session.refresh(sub)


def _lead_submitted(
    session: Session,
    item: Item,
    sub: Submission,
    row: ItemUnit,
    actor: Person,
    at: datetime,
    config: Config,
    met: list[Clock],
) -> None:
    for old in session.scalars(
        select(Submission).where(
            Submission.item_id == item.id,
            Submission.id != sub.id,
            Submission.part == "lead",
            Submission.state.in_(AWAITING),
        )
    ):
        old.state = SubmissionState.superseded  # its deciders' cards are overtaken by the new version's
        cards.close(session, item, CardPurpose.approval, old.id, f"已由第 {sub.version} 版取代", "system", at)
    late = "（已超时）" if any(c.state == ClockState.met_late for c in met) else ""
    to = deciders(session, item, row.unit)
    send_for_approval(session, item, sub, to, at, config)
    # the office follows the decision on the report (审核通过), not its submission, unless it decides it itself;
    # copied departments (属地) follow the county's report itself
    cc = _cc_units_people(session, item) if item.flow == "local" else []
    msg = (
        f"【书面报告】{item.code}《{item.title}》第 {sub.version} 版{late}\n{row.unit.name} {actor.name} "
        f"{show(at)} 报送，附件 {len(sub.attachments)} 个：\n{(sub.text or '（见附件）')[:300]}\n已送分管领导审核。"
    )
    tell(session, item, f"written:{sub.id}:notice", at, render.text(msg), followers=cc, step=f"written:{sub.id}")


def deciders(session: Session, item: Item, unit: Unit) -> list[str]:
    """Who reviews (审核) a unit's report first: its supervisor, else the office. Major items then go to the
    leaders for 审定 (workflow.incident.approval)."""
    sup = org.supervisor(session, unit)
    people = [sup] if sup else org.userids(org.with_role(session, Role.office))
    return list(dict.fromkeys(p for p in people if p))


def leaders(session: Session, except_userid: str = "") -> list[str]:
    """The leading group, who decide (审定) major items' reports."""
    return [u for u in org.userids(org.with_role(session, Role.leader)) if u != except_userid]


def send_for_approval(
    session: Session,
    item: Item,
    sub: Submission,
    to: list[str],
    at: datetime,
    config: Config,
    stage: str = "审核",
    reviewer: str = "",
) -> Card | None:
    """Send one approval card (审核, or 审定 for the leaders) for sub to the people in to, its only deciders."""
    if not to:
        return None
    task_id = f"appr-{sub.id}-{secrets.token_hex(4)}"
    summary = "；".join(
        f"{c.label}{'已完成' if c.state in (ClockState.met, ClockState.met_late) else '未完成'}"
        for c in clocks.all_clocks(session, item)
        if c.owner_unit_id == sub.unit_id
    )
    card = new_card(session, CardPurpose.approval, task_id, item.id, to, at, unit_id=sub.unit_id, about=sub.id)
    body = approval_card(
        item, sub, summary, task_id, pages.viewer_url(config, item.code), item.grade != Grade.major, stage, reviewer
    )
    tell(session, item, f"card:{task_id}", at, body, actors=to, step=f"written:{sub.id}", task_id=task_id)
    return card


def _contribution(session: Session, item: Item, sub: Submission, row: ItemUnit, actor: Person, at: datetime) -> None:
    lead = item.lead  # the lead unit works the co-handler's material into its report; the office reads it too
    to = org.userids(org.unit_leads(session, lead.unit)) if lead is not None else []
    office = org.userids(org.with_role(session, Role.office))
    msg = (
        f"【协办材料】{item.code}《{item.title}》\n{row.unit.name} {actor.name} {show(at)} 报送"
        f"（附件 {len(sub.attachments)} 个）：\n{(sub.text or '（见附件）')[:300]}"
    )
    tell(session, item, f"written:{sub.id}:notice", at, render.text(msg), actors=to, followers=office)


def _cc_units_people(session: Session, item: Item) -> list[str]:
    people: list[str] = []
    for r in item.units:
        if r.part == "cc":
            people += org.userids(org.unit_leads(session, r.unit))
    return people


def offer_upload(
    session: Session, item: Item, unit: Unit, at: datetime, config: Config, returned: str | None = None
) -> None:
    """Send the unit's leads the card to report in writing: an H5 upload button and 在聊天中填写."""
    to = org.userids(org.unit_leads(session, unit))
    if not to:
        return
    task_id = f"wr-{item.id}-{unit.id}-{secrets.token_hex(4)}"
    new_card(session, CardPurpose.upload, task_id, item.id, to, at, unit_id=unit.id)
    body = upload_card(item, unit.name, task_id, pages.upload_url(config, item.code), returned)
    tell(session, item, f"card:{task_id}", at, body, actors=to, task_id=task_id)


def approval_cards(session: Session, sub: Submission, open_only: bool = False) -> list[Card]:
    """Return the approval cards sent for submission sub (cards about it)."""
    return cards.about(session, sub.item_id, CardPurpose.approval, sub.id, open_only)


def current(session: Session, item: Item) -> Submission | None:
    """Return the lead unit's latest written report of item, if any."""
    return session.scalar(
        select(Submission)
        .where(Submission.item_id == item.id, Submission.part == "lead")
        .order_by(Submission.version.desc())
        .limit(1)
    )
