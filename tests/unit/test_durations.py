"""Typed durations and deadlines: the Chinese forms people write, the short forms that keep working, clear refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.args import take_limit
from core.durations import parse_deadline, parse_span

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=BEIJING)  # a fixed instant: these are pure functions of (text, now)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2小时", timedelta(hours=2)),
        ("半小时", timedelta(minutes=30)),
        ("30分钟", timedelta(minutes=30)),
        ("1天", timedelta(days=1)),
        ("1个半小时", timedelta(minutes=90)),
        ("两小时", timedelta(hours=2)),
        ("十分钟", timedelta(minutes=10)),
        ("1.5小时", timedelta(minutes=90)),
        ("1小时30分钟", timedelta(minutes=90)),
        ("２小时", timedelta(hours=2)),
        ("2 小时", timedelta(hours=2)),
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
    ],
)
def test_typed_durations(text: str, span: timedelta) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["", "2", "abc", "3个礼拜", "小时", "半半小时"])
def test_unreadable_durations_are_refused_in_chinese(text: str) -> None:
    with pytest.raises(ValueError, match="看不懂"):
        parse_span(text)


@pytest.mark.parametrize("text", ["0分钟", "0h", "零小时"])
def test_a_zero_duration_is_refused_as_zero_not_as_unreadable(text: str) -> None:
    with pytest.raises(ValueError, match="必须大于零"):
        parse_span(text)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("2小时", datetime(2026, 12, 6, 12, 0, tzinfo=BEIJING)),
        ("16:30", datetime(2026, 12, 6, 16, 30, tzinfo=BEIJING)),
        ("16：30", datetime(2026, 12, 6, 16, 30, tzinfo=BEIJING)),
        ("18点半", datetime(2026, 12, 6, 18, 30, tzinfo=BEIJING)),
        ("明天 9:00", datetime(2026, 12, 7, 9, 0, tzinfo=BEIJING)),
        ("2月5日 8:00", datetime(2027, 2, 5, 8, 0, tzinfo=BEIJING)),  # already past this year: next year's
        ("12月8日", datetime(2026, 12, 8, 23, 59, tzinfo=BEIJING)),  # a date alone: the end of that day
        ("2027年2月5日", datetime(2027, 2, 5, 23, 59, tzinfo=BEIJING)),
        ("2027-02-05 08:00", datetime(2027, 2, 5, 8, 0, tzinfo=BEIJING)),
    ],
)
def test_typed_deadlines(text: str, due: datetime) -> None:
    assert parse_deadline(text, NOW) == due


def test_durations_follow_the_demo_clock_scale_but_times_of_day_do_not() -> None:
    assert parse_deadline("2小时", NOW, scale=60) == NOW + timedelta(minutes=2)
    assert parse_deadline("16:30", NOW, scale=60) == datetime(2026, 12, 6, 16, 30, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("text", "says"), [("25:00", "不是有效的"), ("2月30日", "不是有效的"), ("8:00", "已经过了"), ("下周", "看不懂")]
)
def test_impossible_or_past_deadlines_are_refused_in_chinese(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_deadline(text, NOW)


@pytest.mark.parametrize(
    ("typed", "before", "limit"),
    [
        ("执法一队 较大 限2h", "执法一队 较大", "2h"),
        ("执法一队，较大，限2小时", "执法一队，较大", "2小时"),
        ("执法一队。限2月5日 8:00", "执法一队", "2月5日 8:00"),
        ("说明情况，限期整改", "说明情况，限期整改", None),
        ("我们不限2小时内回复", "我们不限2小时内回复", None),
    ],
)
def test_limit_is_found_after_any_punctuation(typed: str, before: str, limit: str | None) -> None:
    assert take_limit(typed, NOW) == (before, limit)


def test_a_last_word_that_is_a_broken_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="看不懂"):
        take_limit("执法一队 限3个礼拜", NOW)
