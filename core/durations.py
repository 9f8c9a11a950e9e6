"""Parse human durations and deadlines: "20m", "3d" in config; "2小时", "半小时", "16:30", "2月5日 8:00" as typed."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

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


LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # core.clock's zone (all typed times are Beijing time)
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = (
    ("天", 86400), ("日", 86400), ("小时", 3600), ("钟头", 3600), ("时", 3600), ("分钟", 60), ("分", 60),
    ("秒钟", 1), ("秒", 1), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1),
)  # fmt: skip
_NUMBER = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十]+"
_TYPED_PART = re.compile(rf"({_NUMBER})?(个)?(半)?({'|'.join(re.escape(u) for u, _ in _CN_UNITS)})(半)?")
SPAN_HINT = "写成“2小时”“半小时”“30分钟”“1天”，或“2h”“90m”"
DEADLINE_HINT = "写成时长（如“2小时”“半小时”“30分钟”“2h”）或时刻（如“16:30”“2月5日 8:00”“2027年2月5日”）"


def _cn_number(text: str) -> float:
    """Return the value of "12", "1.5", "三", "十二", "二十" (up to 99)."""
    if text[0].isdigit():
        return float(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return float((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))
    if len(text) != 1:
        raise ValueError(text)
    return float(_CN_DIGITS[text])


class NotPositive(ValueError):
    """A duration that reads fine but is zero (限0分钟): refused as such, not as unreadable."""


def parse_span(text: str) -> timedelta:
    """Return the positive duration a person typed: "2小时", "半小时", "1个半小时", "30分钟", "1天", "2h", "1h30m",
    "两小时"; raise ValueError with a Chinese sentence otherwise."""
    s = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    if s == "半天":
        s = "12小时"
    pos, total = 0, 0.0
    units = dict(_CN_UNITS)
    for m in _TYPED_PART.finditer(s):
        number, _ge, half_before, unit, half_after = m.groups()
        if m.start() != pos or (number is None and half_before is None) or (half_before and half_after):
            break
        try:
            value = _cn_number(number) if number else 0.0
        except (KeyError, ValueError):
            break
        total += (value + (0.5 if half_before or half_after else 0)) * units[unit]
        pos = m.end()
    if s and pos == len(s) and total <= 0:
        raise NotPositive(f"时长“{text.strip()[:20]}”是零，时长必须大于零（期限必须在现在之后），请{SPAN_HINT}。")
    if not s or pos != len(s) or total <= 0:
        raise ValueError(f"时长“{text.strip()[:20]}”看不懂，请{SPAN_HINT}。")
    return _seconds(total, text)


_TIME = r"(\d{1,2})\s*(?:[:：点时]\s*(\d{1,2})?\s*分?|点半)"
_DATE = r"(?:(\d{4})\s*[年/.-]\s*)?(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*[日号]?"
_MOMENT = re.compile(rf"(?:(今天|明天|后天)|{_DATE})?\s*(?:{_TIME})?")


def parse_moment(text: str, now: datetime) -> datetime | None:
    """Return the Beijing-time instant of "16:30", "8点", "明天 9:00", "2月5日 8:00", "2027年2月5日", "2027-02-05"
    (a date alone means the end of that day; a month and day without a year is the next such day), or None when
    text is not a time of day or a date. Raise ValueError when it is one but impossible (25:00, 2月30日)."""
    s = unicodedata.normalize("NFKC", text).strip()
    m = _MOMENT.fullmatch(s)
    if not s or m is None or not any(m.groups()):
        return None
    rel, year, month, day, hour, minute = m.groups()
    half = s.endswith("点半")
    local_now = now.astimezone(LOCAL_TZ)
    try:
        if month:
            date = local_now.date().replace(year=int(year) if year else local_now.year, month=int(month), day=int(day))
        else:
            date = local_now.date() + timedelta(days={"明天": 1, "后天": 2}.get(rel or "", 0))
        at = time(int(hour), 30 if half else int(minute or 0)) if hour else time(23, 59)
    except ValueError:
        raise ValueError(f"“{text.strip()[:30]}”不是有效的日期或时刻，请{DEADLINE_HINT}。") from None
    moment = datetime.combine(date, at, LOCAL_TZ)
    if month and not year and moment < local_now:
        moment = moment.replace(year=moment.year + 1)
    return moment.astimezone(now.tzinfo)


def parse_deadline(text: str, now: datetime, scale: float = 1.0) -> datetime:
    """Return the deadline a person typed after 限 (or for a guided reply): a moment (not scaled) or a duration from
    now divided by scale (the demo's clock speed-up, [policy] scale); raise ValueError with a Chinese sentence."""
    moment = parse_moment(text, now)
    if moment is None:
        try:
            moment = now + parse_span(text) / scale
        except NotPositive:
            raise
        except ValueError:
            raise ValueError(f"期限“{text.strip()[:30]}”看不懂，请{DEADLINE_HINT}。") from None
    if moment <= now:
        raise ValueError(f"期限 {moment.astimezone(LOCAL_TZ):%m月%d日 %H:%M} 已经过了，请检查。")
    return moment
