"""When the official holiday schedule runs out: the 60-day warning and the office's weekly notice (one per week)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import local
from core.config import Config
from models import OutboxMessage, Role
from models.calendar import WorkCalendar
from workflow.engine import periodic
from workflow.engine.clocks import calendar_for
from workflow.engine.outbox import emit
from workflow.people import org
from workflow.views import pages, render

WARN_DAYS = 60  # `calendar check` and `wecom doctor` warn this many days before the official data ends
NOTICE_MONTH = 11  # the weekly notice about next year starts on 1 November
STATUTE = "《全国年节及纪念日放假办法》"
HOW_TO_ADD = (
    "补充方法：国务院办公厅每年 11 月前后发布《国务院办公厅关于Y年部分节假日安排的通知》，按通知在配置文件中写上\n"
    "  [calendar.years.Y]\n"
    '  holidays = ["Y-01-01", …]   # 放假的每一天（含放假期间的周末）\n'
    '  workdays = ["Y-02-07", …]   # 调休上班的周末\n'
    "保存后重启瞭望的网页和后台任务进程，再运行 liaowang calendar check 核对（升级 chinese-calendar 也可以）。\n"
    "更简便：办公室在“工作日历”页面（/h5/calendar）粘贴通知原文，预览无误后保存，立即生效，无需重启。"
)


def how_to_add(year: int) -> str:
    """The lines that say where next year's schedule comes from and how to write it in the configuration."""
    return HOW_TO_ADD.replace("Y", str(year))


def missing_year(cal: WorkCalendar, today: date) -> int:
    """The first year from today on that has no official or configured schedule."""
    return max(cal.official_until(today).year + 1, today.year)


def official_warning(cal: WorkCalendar, today: date, days: int = WARN_DAYS) -> str | None:
    """A warning when the official or configured schedule ends within days of today (None when it does not)."""
    until = cal.official_until(today)
    if until >= today + timedelta(days=days):
        return None
    year = missing_year(cal, today)
    when = f"{year} 年起" if until >= today else f"{year} 年"
    return (
        f"官方节假日安排只到 {until.isoformat()}：{when}暂按{STATUTE}推算法定节假日（元旦、春节、清明、劳动节、端午、"
        f"中秋、国庆），周末休息，不含调休。请补充 {year} 年的安排。"
    )


def notice_year(cal: WorkCalendar, today: date) -> int | None:
    """The year the office must be told to add: this year if it has no official schedule, next year from
    1 November; None when nothing is missing."""
    if not cal.official(today.year):
        return today.year
    if today.month >= NOTICE_MONTH and not cal.official(today.year + 1):
        return today.year + 1
    return None


def enabled(config: Config) -> bool:
    """[calendar] weekly_notice (default true): whether the office gets the weekly notice."""
    return bool(config.raw.get("calendar", {}).get("weekly_notice", True))


@periodic.task(40, "the calendar notice raced with another worker; it was sent once")
def remind(session: Session, config: Config, now: datetime) -> bool:
    """Send the office this week's notice that a year's holiday schedule is missing, once per week (the outbox key
    names the year and the week counted from 1 November); return True if it was added now."""
    if not enabled(config):
        return False
    cal = calendar_for(config, session)
    today = local(now).date()
    year = notice_year(cal, today)
    if year is None:
        return False
    week = (today - date(year - 1, NOTICE_MONTH, 1)).days // 7
    key = f"calendar_notice:{year}:{week}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idem_key == key)) is not None:
        return False
    warning = official_warning(cal, today, days=366) or ""  # always says until when, and what applies after
    text = (
        f"【工作日历】{year} 年的节假日安排还没有加入瞭望。{warning}\n{how_to_add(year)}\n"
        f"点此打开工作日历页面：{pages.oauth_url(config, '/h5/calendar')}\n"
        "（本提醒每周一次，补上后停止。）"
    )
    office = org.userids(org.with_role(session, Role.office))
    return emit(session, office, render.text(text), key, now) is not None
