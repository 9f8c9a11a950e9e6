"""The small grammar of typed arguments: words, and keywords (会同, 抄送, 协办, 限 …) after any punctuation.

A keyword counts where it starts the text or follows a space or any Chinese or ASCII punctuation mark
(“……向社会公布。会同 宣传处”, “执法一队，抄送宣传处”), never inside a word (“我局会同公安部门”).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from core.durations import parse_moment, parse_span

WORD_SEPARATORS = re.compile(r"[\s,，、;；。:：!！?？]+")
TRIM = " \t\r\n\u3000,，、;；。.:：!！?？"


def is_boundary(ch: str) -> bool:
    """True for whitespace and any punctuation mark (Unicode category P*): what may stand before a keyword."""
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def spots(text: str, keyword: str) -> list[int]:
    """Positions where keyword starts text or follows a space or a punctuation mark, first to last."""
    out, i = [], text.find(keyword)
    while i >= 0:
        if i == 0 or is_boundary(text[i - 1]):
            out.append(i)
        i = text.find(keyword, i + 1)
    return out


def spaced_after(text: str, i: int, keyword: str) -> bool:
    """True if the keyword at i is followed by a space, a punctuation mark, or nothing (it stands alone)."""
    j = i + len(keyword)
    return j >= len(text) or is_boundary(text[j])


def words(text: str) -> list[str]:
    """Split on spaces and list punctuation (，、；。：), keeping hyphens inside 编号."""
    return [w for w in WORD_SEPARATORS.split(text) if w]


def _is_deadline(text: str, now: datetime) -> bool:
    try:
        return parse_moment(text, now) is not None or bool(parse_span(text))
    except ValueError:
        return parse_moment_shape(text)


def parse_moment_shape(text: str) -> bool:
    """True if text has the shape of a date or time even when impossible (25:00), so it is refused, not prose."""
    return bool(re.fullmatch(r"[\d年月日号点时分半:：/.\-\s今明后天]+", unicodedata.normalize("NFKC", text).strip()))


def take_limit(text: str, now: datetime) -> tuple[str, str | None]:
    """Split off a trailing “限<时长或时刻>” (after a space or punctuation): return (the text before, the limit text)
    or (text, None). A last word that begins with 限 but is no deadline raises ValueError in Chinese."""
    for i in reversed(spots(text, "限")):
        limit = text[i + 1 :].strip(TRIM)
        if limit and _is_deadline(limit, now):
            return text[:i].rstrip(TRIM), limit
    last = text.split()[-1] if text.split() else ""
    if last.startswith("限") and re.search(r"[\d０-９一二两三四五六七八九十半]", last):
        raise ValueError(f"期限“{last}”看不懂。写成“限2小时”“限30分钟”“限16:30”或“限2月5日 8:00”。")
    return text, None
