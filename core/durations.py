"""Parse human durations such as "20m", "90s", "3d" into timedeltas."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str | int | float) -> timedelta:
    """Return the timedelta for "90s", "20m", "1h30m", "3d" (bare numbers are seconds); raise ValueError."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"负的时长：{text}")
        return _seconds(float(text), text)
    if not isinstance(text, str):
        raise ValueError(f"无法识别的时长：{text!r}")
    s = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return _seconds(float(s), text)
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f'无法识别的时长：{text!r}（可用单位 s m h d，如 "20m"）')
    return _seconds(total, text)


MAX_SECONDS = 10 * 365 * 86400  # ten years: anything longer is a typing mistake, never a deadline


def _seconds(total: float, text: object) -> timedelta:
    if total > MAX_SECONDS:
        raise ValueError(f"时长太长：{str(text)[:20]!r}（最多十年）")
    return timedelta(seconds=total)


def format_duration(td: timedelta) -> str:
    """Return a short Chinese rendering of a duration, e.g. "1小时30分钟"."""
    secs = int(td.total_seconds())
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{minutes}分钟" if minutes else ""]
    out = "".join(parts)
    if not out or (seconds and secs < 600):
        out += f"{seconds}秒"
    return out
