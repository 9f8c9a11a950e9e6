"""The working calendar after the official data ends: `calendar day`, the metrics gauge, the 60-day warnings, the
office's weekly notice, and working-day clocks and the patrol in a year only the statute covers."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core import clock
from core.clock import LOCAL_TZ, local
from models.clock import Clock
from sandbox.client import SandboxClient
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, code_in
from tests.integration.harness import Stack
from tests.integration.test_metrics import _value, scrape
from tests.integration.test_processes import liaowang, write_config

NOTICE = "【工作日历】"
OTHERS = ("zhangsan", "wangwu", "lisi", "liujiu")


def _at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=LOCAL_TZ)


def _move_to(st: Stack, when: datetime) -> None:
    st.later((when - clock.now()).total_seconds())


def _notices(st: Stack, userid: str) -> list[str]:
    return [t for t in st.texts(userid) if t.startswith(NOTICE)]


def test_calendar_day_says_workday_holiday_and_source(tmp_path: Path, redis_url: str) -> None:
    extra = '[calendar.years.2028]\nholidays = ["2028-01-03"]\nworkdays = ["2028-01-08"]\n'
    cfg = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'c.db'}", redis_url, extra=extra)

    def day(text: str, *more: str) -> str:
        out = liaowang(cfg, "calendar", "day", text, *more)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout.strip()

    assert json.loads(day("2027-02-05", "--json")) == {
        "date": "2027-02-05",
        "workday": False,
        "holiday": "春节",
        "source": "statutory",
    }, "除夕 2027 is 腊月廿九"
    assert json.loads(day("2026-10-01", "--json")) == {
        "date": "2026-10-01",
        "workday": False,
        "holiday": "国庆节",
        "source": "official",
    }
    assert json.loads(day("2028-01-03", "--json"))["source"] == "config"
    assert json.loads(day("2028-01-08", "--json"))["workday"] is True, "a configured 调休 Saturday"
    assert json.loads(day("2027-02-09", "--json"))["workday"] is True
    assert (
        day("2027-02-05")
        == "2027-02-05（星期五）：休息（春节）。依据：按《全国年节及纪念日放假办法》推算（不含调休）。"
    )
    assert day("2028-01-08") == "2028-01-08（星期六）：上班（调休）。依据：配置。"
    assert (
        day("2027-02-13")
        == "2027-02-13（星期六）：休息（周末）。依据：按《全国年节及纪念日放假办法》推算（不含调休）。"
    )
    bad = liaowang(cfg, "calendar", "day", "2月5日")
    assert bad.returncode == 1
    assert "日期格式不对：2月5日（写成 2027-02-06）" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_metrics_tell_when_the_official_schedule_ends(make_stack) -> None:  # type: ignore[no-untyped-def]
    plain = make_stack()
    end_of_2026 = _at(2026, 12, 31, 0).timestamp()  # chinese-calendar 1.11 knows 2026 at most
    assert _value(scrape(plain.app_url + "/metrics"), "liaowang_calendar_official_until_seconds") == end_of_2026
    years = {str(y): {"holidays": [f"{y}-01-01"], "workdays": []} for y in range(2027, local(clock.now()).year + 3)}
    taught = make_stack(extra={"calendar": {"years": years}})
    until = _value(scrape(taught.app_url + "/metrics"), "liaowang_calendar_official_until_seconds")
    assert until == _at(local(clock.now()).year + 2, 12, 31, 0).timestamp(), "configured years count too"


def test_doctor_and_check_warn_sixty_days_before_the_official_schedule_ends(
    tmp_path: Path, redis_url: str, database_url: str, emulator: EmulatorServer
) -> None:
    SandboxClient(emulator.url).reset()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    assert liaowang(cfg, "wecom", "menu").returncode == 0
    early, late = "2026-10-01T10:00:00+08:00", "2026-12-06T10:00:00+08:00"  # 91 and 25 days before 2027
    quiet = liaowang(cfg, "wecom", "doctor", now=early)
    assert quiet.returncode == 0, quiet.stdout
    assert "工作日历" not in quiet.stdout
    warned = liaowang(cfg, "wecom", "doctor", now=late)
    assert warned.returncode == 0, "a warning, not a failure: the statute covers 2027"
    assert "⚠ 工作日历：官方节假日安排只到 2026-12-31：2027 年起暂按《全国年节及纪念日放假办法》推算" in warned.stdout
    assert "[calendar.years.2027]" in warned.stdout
    assert "国务院办公厅关于2027年部分节假日安排的通知" in warned.stdout
    check = liaowang(cfg, "calendar", "check", now=late)
    assert check.returncode == 0, check.stdout
    assert "2027 年：已知 △（按《全国年节及纪念日放假办法》推算（不含调休））" in check.stdout
    assert "⚠ 官方节假日安排只到 2026-12-31" in check.stdout
    assert "⚠" not in liaowang(cfg, "calendar", "check", now=early).stdout


def test_the_office_gets_one_notice_a_week_from_november_until_next_year_is_configured(make_stack) -> None:  # type: ignore[no-untyped-def]
    configured = {"2100": {"holidays": ["2100-01-01"], "workdays": []}}  # a year no holiday package will know
    st = make_stack(extra={"calendar": {"weekly_notice": True, "years": configured}})
    clock.freeze(_at(2100, 10, 25))
    for _ in range(6):  # the last week of October: 2101 is unknown but it is not November yet
        st.later(86400)
    assert not _notices(st, "chenqi"), "none before 1 November"
    _move_to(st, _at(2100, 11, 1, 0) + timedelta(minutes=1))
    first = _notices(st, "chenqi")
    assert len(first) == 1, "the first notice on 1 November"
    assert "2101 年的节假日安排还没有加入瞭望" in first[0]
    assert "《国务院办公厅关于2101年部分节假日安排的通知》" in first[0]
    assert "官方节假日安排只到 2100-12-31：2101 年起暂按《全国年节及纪念日放假办法》推算" in first[0]
    assert "[calendar.years.2101]" in first[0]
    assert 'holidays = ["2101-01-01", …]' in first[0]
    assert "点此打开工作日历页面：" in first[0]
    assert "%2Fh5%2Fcalendar" in first[0], "a link the office can tap"
    for _ in range(6 * 4):  # every six hours through the week: several sweeps, still one notice
        st.later(6 * 3600)
    st.later(0)  # a second worker's sweep at the same moment sends nothing more
    assert len(_notices(st, "chenqi")) == 1, "one notice in the week of 1–7 November"
    st.later(86400)  # 8 November
    assert len(_notices(st, "chenqi")) == 2, "the next week's notice"
    for _ in range(7 * 8):  # eight more weeks, across the new year (2101 is still unknown on 1 January)
        st.later(86400)
    assert len(_notices(st, "chenqi")) == 10, "one a week: 1, 8, …, 3 January"
    assert "2101 年的节假日安排还没有加入瞭望" in _notices(st, "chenqi")[-1]
    for userid in OTHERS:
        assert not _notices(st, userid), f"{userid} is not the office"
    years = {2100: {"holidays": [date(2100, 1, 1)], "workdays": []}, 2101: {"holidays": [date(2101, 1, 1)]}}
    st.rt.config = dataclasses.replace(
        st.rt.config, calendar_years={y: {"workdays": [], **s} for y, s in years.items()}
    )
    for _ in range(3 * 7):
        st.later(86400)
    assert len(_notices(st, "chenqi")) == 10, "none once the year is configured"


def test_the_notice_can_be_turned_off(make_stack) -> None:  # type: ignore[no-untyped-def]
    st = make_stack(extra={"calendar": {"weekly_notice": False}})
    clock.freeze(_at(2100, 11, 2))
    st.later(60)
    assert not _notices(st, "chenqi")


def test_a_working_day_clock_dispatched_in_2027_skips_the_statutory_spring_festival(make_stack) -> None:  # type: ignore[no-untyped-def]
    policy = {"days": "working", "clocks": {"handling_report": {"all": {"days": 2}}}}
    st = make_stack(extra={"policy": policy})
    clock.freeze(_at(2027, 2, 4))  # Thursday, the day before 除夕 (腊月廿九)
    st.say("zhangsan", "上报 春节前的舆情")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    assert "已交办" in st.last("chenqi"), st.last("chenqi")
    assert not [t for t in st.texts("chenqi") if "时限无法计算" in t]
    with st.rt.sessions() as s:
        handling = s.scalar(select(Clock).where(Clock.kind == "handling_report"))
        assert handling is not None
        assert local(handling.due_at) == _at(2027, 2, 10), "除夕 Fri to 初三 Mon off, then Tue (1) and Wed (2)"


def test_the_patrol_rests_on_statutory_holidays(make_stack) -> None:  # type: ignore[no-untyped-def]
    rounds = [{"card": "09:00", "remind": "09:30", "due": "10:00"}]
    st = make_stack(extra={"patrol": {"enabled": True, "days": "workdays", "rounds": rounds}})
    clock.freeze(_at(2027, 2, 5, 8))  # 除夕, a Friday
    for _ in range(4):  # 除夕 to 初三 (Friday to Monday)
        st.later(90 * 60)
        assert not cards(st, "zhangsan", "日常巡查"), local(clock.now()).date()
        st.later(22.5 * 3600)
    st.later(90 * 60)  # Tuesday 9 February, 09:30
    assert len(cards(st, "zhangsan", "日常巡查")) == 1, "the first working day after the holiday"
