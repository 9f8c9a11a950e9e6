"""The pure deadline policy: grades, aim and due, shares, caps, and the working calendar's edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.policy import parse_policy
from models.calendar import UnknownYear, WorkCalendar

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, a Thursday
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("kind", "grade", "aim", "due", "nudge", "warn"),
    [
        ("first_report", "major", 20, 30, 20, 24),
        ("first_report", "significant", 20, 30, 20, 24),
        ("first_report", "general", None, 60, 30, 48),
        ("written_report", "major", 40, 90, 40, 72),
        ("written_report", "general", None, 120, 60, 96),
        ("notify_units", "major", None, 30, 15, 24),
        ("notify_units", "general", None, 24 * 60, 12 * 60, 24 * 60 * 0.8),
        ("handling_report", "general", None, 24 * 60, 12 * 60, 24 * 60 * 0.8),
    ],
)
def test_shipped_defaults(kind: str, grade: str, aim: int | None, due: int, nudge: int, warn: float) -> None:
    s = parse_policy({}).schedule(kind, grade, T0)
    assert s is not None
    assert s.due_at == T0 + due * M
    assert s.aim_at == (T0 + aim * M if aim else None)
    assert (s.nudge_at, s.warn_at) == (T0 + nudge * M, T0 + warn * M)


def test_configured_shares_fixed_warning_and_second_scale_durations() -> None:
    p = parse_policy(
        {"nudge_share": 0.25, "warn_before": "5m", "clocks": {"first_report": {"general": {"due": "90s"}}}}
    )
    s = p.schedule("first_report", "general", T0)
    assert s is not None
    assert s.due_at == T0 + timedelta(seconds=90)
    assert s.nudge_at == T0 + timedelta(seconds=22.5)
    assert s.warn_at == s.nudge_at, "a warning 5 min before a 90 s due is clamped to the nudge"
    s = p.schedule("first_report", "major", T0)
    assert s is not None
    assert s.warn_at == T0 + 25 * M


def test_explicit_upper_level_deadline_overrides() -> None:
    s = parse_policy({}).schedule("written_report", "major", T0, override_due=T0 + 50 * M)
    assert s is not None
    assert s.due_at == T0 + 50 * M
    assert s.aim_at is None


@pytest.mark.parametrize(
    "raw",
    [
        {"start": "later"},
        {"nudge_share": 1.5},
        {"days": "lunar"},
        {"clocks": {"first_report": {"major": {"aim": "40m", "due": "30m"}}}},
        {"clocks": {"x": {"general": {"due": "soon"}}}},
    ],
)
def test_bad_policy_is_refused(raw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        parse_policy(raw)


def test_message_board_reply_natural_and_working_days_and_cap() -> None:
    natural = parse_policy({})
    s = natural.schedule("reply_source", "general", T0)
    assert s is not None
    assert s.due_at == T0 + timedelta(days=3)
    assert natural.cap_for("reply_source", T0) == T0 + timedelta(days=5)
    working = parse_policy({"days": "working"})
    s = working.schedule("reply_source", "general", T0, WorkCalendar())
    assert s is not None, "Thu → Fri, Mon, Tue"
    assert s.due_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "Thu → Fri, Mon, Tue"


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 9, 24), 3, date(2026, 9, 30)),  # 中秋 9/25–27: Mon 9/28, Tue, Wed
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # 国庆 10/1–7 off
        (date(2026, 9, 30), 2, date(2026, 10, 9)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10/10 is an adjusted working day (调休)
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday → Sunday 9/20, also a 调休 working day
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # ordinary weekend
    ],
)
def test_working_days_around_national_day(start: date, days: int, expected: date) -> None:
    at = datetime(start.year, start.month, start.day, 2, 0, tzinfo=UTC)
    assert WorkCalendar().add_working_days(at, days).date() == expected


def test_unknown_year_fails_loudly_and_configuration_teaches_it() -> None:
    cal = WorkCalendar(statutory=False)  # without the statutory fallback (tests/unit/test_statutory_calendar.py)
    late_dec = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    with pytest.raises(UnknownYear, match=r"calendar.years.2027"):
        cal.add_working_days(late_dec, 3)
    taught = WorkCalendar({2027: {"holidays": [date(2027, 1, 1)], "workdays": []}}, statutory=False)
    assert taught.add_working_days(late_dec, 3).date() == date(2027, 1, 5), "12/31, (1/1 off, weekend), 1/4, 1/5"


def test_the_demo_scale_makes_every_clock_faster_by_the_same_factor() -> None:
    fast = parse_policy({"scale": 60})
    assert fast.clocks["first_report"].spans["major"].due == timedelta(seconds=30)
    assert fast.clocks["first_report"].spans["major"].aim == timedelta(seconds=20)
    assert fast.clocks["reply_source"].span("general").due == timedelta(minutes=72), "3 days → 72 minutes"
    assert fast.escalate_after == timedelta(seconds=10)
    assert fast.follow_up_every == timedelta(minutes=24)
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    sched = fast.schedule("written_report", "general", start)
    assert sched is not None
    assert sched.due_at - start == timedelta(minutes=2)
    with pytest.raises(ValueError, match="scale"):
        parse_policy({"scale": 0})


def test_the_demo_notice_states_the_scale_with_a_real_example() -> None:
    from cli.sandbox_cmd import clock_notice
    from core.config import config_from_dict

    wecom = {"corp_id": "ww1", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "a" * 43}
    assert clock_notice(config_from_dict({"wecom": wecom})) == ""
    notice = clock_notice(config_from_dict({"wecom": wecom, "policy": {"scale": 60}}))
    assert "加快 60 倍" in notice
    assert "首报 30分钟 → 30秒" in notice
