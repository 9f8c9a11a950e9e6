"""`liaowang calendar check` and `calendar day`: what the working calendar knows, and from which source."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta

from core import clock
from core.config import Config, load_config
from core.runtime import Runtime
from models.calendar import Source, UnknownYear, WorkCalendar
from workflow.duty.calendar_notice import WARN_DAYS, how_to_add, missing_year, official_warning
from workflow.engine.clocks import calendar_for

MAX_DAYS = 3650  # ten years: far enough for any plan, near enough for the calendar
SOURCE_NAMES = {
    Source.official: "官方安排（chinese-calendar）",
    Source.office: "办公室在工作日历页面录入",
    Source.config: "配置",
    Source.statutory: "按《全国年节及纪念日放假办法》推算（不含调休）",
}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `calendar check` and `calendar day`."""
    cal = sub.add_parser("calendar", help="工作日历（法定节假日与调休）").add_subparsers(dest="sub", required=True)
    check = cal.add_parser("check", help="检查接下来的日期是否都有官方节假日安排")
    check.add_argument("--days", type=int, default=WARN_DAYS, help=f"往后检查多少天（默认 {WARN_DAYS}）")
    check.set_defaults(func=check_cmd)
    day = cal.add_parser("day", help="某一天是否上班、是什么节日、依据哪个来源")
    day.add_argument("date", help="日期，如 2027-02-06")
    day.add_argument("--json", action="store_true", help='输出 JSON：{"date", "workday", "holiday", "source"}')
    day.set_defaults(func=day_cmd)


def _calendar(cfg: Config) -> WorkCalendar:
    """The working calendar with the years the office saved on the calendar page (config only if the database
    cannot be read, said on stderr)."""
    from sqlalchemy.exc import SQLAlchemyError

    rt = Runtime(cfg)
    try:
        with rt.sessions() as s:
            return calendar_for(cfg, s)
    except SQLAlchemyError as exc:
        print(f"（数据库无法读取，没有计入办公室在工作日历页面录入的年份：{type(exc).__name__}）", file=sys.stderr)
        return calendar_for(cfg)
    finally:
        rt.engine.dispose()


def _year_line(cal: WorkCalendar, year: int) -> str:
    source = cal.source(year)
    if source is None:
        return f"{year} 年：未知 ✗"
    return f"{year} 年：已知 {'✓' if source is not Source.statutory else '△'}（{SOURCE_NAMES[source]}）"


def check_cmd(args: argparse.Namespace) -> int:
    """Print each year in the next --days days and its source; warn when official data ends within them;
    exit 1 only if some date is known to nobody."""
    today = clock.local(clock.now()).date()
    if not 1 <= args.days <= MAX_DAYS:
        print(f"--days 应在 1 到 {MAX_DAYS} 之间（现在是 {args.days}）。", file=sys.stderr)
        return 2
    cfg = load_config()
    cal = _calendar(cfg)
    end = today + timedelta(days=args.days)
    for year in range(today.year, end.year + 1):
        print(_year_line(cal, year))
    unknown = cal.unknown_years(today, end)
    warning = official_warning(cal, today, args.days)
    if warning:
        print(f"⚠ {warning}")
        print(how_to_add(missing_year(cal, today)))
    if not unknown:
        part = "（其中部分按法定节假日推算）" if warning else ""
        print(f"接下来 {args.days} 天（到 {end}）的节假日安排都已知{part}。")
        return 0
    first = max(today, date(min(unknown), 1, 1))
    print(f"从 {first} 起的日期未知：按工作日计算的时限将无法开始。")
    print("请办公室在工作日历页面（/h5/calendar）粘贴国务院办公厅的通知（每年 11 月前后公布），或在配置中补充：")
    for year in unknown:
        print(
            f'  [calendar.years.{year}]\n  holidays = ["{year}-01-01", …]   # 放假日\n'
            f'  workdays = ["{year}-02-07", …]   # 调休上班的周末'
        )
    return 1


def day_cmd(args: argparse.Namespace) -> int:
    """Print whether the date is a working day, its holiday and the source (exit 1 for a bad or unknown date)."""
    try:
        when = date.fromisoformat(args.date)
    except ValueError:
        print(f"日期格式不对：{args.date}（写成 2027-02-06）")
        return 1
    try:
        info = _calendar(load_config()).day(when)
    except UnknownYear as exc:
        print(str(exc))
        return 1
    if args.json:
        print(json.dumps(info.as_dict(), ensure_ascii=False))
        return 0
    weekday = "一二三四五六日"[when.weekday()]
    if info.workday:
        what = "上班（调休）" if when.weekday() >= 5 else "上班"
    else:
        what = f"休息（{info.holiday}）" if info.holiday else "休息（周末）"
    print(f"{when.isoformat()}（星期{weekday}）：{what}。依据：{SOURCE_NAMES[info.source]}。")
    return 0
