"""Every time people see goes through core.clock.show (Beijing time); nothing else in the app formats datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from core import clock
from core.clock import show

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("handlers", "workflow", "bot/h5", "bot/templates/h5")
FORBIDDEN = {
    "strftime": re.compile(r"\bstrftime\s*\("),
    "a %-format of a datetime in an f-string": re.compile(r"\{[^{}\n]*:%[A-Za-z]"),
    "a strftime directive": re.compile(r"%[HMYm][^a-zA-Z]"),
    "hand-made year/month/hour digits": re.compile(r"\.(year|month|day|hour|minute)\s*:\s*0?\d+d\}"),
    "a Jinja date filter": re.compile(r"\|\s*(datetimeformat|strftime|date)\b"),
}


def offences() -> list[str]:
    """Return "path:line: what" for every datetime formatting outside core/clock.py."""
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in (".py", ".html"):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [f"{path.relative_to(ROOT)}:{n}: {what}" for what, rx in FORBIDDEN.items() if rx.search(line)]
    return found


def test_no_datetime_formatting_outside_the_clock() -> None:
    assert offences() == []


def test_the_scan_sees_a_utc_format() -> None:
    assert FORBIDDEN["a %-format of a datetime in an f-string"].search('f"于 {ctx.now:%H:%M} 报送"')
    assert FORBIDDEN["strftime"].search('local(at).strftime("%Y")')


def test_show_is_beijing_time_in_every_form() -> None:
    at = datetime(2026, 12, 5, 23, 17, tzinfo=UTC)  # 07:17 on 6 December in Beijing
    clock.freeze(datetime(2026, 12, 6, 2, 0, tzinfo=UTC))  # 10:00 on 6 December in Beijing
    try:
        assert show(at) == "07:17"
        assert show(at, True) == "12月6日 07:17"
        assert show(at, form="long") == "2026年12月6日 07:17"
        assert show(at, form="table") == "2026-12-06 07:17"
        assert show(at, form="day") == "20261206"
        assert show(at, form="month") == "2026-12"
        assert show(datetime(2027, 1, 5, 1, 2, tzinfo=UTC), True) == "2027年1月5日 09:02"
        assert show(None) == "—"
    finally:
        clock.reset()


def test_a_time_on_another_day_names_the_day_and_another_year_the_year() -> None:
    clock.freeze(datetime(2026, 12, 6, 2, 0, tzinfo=UTC))  # 10:00 on 6 December in Beijing
    try:
        assert show(datetime(2026, 12, 6, 9, 0, tzinfo=UTC)) == "17:00", "the same Beijing day: the time alone"
        assert show(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) == "12月7日 17:00"
        assert show(datetime(2026, 12, 6, 16, 30, tzinfo=UTC)) == "12月7日 00:30", "Beijing's day, not UTC's"
        assert show(datetime(2027, 2, 5, 0, 0, tzinfo=UTC)) == "2027年2月5日 08:00"
        assert show(datetime(2025, 12, 31, 0, 0, tzinfo=UTC), True) == "2025年12月31日 08:00"
    finally:
        clock.reset()
