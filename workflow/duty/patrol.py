"""Daily patrol (日常巡查) with zero reports (零报告), SPEC §11: every active commentator checks in once per round.

A round of a patrol day has three times ([patrol], Beijing time): the check-in card goes out, the reminder, the due.
Reporting an item that day counts as the check-in. At the due an open check-in is missed: the commentator is told,
the unit's leads get one list per round, and the miss is a duty fact (未巡查) for the bulletin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.clock import LOCAL_TZ, local, show
from core.config import Config
from models import Patrol, PatrolState, Person, Role, Unit
from models.calendar import UnknownYear
from models.codes import card_key
from models.events import Event
from workflow.duty import periods
from workflow.engine import periodic
from workflow.engine.audit import record
from workflow.engine.clocks import calendar_for
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import render

CARD_RECIPIENTS = 1000  # WeCom sends one message to at most 1,000 members
DEFAULT_ROUNDS = ({"card": "15:30", "remind": "17:00", "due": "17:30"},)


@dataclass(frozen=True)
class Round:
    """One round of a patrol day: when the card goes out, the reminder, the due (UTC)."""

    number: int
    card_at: datetime
    remind_at: datetime
    due_at: datetime


def _at(day: date, hhmm: str) -> datetime:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hh, mm), LOCAL_TZ)


def settings(config: Config) -> dict[str, Any]:
    """[patrol] with its defaults: days ("workdays" or "every_day") and rounds [{card, remind, due}, …]."""
    raw = dict(config.raw.get("patrol", {}))
    return {
        "enabled": bool(raw.get("enabled", True)),
        "days": str(raw.get("days", "workdays")),
        "rounds": list(raw.get("rounds") or DEFAULT_ROUNDS),
    }


def _in_period(session: Session, config: Config, day: date) -> bool:
    start = datetime.combine(day, time(0), LOCAL_TZ)
    return any(
        p.starts_at < start + timedelta(days=1) and p.ends_at > start for p in periods.all_periods(session, config)
    )


def is_patrol_day(config: Config, day: date, session: Session | None = None) -> bool:
    """True if check-ins are owed on this Beijing date (working days by default; weekdays if the year is unknown)."""
    if settings(config)["days"] == "every_day":
        return True
    try:
        return calendar_for(config, session).is_workday(day)
    except UnknownYear:
        return day.weekday() < 5


def rounds(session: Session, config: Config, day: date) -> list[Round]:
    """The rounds of a Beijing date: [patrol] rounds on patrol days, [sensitive] rounds on every day of a sensitive
    period (none when the patrol is off, or on a day without patrol)."""
    s = settings(config)
    if not s["enabled"]:
        return []
    if _in_period(session, config, day):
        chosen = periods.patrol_rounds(config)
    elif is_patrol_day(config, day, session):
        chosen = s["rounds"]
    else:
        return []
    return [Round(i, _at(day, r["card"]), _at(day, r["remind"]), _at(day, r["due"])) for i, r in enumerate(chosen, 1)]


def today(now: datetime) -> date:
    """The Beijing date of now."""
    return local(now).date()


def commentators(session: Session) -> list[Person]:
    """Every active commentator (网评员)."""
    return [p for p in session.scalars(select(Person).where(Person.active.is_(True))) if p.has(Role.commentator)]


def _owing(session: Session) -> list[tuple[str, int | None]]:
    """(userid, unit) of every active commentator, read as plain columns (the sweep asks during every round)."""
    rows = session.execute(select(Person.userid, Person.unit_id, Person.roles).where(Person.active.is_(True)))
    return [(userid, unit_id) for userid, unit_id, roles in rows if Role.commentator in (roles or [])]


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    ins = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(Patrol)
    for i in range(0, len(rows), 1000):
        session.execute(
            ins.values(rows[i : i + 1000]).on_conflict_do_nothing(index_elements=["userid", "day", "round"])
        )


@periodic.task(20, "patrol rounds raced with another worker (one row per person, day and round)")
def open_rounds(session: Session, config: Config, now: datetime) -> int:
    """Owe a check-in from every commentator for each round whose card time has come; send the cards; return how
    many cards were sent. Idempotent: a (person, day, round) is owed once."""
    day = today(now)
    sent = 0
    for r in rounds(session, config, day):
        if not r.card_at <= now < r.due_at:
            continue
        have = set(
            session.scalars(select(Patrol.userid).where(Patrol.day == day.isoformat(), Patrol.round == r.number))
        )
        people = [(u, unit) for u, unit in _owing(session) if u not in have]
        _insert(
            session,
            [
                {"userid": u, "unit_id": unit, "day": day.isoformat(), "round": r.number,
                 "remind_at": r.remind_at, "due_at": r.due_at, "state": PatrolState.open,
                 "reminded": now >= r.remind_at, "created_at": now}  # a late card is the reminder
                for u, unit in people
            ],
        )  # fmt: skip
        for i in range(0, len(people), CARD_RECIPIENTS):
            sent += _card(session, [u for u, _unit in people[i : i + CARD_RECIPIENTS]], day, r, now)
    return sent


def _card(session: Session, userids: list[str], day: date, r: Round, now: datetime) -> int:
    """One check-in card for up to 1,000 people (WeCom's touser limit); each click is answered for its clicker."""
    task_id = f"pat-{day.isoformat()}-{r.number}-{secrets.token_hex(6)}"
    session.execute(
        update(Patrol)
        .where(Patrol.day == day.isoformat(), Patrol.round == r.number, Patrol.userid.in_(userids))
        .values(task_id=task_id)
    )
    field = f"{day.isoformat()}.{r.number}"
    body = render.button_card(
        "瞭望 · 日常巡查",
        f"今日巡查（{'第 ' + str(r.number) + ' 轮' if r.number > 1 else '每日'}）",
        "请在截止前报告巡查结果：没有发现舆情点“无异常”（零报告），发现了点“有情况上报”。",
        f"截止 {show(r.due_at)}。也可以发送“巡查 无异常”；当天上报过舆情的自动算已巡查。",
        [("截止", show(r.due_at)), ("日期", day.isoformat())],
        task_id,
        [("无异常", card_key("pat", field, "zero"), 1), ("有情况上报", card_key("pat", field, "report"), 2)],
    )
    emit(session, userids, body, f"patrol:{task_id}:card", now, task_id=task_id, fresh=True)
    return len(userids)


def find(session: Session, person: Person, field: str) -> Patrol | None:
    """The person's check-in named by a card's field "<day>.<round>"."""
    day, _, number = field.partition(".")
    if not number.isdecimal():
        return None
    return session.scalar(
        select(Patrol).where(Patrol.userid == person.userid, Patrol.day == day, Patrol.round == int(number))
    )


def check_in(
    session: Session, config: Config, person: Person, how: str, at: datetime, item_code: str | None = None
) -> Patrol:
    """Record a check-in (how: zero | report) for the person's first open round of today; refuse a second one."""
    if not person.has(Role.commentator):
        raise Refusal("巡查打卡是网评员的日常任务；发现舆情请直接“上报”。")
    day = today(at)
    todays = rounds(session, config, day)
    if not todays:
        raise Refusal("今天不是巡查日，不需要打卡。发现舆情请直接“上报”。")
    rows = {
        r.round: r
        for r in session.scalars(select(Patrol).where(Patrol.userid == person.userid, Patrol.day == day.isoformat()))
    }
    for r in todays:
        row = rows.get(r.number)
        if row is not None and row.state != PatrolState.open:
            continue
        if row is None:
            if r.due_at <= at:
                continue  # a round already past: its miss stands
            row = Patrol(
                userid=person.userid, unit_id=person.unit_id, day=day.isoformat(), round=r.number,
                remind_at=r.remind_at, due_at=r.due_at, state=PatrolState.open, reminded=False, created_at=at,
            )  # fmt: skip
            session.add(row)
        row.state, row.done_at, row.how, row.item_code = PatrolState.done, at, how, item_code
        session.flush()
        record(session, None, person.userid, Event.patrol_checked, at, day=day.isoformat(), round=r.number, how=how)
        return row
    raise Refusal(f"今天（{day.isoformat()}）的巡查已经报过了，不用再报。发现新情况请直接“上报”。")


def on_report(session: Session, config: Config, reporter: Person, code: str, at: datetime) -> None:
    """An item reported by a commentator counts as today's check-in (silently; nothing to refuse)."""
    if not reporter.has(Role.commentator):
        return
    try:
        with session.begin_nested():
            check_in(session, config, reporter, "report", at, code)
    except Refusal:
        return


def _batches(rows: list[Patrol]) -> list[list[Patrol]]:
    """Rows of the same day, round and due in chunks of up to 1,000 (one message each)."""
    groups: dict[tuple[str, int, datetime], list[Patrol]] = {}
    for row in rows:
        groups.setdefault((row.day, row.round, row.due_at), []).append(row)
    return [g[i : i + CARD_RECIPIENTS] for g in groups.values() for i in range(0, len(g), CARD_RECIPIENTS)]


@periodic.task(21, "patrol reminders raced with another worker; the next sweep continues")
def sweep_check_ins(session: Session, config: Config, now: datetime) -> int:
    """The sweep's part: remind and miss the check-ins that are due (remind_and_miss)."""
    return remind_and_miss(session, now)


def remind_and_miss(session: Session, now: datetime, limit: int = 10000) -> int:
    """Remind open check-ins past their reminder time, mark those past their due as missed (each person told, one
    list per unit and round to its leads); return how many rows changed. Same-round notices share one message."""
    reminded = list(
        session.scalars(
            select(Patrol)
            .where(Patrol.state == PatrolState.open, Patrol.reminded.is_(False), Patrol.remind_at <= now)
            .order_by(Patrol.id)
            .limit(limit)
        )
    )
    for row in reminded:
        row.reminded = True
    for batch in _batches([r for r in reminded if r.due_at > now]):
        text = (
            f"【巡查提醒】今天的巡查结果还没有报告，截止 {show(batch[0].due_at)}。"
            "没有发现舆情请发送“巡查 无异常”，发现了请直接“上报”。"
        )
        emit(session, [r.userid for r in batch], render.text(text), f"patrol:{batch[0].id}:remind", now, fresh=True)
    missed = list(
        session.scalars(
            select(Patrol)
            .where(Patrol.state == PatrolState.open, Patrol.due_at <= now)
            .order_by(Patrol.id)
            .limit(limit)
        )
    )
    by_unit: dict[tuple[int | None, str, int], list[Patrol]] = {}
    for row in missed:
        row.state = PatrolState.missed
        by_unit.setdefault((row.unit_id, row.day, row.round), []).append(row)
    for batch in _batches(missed):
        record(session, None, "system", Event.patrol_missed, now, day=batch[0].day, round=batch[0].round,
               userids=[r.userid for r in batch])  # fmt: skip
        text = f"【巡查未报】{batch[0].day} 的巡查结果截止 {show(batch[0].due_at)} 仍未报告，已告知单位负责人。"
        emit(session, [r.userid for r in batch], render.text(text), f"patrol:{batch[0].id}:missed", now, fresh=True)
    for (unit_id, day, number), rows in by_unit.items():
        _tell_leads(session, unit_id, day, number, rows, now)
    return len(reminded) + len(missed)


def _tell_leads(
    session: Session, unit_id: int | None, day: str, number: int, rows: list[Patrol], now: datetime
) -> None:
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        return
    leads = org.userids(org.unit_leads(session, unit))
    names = {
        p.userid: p.name for p in session.scalars(select(Person).where(Person.userid.in_([r.userid for r in rows])))
    }
    who = "、".join(names.get(r.userid, r.userid) for r in rows)
    emit(
        session,
        leads,
        render.text(f"【巡查未报】{unit.name} {day} 的巡查有 {len(rows)} 人截止仍未报告：{who}。请督促。"),
        f"patrol:{unit.id}:{day}:{number}:leads",
        now,
    )


def coverage(session: Session, now: datetime) -> dict[str, Any]:
    """Today's check-ins: who has (and how), who has not yet, who missed; by unit, for the office."""
    day = today(now).isoformat()
    rows = list(session.scalars(select(Patrol).where(Patrol.day == day).order_by(Patrol.round, Patrol.userid)))
    people = {p.userid: p for p in commentators(session)}
    units = {u.id: u.name for u in session.scalars(select(Unit))}
    done = [r for r in rows if r.state == PatrolState.done]
    open_ = [r for r in rows if r.state == PatrolState.open]
    missed = [r for r in rows if r.state == PatrolState.missed]
    owed = {r.userid for r in rows}

    def name(r: Patrol) -> str:
        p = people.get(r.userid)
        return f"{p.name if p else r.userid}（{units.get(r.unit_id or 0, '无单位')}）"

    return {
        "day": day,
        "people": len(people),
        "done": [(name(r), "无异常" if r.how == "zero" else f"上报 {r.item_code}") for r in done],
        "open": [name(r) for r in open_],
        "missed": [name(r) for r in missed],
        "not_yet_owed": len([u for u in people if u not in owed]),
    }


def coverage_text(cov: dict[str, Any]) -> str:
    """巡查情况 as the office reads it in the chat."""
    lines = [f"{cov['day']} 巡查情况（网评员 {cov['people']} 人）"]
    lines.append(f"已报告 {len(cov['done'])} 人：" + ("、".join(f"{n} {how}" for n, how in cov["done"]) or "无"))
    lines.append(f"未报告 {len(cov['open'])} 人：" + ("、".join(cov["open"]) or "无"))
    if cov["missed"]:
        lines.append(f"已超时 {len(cov['missed'])} 人：" + "、".join(cov["missed"]))
    if cov["not_yet_owed"]:
        lines.append(f"还有 {cov['not_yet_owed']} 人今天的巡查卡片尚未发出（到点自动发送）。")
    return "\n".join(lines)
