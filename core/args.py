"""The small grammar of typed arguments: words, and keywords (会同, 抄送, 协办, 限 …) after any punctuation.

A keyword counts where it starts the text or follows a space or any Chinese or ASCII punctuation mark
(“……向社会公布。会同 宣传处”, “执法一队，抄送宣传处”), never inside a word (“我局会同公安部门”).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from core.durations import NotPositive, parse_moment, parse_span

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


CODE = re.compile(r"[A-Za-z]{1,8}-\d{8}-\d{1,4}(?![0-9A-Za-z-])")  # a 编号: YQ-20261127-001
FACT_KEY = re.compile(r"[CFGPcfgp]\d{1,9}(?![0-9A-Za-z-])")  # an assessment fact key: C12, F3
ARG_SEPARATORS = " \t\r\n\u3000,，、;；。:：!！?？"  # what may stand between a 编号 and the text after it
FIRST_WORD = re.compile(r"[^\s,，、;；。:：!！?？]*")


def narrow(text: str) -> str:
    """text with each full-width ASCII character (Ｙ, －, １) made ASCII, one for one, nothing else changed."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 and n.isascii() and not ch.isascii() else ch)
    return "".join(out)


def ends_word(text: str, j: int) -> bool:
    """True if position j of text is the end, a space or a punctuation mark (a 编号 or key may end there)."""
    return j >= len(text) or is_boundary(text[j])


def split_code(text: str, shape: re.Pattern[str] = CODE) -> tuple[str, str]:
    """Return (编号, the rest) from “<编号><分隔><内容>”: the 编号 ends where its shape ends (full-width letters,
    digits and hyphens read as ASCII, upper-cased); the separating spaces and punctuation are dropped and the rest
    is kept exactly as typed. Text that does not start with the shape gives its first word (for the refusal)."""
    t = text.lstrip(ARG_SEPARATORS)
    m = shape.match(narrow(t))
    if m is not None:
        return m.group().upper(), t[m.end() :].lstrip(ARG_SEPARATORS).strip()
    first = FIRST_WORD.match(t)
    end = first.end() if first else 0
    return narrow(t[:end]), t[end:].lstrip(ARG_SEPARATORS).strip()


def split_key(text: str) -> tuple[str, str]:
    """Return (fact key, the rest) from “<事项编号><分隔><理由>” (申诉 c13：…), like split_code."""
    return split_code(text, FACT_KEY)


def starts_with_argument(text: str, keys: bool) -> bool:
    """True if text starts with a 编号 (or, when keys, a fact key) that ends at a space, punctuation or the end:
    “YQ-20261206-007 …” is an argument, “YQ-20261206-007号舆情…” and “G20峰会…” are prose."""
    t = narrow(text)
    for shape in (CODE, FACT_KEY) if keys else (CODE,):
        m = shape.match(t)
        if m is not None and ends_word(t, m.end()):
            return True
    return False


def words(text: str) -> list[str]:
    """Split on spaces and list punctuation (，、；。：), keeping hyphens inside 编号."""
    return [w for w in WORD_SEPARATORS.split(text) if w]


def _is_deadline(text: str, now: datetime) -> bool:
    try:
        return parse_moment(text, now) is not None or bool(parse_span(text))
    except NotPositive:
        return True  # “限0分钟” is a deadline, refused as not in the future where it is read
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
