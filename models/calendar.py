"""The working calendar: Chinese public holidays and adjusted working weekends, extendable by configuration."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from core.clock import LOCAL_TZ


class UnknownYear(Exception):
    """A date falls in a year whose holidays nobody has told us; the message says what to add."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} 年的节假日安排未知：请在配置 [calendar.years.{year}] 中补充 holidays 与 workdays"
            f"（国务院办公厅每年 11 月前后公布次年安排）"
        )
        self.year = year


class WorkCalendar:
    """Decides whether a local date is a working day, from chinese-calendar plus configured years."""

    def __init__(self, years: dict[int, dict[str, Iterable[date]]] | None = None, use_package: bool = True) -> None:
        self._holidays: set[date] = set()
        self._workdays: set[date] = set()
        self._years: set[int] = set()
        if use_package:
            self._load_package()
        for year, spec in (years or {}).items():
            self._years.add(int(year))
            self._holidays -= {d for d in self._holidays if d.year == int(year)}
            self._workdays -= {d for d in self._workdays if d.year == int(year)}
            self._holidays.update(spec.get("holidays", ()))
            self._workdays.update(spec.get("workdays", ()))

    def _load_package(self) -> None:
        try:
            from chinese_calendar import constants
        except ImportError:  # pragma: no cover - the package is a declared dependency
            return
        self._holidays.update(constants.holidays)
        self._workdays.update(constants.workdays)
        self._years.update(range(min(d.year for d in constants.holidays), max(d.year for d in constants.holidays) + 1))

    def known(self, year: int) -> bool:
        """Return True if this year's holidays are known."""
        return year in self._years

    def is_workday(self, day: date) -> bool:
        """Return True for a working day; raise UnknownYear if the year is not known."""
        if day.year not in self._years:
            raise UnknownYear(day.year)
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

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
        return [y for y in range(start.year, end.year + 1) if y not in self._years]
