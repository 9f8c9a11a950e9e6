"""Build core/fonts/NotoSansCJKsc-Subset.otf: the SC face of Noto Sans CJK (SIL OFL 1.1) cut to the characters of
GB 2312, ASCII and the CJK punctuation and full-width forms, so charts and PDFs render Chinese on a machine
without the OS package fonts-noto-cjk.

Run on a machine with Debian's fonts-noto-cjk (version 2.004): `python3 tools/make_cjk_font.py`. The output is
reproducible: the same source file gives the same bytes (fontTools writes no time stamps we do not set).
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FACE = "Noto Sans CJK SC"
OUT = Path(__file__).resolve().parent.parent / "core" / "fonts" / "NotoSansCJKsc-Subset.otf"
EXTRA = OUT.parent / "extra.txt"  # characters GB 2312 lacks that Liaowang writes (瞭望) or names often use


def characters() -> list[int]:
    """Code points kept: printable ASCII, Latin-1 and Latin Extended, Greek and Cyrillic, GB 2312 (all 7,445
    characters), core/fonts/extra.txt and the CJK blocks of punctuation, full-width forms and general punctuation."""
    keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x250)) | set(range(0x370, 0x500))  # Latin, Greek, Cyrillic
    keep |= set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    keep |= set(range(0x2460, 0x24A0)) | set(range(0x2190, 0x2200)) | set(range(0x25A0, 0x2600))
    keep |= {ord(c) for c in EXTRA.read_text(encoding="utf-8") if not c.isspace()}
    for cp in range(0x80, 0x10000):
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        keep.add(cp)
    return sorted(keep)


def main() -> int:
    """Write the subset next to its licence; print its size."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(4) == FACE)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=characters())
    sub.subset(font)
    font.recalcTimestamp = False  # keep the source's head.modified: the same input gives the same bytes
    font.save(str(OUT))
    print(f"{OUT} {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
