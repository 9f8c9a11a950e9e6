"""Sensitive periods (重要节点), SPEC §13: declared by the office in the chat or listed in [sensitive].

While one is in force: check-ins follow [sensitive] patrol rounds on every day, a new item's suggested grade is one
higher (the office's own grade still wins), and the first-report clock is at most [sensitive] first_report_due.
Everyone concerned (commentators, unit leads, the office, the leaders) is told once when it starts and ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import LOCAL_TZ, local, show
from core.config import Config
from core.dates import in_range, refuse_range
from core.durations import parse_duration
from models import OutboxMessage, Person, Role, SensitivePeriod
from models.events import Event
from workflow.engine import periodic
from workflow.engine.audit import record
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

DEFAULT_ROUNDS = (
    {"card": "09:00", "remind": "10:30", "due": "11:00"},
    {"card": "15:30", "remind": "17:00", "due": "17:30"},
)
BUMP = {"general": "significant", "significant": "major", "major": "major"}
USAGE = (
    "格式：重要节点 <名称> <开始> <结束>，日期写成 2026-12-31、2026年12月31日 或 2026-12-31T08:00（结束日期含当天）。\n"
    "例如：重要节点 元旦 2026-12-31 2027-01-03"
)


@dataclass(frozen=True)
class Period:
    """A period in force from starts_at (inclusive) to ends_at (exclusive), UTC."""

    key: str
    name: str
    starts_at: datetime
    ends_at: datetime


def _moment(word: str, end: bool) -> datetime:
    """A date (the day's start, or the next day's start for an end) or a date and time, Beijing time; refuse a
    moment outside the dates Liaowang accepts (core.dates)."""
    word = word.strip()
    whole_day = re.fullmatch(r"(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})日?", word)
    try:
        if whole_day:  # 2026-12-31, 2026年12月31日
            day = date(*(int(x) for x in whole_day.groups()))
            moment = datetime.combine(day, time(0), LOCAL_TZ)
        else:
            moment = datetime.fromisoformat(word.replace(" ", "T")).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise Refusal(f"“{word}”不是日期。{USAGE}") from None
    if not in_range(moment.date()):
        raise Refusal(refuse_range(word))
    return moment + timedelta(days=1) if end and whole_day else moment


def configured(config: Config) -> list[Period]:
    """The periods listed in [[sensitive.periods]] (name, start, end)."""
    out = []
    for i, p in enumerate(config.raw.get("sensitive", {}).get("periods", [])):
        start, end = _moment(str(p["start"]), False), _moment(str(p["end"]), True)
        out.append(Period(f"cfg{i}", str(p.get("name", "重要节点")), start, end))
    return out


def all_periods(session: Session, config: Config) -> list[Period]:
    """Every period, declared or configured, by start."""
    declared = [
        Period(f"p{p.id}", p.name, p.starts_at, p.ends_at)
        for p in session.scalars(select(SensitivePeriod).order_by(SensitivePeriod.starts_at))
    ]
    return sorted(declared + configured(config), key=lambda p: p.starts_at)


def in_force(session: Session, config: Config, at: datetime) -> list[Period]:
    """The periods in force at a moment."""
    return [p for p in all_periods(session, config) if p.starts_at <= at < p.ends_at]


def declare(session: Session, actor: Person, words: list[str], at: datetime) -> SensitivePeriod:
    """Declare a period (office only): name, start, end; refuse an end before the start or one already past."""
    if not actor.has(Role.office):
        raise Refusal("只有领导小组办公室可以设定重要节点。")
    if len(words) != 3:
        raise Refusal(USAGE)
    name, start, end = words[0].strip()[:64], _moment(words[1], False), _moment(words[2], True)
    if not name:
        raise Refusal(f"请写上重要节点的名称。{USAGE}")
    if end <= start:
        raise Refusal(f"结束（{words[2]}）早于开始（{words[1]}），没有设定。{USAGE}")
    if end <= at:
        raise Refusal(f"这个时段已经过去了（结束于 {show(end, True)}），没有设定。")
    period = SensitivePeriod(name=name, starts_at=start, ends_at=end, created_by=actor.userid, created_at=at)
    session.add(period)
    session.flush()
    record(
        session, None, actor.userid, Event.period_declared, at, name=name, start=start.isoformat(), end=end.isoformat()
    )
    return period


def concerned(session: Session) -> list[str]:
    """Who is told when a period starts and ends."""
    roles = (Role.commentator, Role.unit_lead, Role.office, Role.leader)
    return org.userids(
        p for p in session.scalars(select(Person).where(Person.active.is_(True))) if any(p.has(r) for r in roles)
    )


@periodic.task(10, "period notices raced with another worker; they were sent once")
def announce(session: Session, config: Config, now: datetime) -> int:
    """Tell everyone concerned once that a period has started or ended (outbox keys make it once); return how many."""
    told = 0
    for p in all_periods(session, config):
        last = show(p.ends_at - timedelta(seconds=1), True)
        key = f"period:{p.key}:{p.starts_at.timestamp()}"
        if p.starts_at <= now < p.ends_at and now - p.starts_at < timedelta(days=1):
            text = (
                f"【重要节点】“{p.name}”自 {show(p.starts_at, True)} 起至 {last}：网评员每天按加密的时点报告巡查"
                "（节假日也要），新上报的舆情建议等级上调一级，首报时限缩短。请加强值守。"
            )
            told += _tell_once(session, text, f"{key}:start", now)
        if p.ends_at <= now < p.ends_at + timedelta(days=1):
            text = f"【重要节点结束】“{p.name}”已于 {show(p.ends_at, True)} 结束，巡查和时限恢复平常安排。"
            told += _tell_once(session, text, f"{key}:end", now)
    return told


def _tell_once(session: Session, text: str, key: str, now: datetime) -> bool:
    """Send text to everyone concerned under key unless it was sent (checked first: the sweep asks every time)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idem_key == key)) is not None:
        return False
    return emit(session, concerned(session), render.text(text), key, now) is not None


def patrol_rounds(config: Config) -> list[dict[str, Any]]:
    """The check-in rounds while a period is in force ([sensitive] rounds, default 11:00 and 17:30)."""
    return list(config.raw.get("sensitive", {}).get("rounds") or DEFAULT_ROUNDS)


def first_report_due(config: Config) -> timedelta:
    """The longest first-report span while a period is in force ([sensitive] first_report_due, default 30m)."""
    return parse_duration(str(config.raw.get("sensitive", {}).get("first_report_due", "30m")))


def listing(session: Session, config: Config, now: datetime) -> str:
    """重要节点 with no arguments: those in force and those to come."""
    rows = [p for p in all_periods(session, config) if p.ends_at > now]
    if not rows:
        return "目前没有设定重要节点。\n" + USAGE
    lines = ["重要节点："]
    for p in rows:
        mark = "（进行中）" if p.starts_at <= now else ""
        lines.append(f"· {p.name}：{show(p.starts_at, True)} 至 {show(p.ends_at - timedelta(seconds=1), True)}{mark}")
    return "\n".join(lines)


def today_start(now: datetime) -> datetime:
    """The start of now's Beijing day."""
    return datetime.combine(local(now).date(), time(0), LOCAL_TZ)
