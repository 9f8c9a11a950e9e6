"""The statutory holidays (《全国年节及纪念日放假办法》, 2024 revision) and the order of the calendar's sources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from lunar_python import Solar

from models.calendar import Source, UnknownYear, WorkCalendar, statutory_holidays
from workflow.duty.calendar_notice import missing_year, notice_year, official_warning


def _days(year: int, name: str) -> list[date]:
    return sorted(d for d, n in statutory_holidays(year).items() if name in n)


def test_2027_has_the_eleven_statutory_days_on_the_right_dates() -> None:
    assert _days(2027, "元旦") == [date(2027, 1, 1)]
    assert _days(2027, "春节") == [date(2027, 2, 5) + timedelta(days=i) for i in range(4)], "除夕 (腊月廿九) to 初三"
    assert _days(2027, "清明") == [date(2027, 4, 5)]
    assert _days(2027, "劳动") == [date(2027, 5, 1), date(2027, 5, 2)]
    assert _days(2027, "端午") == [date(2027, 6, 9)]
    assert _days(2027, "中秋") == [date(2027, 9, 15)]
    assert _days(2027, "国庆") == [date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)]
    assert len(statutory_holidays(2027)) == 13, "1 + 4 + 1 + 2 + 1 + 1 + 3"


@pytest.mark.parametrize("year", range(2025, 2061))
def test_new_years_eve_is_the_last_day_of_the_twelfth_lunar_month_whether_29th_or_30th(year: int) -> None:
    eve = _days(year, "春节")[0]
    lunar = Solar.fromYmd(eve.year, eve.month, eve.day).getLunar()
    following = Solar.fromYmd(*(eve + timedelta(days=1)).timetuple()[:3]).getLunar()
    assert (lunar.getMonth(), lunar.getDay() in (29, 30)) == (12, True)
    assert (following.getMonth(), following.getDay()) == (1, 1), "the next day is 正月初一"


def test_the_twelfth_month_has_29_days_in_some_years_and_30_in_others() -> None:
    last = {Solar.fromYmd(*_days(y, "春节")[0].timetuple()[:3]).getLunar().getDay() for y in range(2025, 2040)}
    assert last == {29, 30}, "2027 ends 腊月 on the 29th, 2030 on the 30th"


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_an_official_holiday_where_the_state_council_published_one(year: int) -> None:
    official = WorkCalendar(statutory=False)
    for day, name in statutory_holidays(year).items():
        assert not official.is_workday(day), f"{day} {name}"


def test_official_data_then_configuration_then_the_statute() -> None:
    configured = {
        2026: {"holidays": [date(2026, 3, 2)], "workdays": []},  # official 2026 wins over this
        2027: {"holidays": [date(2027, 2, 9)], "workdays": [date(2027, 2, 20)]},
    }
    cal = WorkCalendar(configured)
    assert cal.day(date(2026, 10, 1)).as_dict() == {
        "date": "2026-10-01",
        "workday": False,
        "holiday": "国庆节",
        "source": "official",
    }
    assert cal.day(date(2026, 3, 2)).workday, "a configured year the official data knows is ignored"
    assert cal.day(date(2027, 2, 9)).as_dict() == {
        "date": "2027-02-09",
        "workday": False,
        "holiday": "节假日",
        "source": "config",
    }
    assert cal.day(date(2027, 2, 5)).workday, "a configured year is taken whole: no statutory 除夕 added to it"
    assert cal.day(date(2027, 2, 20)).workday, "a configured 调休 Saturday"
    assert cal.day(date(2028, 1, 1)).source is Source.statutory
    assert cal.day(date(2028, 1, 1)).holiday == "元旦"


def test_a_statutory_year_rests_on_weekends_and_guesses_no_adjusted_days() -> None:
    cal = WorkCalendar(use_package=False)
    assert cal.day(date(2031, 10, 1)).holiday == "中秋节、国庆节", "中秋 falls on 国庆 in 2031: no extra day"
    assert not cal.is_workday(date(2031, 10, 3))
    assert not cal.is_workday(date(2031, 10, 4)), "a Saturday"
    assert cal.is_workday(date(2031, 10, 6)), "Monday: no 补假 or 调休 is guessed"
    assert cal.day(date(2031, 3, 8)).as_dict() == {
        "date": "2031-03-08",
        "workday": False,
        "holiday": None,
        "source": "statutory",
    }
    assert cal.is_workday(date(2031, 3, 10))


def test_working_days_skip_the_statutory_spring_festival() -> None:
    cal = WorkCalendar(use_package=False)
    thursday = datetime(2027, 2, 4, 2, 0, tzinfo=UTC)  # 10:00 Beijing, the day before 除夕
    assert cal.add_working_days(thursday, 1).date() == date(2027, 2, 9), "除夕 Fri to 初三 Mon off"


def test_a_year_before_the_statute_with_no_data_is_still_unknown() -> None:
    cal = WorkCalendar(use_package=False)
    with pytest.raises(UnknownYear, match=r"calendar.years.2024"):
        cal.is_workday(date(2024, 5, 1))
    assert cal.unknown_years(date(2024, 12, 1), date(2025, 1, 5)) == [2024]


def test_official_until_is_the_end_of_the_last_official_or_configured_year() -> None:
    cal = WorkCalendar({2027: {"holidays": [], "workdays": []}, 2029: {"holidays": [], "workdays": []}})
    assert cal.official_until(date(2026, 12, 6)) == date(2027, 12, 31), "2026 official, 2027 configured"
    assert cal.official_until(date(2028, 6, 1)) == date(2027, 12, 31), "2028 is a gap"
    assert cal.official_until(date(2029, 6, 1)) == date(2029, 12, 31)
    assert cal.official_until(date(2031, 3, 10)) == date(2029, 12, 31)


def test_warning_and_notice_years() -> None:
    cal = WorkCalendar({2027: {"holidays": [], "workdays": []}}, use_package=False)
    assert official_warning(cal, date(2027, 10, 1)) is None, "91 days left"
    warned = official_warning(cal, date(2027, 11, 5))
    assert warned is not None
    assert "只到 2027-12-31：2028 年起暂按《全国年节及纪念日放假办法》推算" in warned
    assert notice_year(cal, date(2027, 10, 31)) is None
    assert notice_year(cal, date(2027, 11, 1)) == 2028
    assert notice_year(cal, date(2028, 3, 1)) == 2028, "the year began without its schedule: still asked"
    assert missing_year(cal, date(2031, 3, 10)) == 2031
