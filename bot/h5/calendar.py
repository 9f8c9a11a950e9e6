"""The office's 工作日历 page: paste next year's holiday notice, preview what was understood, save; add a 重要节点 with
date pickers. Office only; every save is audited and applies at once (workflow/duty/workdays.py, periods.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.h5.auth import EXPIRED, csrf_ok, csrf_token, current_person, logged_in, rt
from bot.h5.web import bp, message, page
from core import clock
from core.clock import show
from core.dates import LAST
from core.text import clean_text
from models import Person, Role
from models.calendar import Source
from workflow.duty import periods, workdays
from workflow.duty.calendar_notice import missing_year
from workflow.engine.clocks import calendar_for
from workflow.engine.errors import Refusal
from workflow.people import org

OFFICE_ONLY = "工作日历和重要节点由领导小组办公室维护，您无权打开这个页面。"
BAD_CSRF = "页面已过期或来源不明（校验码不对），没有保存任何内容。请从企业微信里重新打开本页面再提交。"
SOURCE_WORDS = {
    Source.official: "官方数据（已内置）",
    Source.office: "办公室录入",
    Source.config: "配置文件",
    Source.statutory: "按法定节假日推算（不含调休）",
}
MAX_NOTICE = 20000


def _source_words(source: Source | None) -> str:
    """Where a year's holidays come from, in words."""
    return SOURCE_WORDS[source] if source is not None else "未知"


def _context(s: Session, person: Person, **extra: Any) -> dict[str, Any]:
    """What the page shows: the years around now and where each comes from, the saved years, the periods to come."""
    now = clock.now()
    cal = calendar_for(rt().config, s)
    today = clock.local(now).date()
    years = [(y, _source_words(cal.source(y))) for y in range(today.year, min(today.year + 3, LAST.year + 1))]
    saved = [
        {"year": r.year, "holidays": len(r.holidays), "workdays": len(r.workdays), "by": r.saved_by,
         "at": show(r.saved_at, True)}
        for r in workdays.saved_years(s)
    ]  # fmt: skip
    coming = [
        {"name": p.name, "start": show(p.starts_at, True), "end": show(p.ends_at - timedelta(seconds=1), True),
         "now": p.starts_at <= now}
        for p in periods.all_periods(s, rt().config)
        if p.ends_at > now
    ]  # fmt: skip
    return {
        "viewer": person.name,
        "years": years,
        "saved": saved,
        "periods": coming,
        "year": extra.pop("year", missing_year(cal, today)),
        "notice": extra.pop("notice", ""),
        "today": today.isoformat(),
        "csrf": csrf_token(),
        **extra,
    }


def _office(view: Callable[[Session, Person], Response]) -> Response:
    """Run view(session, person) for a logged-in office member; anyone else gets a Chinese 403."""

    def guarded(s: Session, person: Person) -> Response:
        if not person.has(Role.office):
            return message(OFFICE_ONLY, 403)
        return view(s, person)

    return logged_in(guarded)


@bp.get("/calendar")
def calendar_page() -> Response:
    """The page: the years known, the paste form, the periods and the date-picker form."""
    return _office(lambda s, person: page("calendar.html", **_context(s, person)))


def _posted(view: Callable[[Session, str], Response]) -> Response:
    """Check login, office role and CSRF for a POST, then run view(session, userid) in a fresh session (it opens
    its own transaction)."""
    with rt().sessions() as s:
        person = current_person(s)
        if person is None:
            return message(EXPIRED, 403)
        if not person.has(Role.office):
            return message(OFFICE_ONLY, 403)
        userid = person.userid
    if not csrf_ok(request.form.get("csrf")):
        return message(BAD_CSRF, 400)
    with rt().sessions() as s:
        return view(s, userid)


def _me(s: Session, userid: str) -> Person:
    """The office member posting (checked a moment ago)."""
    person = org.person(s, userid)
    if person is None:
        raise Refusal(EXPIRED)
    return person


def _year() -> int:
    """The year chosen on the form (0 if none or not a number)."""
    raw = request.form.get("year", "").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) == 4 else 0


def _notice() -> str:
    """The pasted notice, cleaned once where it enters (and cut to a sane length)."""
    return clean_text(request.form.get("notice", ""))[:MAX_NOTICE]


@bp.post("/calendar/preview")
def calendar_preview() -> Response:
    """Read the pasted notice and show what was understood, with a 保存 button; nothing is saved yet."""

    def view(s: Session, userid: str) -> Response:
        person, year, notice = _me(s, userid), _year(), _notice()
        try:
            schedule = workdays.parse_notice(notice, year)
        except Refusal as r:
            return page("calendar.html", 400, **_context(s, person, year=year or None, notice=notice, error=r.message))
        ctx = _context(s, person, year=year, notice=notice)
        return page("calendar.html", preview=schedule.lines, preview_year=year,
                    preview_counts=(len(schedule.holidays), len(schedule.workdays)), **ctx)  # fmt: skip

    return _posted(view)


@bp.post("/calendar/save")
def calendar_save() -> Response:
    """Read the notice again and save the year (audited); it applies at once to every clock computed after."""

    def view(s: Session, userid: str) -> Response:
        year, notice = _year(), _notice()
        try:
            with s.begin():
                person = _me(s, userid)
                schedule = workdays.save(s, person, year, notice, calendar_for(rt().config, s), clock.now())
        except Refusal as r:
            person = _me(s, userid)
            return page("calendar.html", 400, **_context(s, person, year=year or None, notice=notice, error=r.message))
        done = (
            f"已保存 {year} 年的节假日安排：放假 {len(schedule.holidays)} 天，调休上班 {len(schedule.workdays)} 天。"
            "从现在起计算的时限按它计算，无需重启。"
        )
        return page("calendar.html", **_context(s, person, done=done, done_lines=schedule.lines))

    return _posted(view)


@bp.post("/calendar/period")
def period_add() -> Response:
    """Declare a 重要节点 from the name and the two dates picked (audited; everyone is told when it starts)."""

    def view(s: Session, userid: str) -> Response:
        name = clean_text(request.form.get("name", "")).strip()
        start, end = request.form.get("start", "").strip(), request.form.get("end", "").strip()
        try:
            with s.begin():
                person = _me(s, userid)
                if not name:
                    raise Refusal("请写上重要节点的名称（如“全国两会”）。没有设定。")
                if not start or not end:
                    raise Refusal("请选择开始和结束日期。没有设定。")
                p = periods.declare(s, person, [name, start, end], clock.now())
                last = show(p.ends_at - timedelta(seconds=1), True)
                said = f"已设定重要节点“{p.name}”：{show(p.starts_at, True)} 至 {last}。"
        except Refusal as r:
            person = _me(s, userid)
            return page("calendar.html", 400, **_context(s, person, period_error=r.message, period_name=name))
        return page("calendar.html", **_context(s, person, period_done=said))

    return _posted(view)
