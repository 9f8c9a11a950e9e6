"""`liaowang calendar check`: which upcoming dates the working calendar does not know yet."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from core import clock
from core.config import load_config
from workflow.clocks import calendar_for

MAX_DAYS = 3650  # ten years: far enough for any plan, near enough for the calendar


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `calendar check`."""
    cal = sub.add_parser("calendar", help="工作日历（法定节假日与调休）").add_subparsers(dest="sub", required=True)
    check = cal.add_parser("check", help="检查接下来的日期是否都有节假日安排")
    check.add_argument("--days", type=int, default=60, help="往后检查多少天（默认 60）")
    check.set_defaults(func=check_cmd)


def check_cmd(args: argparse.Namespace) -> int:
    """Print the known and unknown years in the next --days days; exit 1 if any is unknown."""
    today = clock.local(clock.now()).date()
    if not 1 <= args.days <= MAX_DAYS:
        print(f"--days 应在 1 到 {MAX_DAYS} 之间（现在是 {args.days}）。", file=sys.stderr)
        return 2
    cfg = load_config()
    cal = calendar_for(cfg)
    end = today + timedelta(days=args.days)
    unknown = cal.unknown_years(today, end)
    for year in range(today.year, end.year + 1):
        source = "配置" if year in cfg.calendar_years else "chinese-calendar"
        print(f"{year} 年：" + ("未知 ✗" if year in unknown else f"已知 ✓（{source}）"))
    if not unknown:
        print(f"接下来 {args.days} 天（到 {end}）的节假日安排都已知。")
        return 0
    first = max(today, date(min(unknown), 1, 1))
    print(f"从 {first} 起的日期未知：按工作日计算的时限将无法开始。")
    print("请在配置中补充（国务院办公厅每年 11 月前后公布）：")
    for year in unknown:
        print(
            f'  [calendar.years.{year}]\n  holidays = ["{year}-01-01", …]   # 放假日\n'
            f'  workdays = ["{year}-02-07", …]   # 调休上班的周末'
        )
    return 1
