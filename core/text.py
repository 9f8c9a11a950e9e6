"""Text as Liaowang accepts and writes it: cleaned once at the door, and made XML-safe again by every writer."""

from __future__ import annotations

import re
import unicodedata

LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")  # Word's manual line and page breaks become newlines
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # direction overrides that disguise text
# Characters XML 1.0 forbids (python-docx and openpyxl refuse them): C0 controls but tab/LF/CR, surrogates, U+FFFE/F
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_TEXT = 50000  # longest text kept from one message or form field (above every limit the workflow refuses with)
MAX_NAME = 64  # longest person, unit or department name kept


def _kept(c: str) -> bool:
    """Tell whether a character survives cleaning: not a control (but newline and tab), surrogate, noncharacter or
    direction override."""
    if c in "\n\t":
        return True
    if unicodedata.category(c) in ("Cc", "Cs"):
        return False
    o = ord(c)
    return not (0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE or c in BIDI)


def clean_text(text: str | None, limit: int | None = MAX_TEXT) -> str:
    """Return text as Liaowang stores it: NFC, line breaks as \\n, no other control, surrogate, noncharacter or
    direction-override character, at most limit characters (None: unbounded)."""
    if not text:
        return ""
    text = LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", text))
    return "".join(c for c in text if _kept(c))[:limit]


def clean_name(name: str | None, limit: int = MAX_NAME) -> str:
    """Return a name as Liaowang stores it: clean_text on one line (newlines and tabs become spaces), runs of
    spaces collapsed, trimmed, at most limit characters."""
    return " ".join(clean_text(name, 10 * limit).split())[:limit]


def xml_safe(text: str) -> str:
    """Return text without the characters an XML document (docx, xlsx) cannot hold; everything else is kept."""
    return XML_ILLEGAL.sub("", text)
