"""An item pushed by a system (the signed intake API): checked, then reported through the one report path.

A push is an ordinary 上报 (workflow.incident.report.report) by the source's system person: numbered, merged into an
open item with the same normalised link (first finder kept), its clocks started, the office told naming the source.
A repeat of the same (source, id) answers with the item it became and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import parse_instant, show
from core.config import Config
from core.intake import Source
from core.text import clean_text
from models import Item, Person
from models.intake import IntakeReceipt, source_userid
from models.item import GRADE_WORDS
from workflow.engine.errors import Refusal
from workflow.incident import links as linkmod
from workflow.incident.report import Draft, report

GRADES = {"general": "general", "significant": "significant", "major": "major"} | {
    word: str(grade) for word, grade in GRADE_WORDS.items()
}


@dataclass(frozen=True)
class Push:
    """A push's checked fields."""

    id: str
    title: str
    url: str
    text: str
    platform: str
    published_at: datetime | None
    suggested_grade: str | None
    deadline: datetime | None


@dataclass(frozen=True)
class Received:
    """What the source is told: the item's 编号 and whether this push created it."""

    code: str
    created: bool


def _text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Refusal(f"字段 {key} 须是字符串")
    text = clean_text(str(value), None).strip()
    if len(text) > limit:
        raise Refusal(f"字段 {key} 太长（超过 {limit} 个字符）")
    return text


def _instant(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise Refusal(f"字段 {key} 不是有效的时间") from None
    try:
        return parse_instant(str(value), key)
    except ValueError:
        raise Refusal(f"字段 {key} 须是 ISO 8601 时间（如 2026-12-06T09:30:00+08:00）或 Unix 秒数") from None


def parse(body: Any) -> Push:
    """Return the push's fields, or refuse in Chinese naming the field (title or url required)."""
    if not isinstance(body, dict):
        raise Refusal("请求体须是 JSON 对象")
    ident, title, url = _text(body, "id", 128), _text(body, "title", 200), _text(body, "url", 2000)
    if not ident:
        raise Refusal("缺少 id（推送方自己的编号，用于去重）")
    if not title and not url:
        raise Refusal("title 和 url 至少要有一个")
    if url and linkmod.find_links(url) != [url]:
        raise Refusal("url 须是一个 http:// 或 https:// 链接")
    grade = _text(body, "suggested_grade", 16)
    if grade and grade not in GRADES:
        raise Refusal("suggested_grade 须是 general、significant、major（或 一般、较大、重大）")
    return Push(
        id=ident,
        title=title,
        url=url,
        text=_text(body, "text", 3000),
        platform=_text(body, "platform", 32),
        published_at=_instant(body, "published_at"),
        suggested_grade=GRADES[grade] if grade else None,
        deadline=_instant(body, "deadline"),
    )


def system_person(session: Session, source: Source) -> Person:
    """The source's reporter identity: a person who is no member (inactive, no unit, no role), shown by its name."""
    userid = source_userid(source.key)
    person = session.scalar(select(Person).where(Person.userid == userid))
    if person is None:
        person = Person(userid=userid, name=source.name, unit_id=None, roles=[], active=False)
        session.add(person)
        session.flush()
    elif person.name != source.name:
        person.name = source.name
    return person


def _description(push: Push) -> str:
    """The item's text: title first (it becomes the item's title), the body, then where and when it was published."""
    about = [push.platform, f"发布于 {show(push.published_at, True)}" if push.published_at else ""]
    facts = "，".join(a for a in about if a)
    due = f"推送方要求的办理时限：{show(push.deadline, True)}" if push.deadline else ""
    lines = [push.title, push.text, f"（{facts}）" if facts else "", due]
    return "\n".join(line for line in lines if line)


def receive(session: Session, config: Config, source: Source, push: Push, at: datetime) -> Received:
    """Report push for source (or answer with the item an earlier push of the same id became), in session's
    transaction; the caller commits and handles a concurrent duplicate (IntegrityError) by calling `earlier`."""
    if (known := earlier(session, source, push.id)) is not None:
        return known
    reporter = system_person(session, source)
    draft = Draft(
        text=_description(push),
        title=push.title,
        source=source.category,
        suggested_grade=push.suggested_grade or source.grade,
        links=[push.url] if push.url else [],
        link_titles={push.url: push.title} if push.url and push.title else {},
        origin=source.name,
    )
    result = report(session, reporter, draft, at, config)
    session.add(
        IntakeReceipt(
            source=source.key, external_id=push.id, item_id=result.item.id, created=not result.merged, received_at=at
        )
    )
    session.flush()
    return Received(code=result.item.code, created=not result.merged)


def earlier(session: Session, source: Source, ident: str) -> Received | None:
    """The answer to a repeat of (source, ident): the item it became, not created again; None if it is new."""
    row = session.scalar(
        select(IntakeReceipt).where(IntakeReceipt.source == source.key, IntakeReceipt.external_id == ident)
    )
    if row is None:
        return None
    code = session.scalar(select(Item.code).where(Item.id == row.item_id))
    return Received(code=str(code), created=False)
