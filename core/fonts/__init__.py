"""The one CJK font Liaowang draws with (charts, archive PDFs): Noto Sans CJK SC, SIL OFL 1.1 (OFL.txt here).

A subset (GB 2312 and punctuation, tools/make_cjk_font.py) ships in this package, so Chinese renders on a machine
with only Python — no OS font package, and nothing proprietary (no SimHei). The OS package fonts-noto-cjk is not
read at run time: its .ttc puts the Japanese face first, which matplotlib and fpdf2 would pick.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONT = HERE / "NotoSansCJKsc-Subset.otf"
LICENCE = HERE / "OFL.txt"
FAMILY = "Noto Sans CJK SC"


def cjk_font() -> Path:
    """Return the path of the shipped CJK font; raise RuntimeError (naming the file) if the install lost it."""
    if not FONT.is_file():
        raise RuntimeError(f"找不到字体文件 {FONT}（CJK font missing: reinstall Liaowang)")
    return FONT


MISSING = "〓"  # the 缺字 mark Chinese typesetting puts where a font has no glyph (itself in GB 2312)


@cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(str(cjk_font()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def covers(text: str) -> bool:
    """Tell whether every character of text is in the shipped font (GB 2312 and punctuation)."""
    return all(ord(c) in _cmap() for c in text if not c.isspace())


def drawable(text: str) -> str:
    """Return text with each character the shipped font lacks shown as 〓 (other white space as a space, line
    breaks kept), so a PDF never draws an empty glyph and fpdf2 has nothing to warn about."""
    cmap = _cmap()
    return "".join(
        c if c == "\n" or ord(c) in cmap else " " if c.isspace() else MISSING for c in text
    )  # fmt: skip


def quiet() -> None:
    """Keep fontTools' INFO lines (one per table it subsets when fpdf2 embeds the font) out of the logs."""
    import logging

    logging.getLogger("fontTools").setLevel(logging.WARNING)
