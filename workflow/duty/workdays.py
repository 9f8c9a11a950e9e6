"""The working calendar the office maintains: next year's holidays and 调休 days read from the State Council's notice
(《国务院办公厅关于Y年部分节假日安排的通知》) as pasted on the calendar page, checked, previewed, saved and audited.

The clocks read the saved years at every computation (workflow.engine.clocks.calendar_for with a session), so a
saved year applies at once in every process, without a restart; `liaowang calendar check` reads them too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dates import FIRST, LAST, in_range
from models import Person, Role
from models.calendar import DeclaredYear, Source, WorkCalendar
from workflow.engine.audit import record
from workflow.engine.errors import Refusal

WEEKDAYS = "一二三四五六日"
SECTION = re.compile(r"(?:^|(?<=[\s。]))[一二三四五六七八九十]{1,3}、")  # “一、元旦：…” (never “腊月二十八、”)
DAY = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^)]*)\))?")
COUNT = re.compile(r"(?:共|放假)(\d{1,2})天")
WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
EXAMPLE = "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。"
HOW = f"请粘贴通知正文中“一、元旦：……”到“七、国庆节：……”的各条，每条形如：{EXAMPLE}"


@dataclass
class Schedule:
    """What a notice says: holiday dates (→ the holiday's name) and the weekends worked (调休上班)."""

    year: int
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: list[date] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # one line per holiday, as understood (the preview)


def _clean(text: str) -> str:
    """The notice with full-width digits and punctuation made half-width (（ → (, ： → :, ， → ,)."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _sections(text: str) -> list[str]:
    """The notice's numbered items (一、… 七、…), else its lines that name a holiday before a colon."""
    marks = list(SECTION.finditer(text))
    if marks:
        ends = [m.start() for m in marks[1:]] + [len(text)]
        return [text[m.end() : end].strip() for m, end in zip(marks, ends, strict=True)]
    return [line.strip() for line in text.splitlines() if ":" in line and "日" in line]


def _weekday_said(paren: str | None) -> int | None:
    """The weekday written in “(周四)” or “(农历腊月二十八、周日)”: 0 = Monday, or None."""
    m = WEEKDAY.search(paren or "")
    return None if m is None else min("一二三四五六日天".index(m.group(1)), 6)  # 周日 and 周天 are Sunday


def _dates(sentence: str, year: int, name: str, near_january: bool = False) -> list[date]:
    """Every date in a sentence: a missing year is the notice's (December's is the year before when the sentence or
    its holiday is about January), a missing month the one before; the weekday in brackets must be the date's."""
    found = DAY.findall(sentence)
    january = near_january or any(m == "1" for _y, m, _d, _p in found)
    out: list[date] = []
    month: int | None = None
    for y, m, d, paren in found:
        if not m and month is None:
            raise Refusal(f"“{name}”一条里的“{d}日”没有写月份。{HOW}")
        month = int(m) if m else month
        assert month is not None
        in_year = int(y) if y else (year - 1 if month == 12 and january else year)
        try:
            day = date(in_year, month, int(d))
        except ValueError:
            raise Refusal(f"“{name}”一条里没有 {month}月{d}日 这一天。") from None
        said = _weekday_said(paren)
        if said is not None and said != day.weekday():
            raise Refusal(
                f"“{name}”一条写着 {month}月{d}日是周{WEEKDAYS[said]}，但 {day.year}年{month}月{d}日是"
                f"周{WEEKDAYS[day.weekday()]}：年份选对了吗？没有保存任何内容。"
            )
        out.append(day)
    return out


def _section(text: str, year: int, schedule: Schedule) -> None:
    """Read one item “元旦:1月1日(周四)至3日(周六)放假调休,共3天。1月4日(周日)上班。” into schedule."""
    name, _, body = text.partition(":")
    name = name.strip()
    if not name or len(name) > 12 or not body:
        raise Refusal(f"看不懂这一条：“{text[:30]}”。{HOW}")
    off = [s for s in re.split(r"[。;]", body) if "放假" in s]
    if len(off) != 1:
        raise Refusal(f"“{name}”一条里找不到“……放假”的日期。{HOW}")
    days = _dates(off[0].split("放假")[0], year, name)
    if not 1 <= len(days) <= 2:
        raise Refusal(f"“{name}”一条的放假日期应写成“1月1日至3日”或“1月1日”。{HOW}")
    start, end = days[0], days[-1]
    if end < start or (end - start).days > 15:
        raise Refusal(f"“{name}”一条的放假日期不对：{start.month}月{start.day}日至{end.month}月{end.day}日。")
    span = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    count = COUNT.search(off[0])
    if count and int(count.group(1)) != len(span):
        raise Refusal(
            f"“{name}”一条写着共{count.group(1)}天，但 {start.month}月{start.day}日至{end.month}月{end.day}日是"
            f" {len(span)} 天。请核对后再粘贴，没有保存任何内容。"
        )
    worked: list[date] = []
    for sentence in re.split(r"[。;]", body):
        if "上班" in sentence and "放假" not in sentence:
            worked += _dates(sentence, year, name, near_january=start.month in (12, 1))
    for d in worked:
        if d.weekday() < 5 or d in span:
            raise Refusal(f"“{name}”一条的上班日 {d.month}月{d.day}日不是周末，调休上班应是周六或周日。")
    for d in span:
        if d in schedule.holidays:
            raise Refusal(f"{d.month}月{d.day}日在两条里都放假（{schedule.holidays[d]}、{name}），请核对。")
        schedule.holidays[d] = name
    schedule.workdays += worked
    shown = "、".join(f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）" for d in worked)
    when = _md(start) if start == end else f"{_md(start)}至{_md(end)}"
    schedule.lines.append(f"{name}：{when}放假，共 {len(span)} 天" + (f"；{shown}上班" if shown else "；不调休"))


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def parse_notice(text: str, year: int) -> Schedule:
    """Read the pasted notice for year (or refuse, in Chinese, saying which item and why)."""
    if not 1 <= year <= 9999 or not in_range(date(year, 1, 1)):
        raise Refusal(f"年份“{year or ''}”不对：请填写要录入的年份（{FIRST.year}–{LAST.year}）。没有保存任何内容。")
    clean = _clean(text or "").strip()
    if not clean:
        raise Refusal(f"没有粘贴内容。{HOW}")
    schedule = Schedule(year)
    for section in _sections(clean):
        if "放假" not in section:
            continue
        _section(section, year, schedule)
    if not schedule.holidays:
        raise Refusal(f"没有读到任何放假安排，没有保存任何内容。{HOW}")
    if not any(d.year == year for d in schedule.holidays):
        raise Refusal(f"粘贴的安排里没有 {year} 年的放假日期：年份选对了吗？没有保存任何内容。")
    schedule.workdays = sorted(set(schedule.workdays))
    return schedule


def declared_key(session: Session | None) -> tuple[tuple[int, tuple[tuple[str, str], ...], tuple[str, ...]], ...]:
    """The years the office entered, as a hashable key for the calendar cache (none without a session)."""
    if session is None:
        return ()
    rows = session.scalars(select(DeclaredYear).order_by(DeclaredYear.year))
    return tuple((r.year, tuple(sorted(r.holidays.items())), tuple(sorted(r.workdays))) for r in rows)


def from_key(
    key: tuple[tuple[int, tuple[tuple[str, str], ...], tuple[str, ...]], ...],
) -> dict[int, tuple[dict[date, str], list[date]]]:
    """The office's years in the form WorkCalendar takes."""
    return {y: ({date.fromisoformat(d): n for d, n in h}, [date.fromisoformat(d) for d in w]) for y, h, w in key}


def save(session: Session, actor: Person, year: int, text: str, cal: WorkCalendar, at: datetime) -> Schedule:
    """Save year's schedule read from text (the office only; refuse a year the official data already holds)."""
    if not actor.has(Role.office):
        raise Refusal("只有领导小组办公室可以维护工作日历。")
    schedule = parse_notice(text, year)
    if cal.source(year) is Source.official:
        raise Refusal(f"{year} 年的节假日安排已内置（国务院办公厅通知，chinese-calendar），无需录入，没有保存。")
    row = session.get(DeclaredYear, year)
    before = None if row is None else {"holidays": len(row.holidays), "workdays": len(row.workdays)}
    holidays = {d.isoformat(): n for d, n in sorted(schedule.holidays.items())}
    workdays = [d.isoformat() for d in schedule.workdays]
    if row is None:
        row = DeclaredYear(year=year, holidays=holidays, workdays=workdays, notice=text, saved_by=actor.userid,
                           saved_at=at)  # fmt: skip
        session.add(row)
    else:
        row.holidays, row.workdays, row.notice, row.saved_by, row.saved_at = holidays, workdays, text, actor.userid, at
    session.flush()
    record(
        session, None, actor.userid, "calendar_saved", at, year=year, holidays=holidays, workdays=workdays,
        replaced=before,
    )  # fmt: skip
    return schedule


def saved_years(session: Session) -> list[DeclaredYear]:
    """The years the office entered, newest first."""
    return list(session.scalars(select(DeclaredYear).order_by(DeclaredYear.year.desc())))
