"""The working calendar: Chinese public holidays and adjusted working weekends, extendable by configuration.

Each year is decided by the first source that knows it: chinese-calendar (the State Council's yearly notice,
"official"), then the years the office entered from the notice on the calendar page ("office", table calendar_years),
then the [calendar] years of the configuration ("config"), then the statutory holidays of
《全国年节及纪念日放假办法》 as revised in 2024 ("statutory": in force from 2025; weekends rest, no 调休).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import LOCAL_TZ
from models.base import Base, UTCDateTime

STATUTORY_SINCE = 2025  # the 2024 revision of 《全国年节及纪念日放假办法》 applies from 1 January 2025
CONFIG_HOLIDAY = "节假日"  # the name of a holiday given only as a date in [calendar.years]


class Source(StrEnum):
    """Where the holidays of a year come from, in the order they win."""

    official = "official"
    office = "office"
    config = "config"
    statutory = "statutory"


class DeclaredYear(Base):
    """One year's holidays and adjusted working days as the office entered them from the State Council's notice
    (the text pasted is kept); saving the year again replaces them (the audit trail keeps what was there)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[dict[str, Any]] = mapped_column(JSON)  # "2027-01-01" → "元旦"
    workdays: Mapped[list[str]] = mapped_column(JSON)  # "2027-02-07", …: the weekends worked (调休)
    notice: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnknownYear(Exception):
    """A date falls in a year whose holidays nobody has told us; the message says what to add."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} 年的节假日安排未知：请在配置 [calendar.years.{year}] 中补充 holidays 与 workdays"
            f"（国务院办公厅每年 11 月前后公布次年安排）"
        )
        self.year = year


@dataclass(frozen=True)
class CalendarDay:
    """One date as the calendar sees it: working or not, the holiday's Chinese name (None if none), the source."""

    date: date
    workday: bool
    holiday: str | None
    source: Source

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by `liaowang calendar day --json`."""
        return {"date": self.date.isoformat(), "workday": self.workday, "holiday": self.holiday, "source": self.source}


def _solar(value: object) -> date:
    """A lunar_python Solar as a date."""
    return date(value.getYear(), value.getMonth(), value.getDay())  # type: ignore[attr-defined]


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory public holidays of a year (2024 revision), date → Chinese name; lunar dates from lunar_python."""
    from lunar_python import Lunar, Solar

    new_year = _solar(Lunar.fromYmd(year, 1, 1).getSolar())  # 正月初一 of the lunar year beginning in this year
    qingming = _solar(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    for offset in range(-1, 3):  # 除夕 (the last day of the 12th month, 29th or 30th) to 初三
        days[new_year + timedelta(days=offset)] = "春节"
    days[qingming] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    days[_solar(Lunar.fromYmd(year, 5, 5).getSolar())] = "端午节"
    days[_solar(Lunar.fromYmd(year, 8, 15).getSolar())] = "中秋节"
    for d in (1, 2, 3):  # 中秋 may fall on one of them (2031-10-01): that day is both, with no extra day
        day = date(year, 10, d)
        days[day] = f"{days[day]}、国庆节" if day in days else "国庆节"
    return days


def _package() -> tuple[dict[date, str], set[date], set[int]]:
    """chinese-calendar's holidays (date → Chinese name), adjusted working days and the years it covers."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return {}, set(), set()
    names = {h.value: h.chinese for h in constants.Holiday}
    holidays = {d: names.get(str(v), CONFIG_HOLIDAY) for d, v in constants.holidays.items()}
    years = set(range(min(d.year for d in holidays), max(d.year for d in holidays) + 1))
    return holidays, set(constants.workdays), years


class WorkCalendar:
    """Decides whether a local date is a working day: chinese-calendar, then configured years, then statutory."""

    def __init__(
        self,
        years: dict[int, dict[str, Iterable[date]]] | None = None,
        use_package: bool = True,
        statutory: bool = True,
        office: dict[int, tuple[dict[date, str], list[date]]] | None = None,
    ) -> None:
        self._holidays: dict[date, str] = {}
        self._workdays: set[date] = set()
        self._sources: dict[int, Source] = {}
        self._statutory = statutory
        if use_package:
            holidays, workdays, covered = _package()
            self._holidays.update(holidays)
            self._workdays.update(workdays)
            self._sources.update(dict.fromkeys(covered, Source.official))
        for y, (holidays_of, workdays_of) in (office or {}).items():
            if self._sources.get(y) is Source.official:
                continue  # the official data always wins
            self._sources[y] = Source.office
            self._holidays.update(holidays_of)
            self._workdays.update(workdays_of)
        for year, spec in (years or {}).items():
            y = int(year)
            if self._sources.get(y) in (Source.official, Source.office):
                continue  # the official data always wins, then what the office entered
            self._sources[y] = Source.config
            self._holidays.update(dict.fromkeys(spec.get("holidays", ()), CONFIG_HOLIDAY))
            self._workdays.update(spec.get("workdays", ()))

    def source(self, year: int) -> Source | None:
        """Return where this year's holidays come from (None if nobody knows them)."""
        if year in self._sources:
            return self._sources[year]
        return Source.statutory if self._statutory and year >= STATUTORY_SINCE else None

    def known(self, year: int) -> bool:
        """Return True if this year's holidays are known (officially, by configuration or by the statute)."""
        return self.source(year) is not None

    def official(self, year: int) -> bool:
        """Return True if this year's schedule is official or configured (not only computed from the statute)."""
        return year in self._sources

    def official_until(self, today: date) -> date:
        """The last day with an official or configured schedule: the end of the run of such years that includes
        today, else of the latest such year before today (31 December of the year before if there is none)."""
        year = today.year
        if not self.official(year):
            return date(max((y for y in self._sources if y < year), default=year - 1), 12, 31)
        while self.official(year + 1):
            year += 1
        return date(year, 12, 31)

    def day(self, day: date) -> CalendarDay:
        """Return what day is: working or not, its holiday and the source; raise UnknownYear if nobody knows."""
        source = self.source(day.year)
        if source is None:
            raise UnknownYear(day.year)
        if source is Source.statutory:
            name = statutory_holidays(day.year).get(day)
            return CalendarDay(day, name is None and day.weekday() < 5, name, source)
        if day in self._workdays:
            return CalendarDay(day, True, None, source)
        name = self._holidays.get(day)
        return CalendarDay(day, name is None and day.weekday() < 5, name, source)

    def is_workday(self, day: date) -> bool:
        """Return True for a working day; raise UnknownYear if the year is not known."""
        return self.day(day).workday

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the same local time of day on the days-th working day after start's local date."""
        local = start.astimezone(LOCAL_TZ)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)

    def unknown_years(self, start: date, end: date) -> list[int]:
        """Return the years between start and end (inclusive) whose holidays are not known."""
        return [y for y in range(start.year, end.year + 1) if not self.known(y)]
