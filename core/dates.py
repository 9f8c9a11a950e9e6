"""The calendar dates Liaowang accepts from people (pages, chat, CLI): 2000-01-01 to 2099-12-31."""

from __future__ import annotations

from datetime import date

FIRST, LAST = date(2000, 1, 1), date(2099, 12, 31)


def in_range(day: date) -> bool:
    """Tell whether day lies within the dates Liaowang accepts (FIRST..LAST)."""
    return FIRST <= day <= LAST


def refuse_range(word: str) -> str:
    """The Chinese sentence that refuses a date outside FIRST..LAST."""
    return f"日期 {word} 超出了可以查询的范围（{FIRST.isoformat()} 至 {LAST.isoformat()}）。"
