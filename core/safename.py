"""The one function that turns any text (a unit's or person's name, an uploaded file's name, a title) into a file
name Liaowang may build: archive entries, downloads, stored and uploaded files."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 120
FALLBACK = "未命名文件"
_UNSAFE = re.compile(r'[\\/:*?"<>|]')  # separators and what Windows forbids in a name
_DOTS = re.compile(r"\.{2,}")
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.IGNORECASE)  # Windows device names


def safe_name(name: str | None, fallback: str = FALLBACK, limit: int = MAX_NAME_CHARS) -> str:
    """Return name as one safe path component: NFC, no control or format characters, no separator or other
    character Windows forbids (each becomes _), no "..", not starting or ending with a dot or space, not a Windows
    device name, at most limit characters (keeping a short extension); fallback when nothing is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(" " if unicodedata.category(c)[0] == "Z" else c for c in text if unicodedata.category(c)[0] != "C")
    text = _DOTS.sub(".", _UNSAFE.sub("_", " ".join(text.split()))).strip(" .")
    if _RESERVED.fullmatch(text):
        text = "_" + text
    if not text:
        return fallback
    if len(text) <= limit:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and 0 < len(ext) <= 10:
        return stem[: limit - len(ext) - 1].rstrip(" .") + "." + ext
    return text[:limit].rstrip(" .")
