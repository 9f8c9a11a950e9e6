"""Uploaded files: the size limits, the type judged by content (never by name), and safe display names."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

from core.config import MAX_REQUEST_MB
from core.safename import safe_name as core_safe_name

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
MAX_REQUEST_BYTES = MAX_REQUEST_MB * 1024 * 1024  # the default of [web] max_request_mb
MAX_NAME_CHARS = 200

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"
IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
EXTENSIONS = {
    PDF: ".pdf",
    DOCX: ".docx",
    DOC: ".doc",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
LABELS = {
    PDF: "PDF",
    DOCX: "Word",
    DOC: "Word",
    "image/jpeg": "图片",
    "image/png": "图片",
    "image/gif": "图片",
    "image/webp": "图片",
}
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
FALLBACK_NAME = "未命名文件"


def sniff_image(data: bytes) -> str | None:
    """Return image/jpeg|png|gif|webp judged by the magic bytes of data, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((t for magic, t in _IMAGE_MAGIC.items() if data.startswith(magic)), None)


def _is_docx(data: bytes) -> bool:
    """Return True if data is a zip archive whose directory lists word/document.xml (nothing is decompressed)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return False


def sniff_document(data: bytes) -> str | None:
    """Return the content type of a Word (.doc/.docx), PDF or JPEG/PNG/GIF/WebP file judged by content, else None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(OLE2):
        return DOC
    if _is_docx(data):
        return DOCX
    return sniff_image(data)


def safe_name(name: str | None) -> str:
    """Return a display name for an uploaded file: the last path part, made safe by core.safename (≤ 200 chars)."""
    return core_safe_name(re.split(r"[\\/]", name or "")[-1], FALLBACK_NAME, MAX_NAME_CHARS)


def download_name(name: str | None, content_type: str) -> str:
    """Return safe_name(name) ending in the extension that matches content_type (e.g. a PDF named .doc gets .pdf)."""
    base = safe_name(name)
    ext = EXTENSIONS.get(content_type)
    if ext is None or base.lower().endswith(ext) or (ext == ".jpg" and base.lower().endswith(".jpeg")):
        return base
    return safe_name(base + ext)


def is_inline(content_type: str) -> bool:
    """Return True if a browser may show this type in place (images and PDF); Word files are downloaded."""
    return content_type == PDF or content_type in IMAGES


def content_disposition(name: str, inline: bool) -> str:
    """Return a Content-Disposition value with an ASCII filename and the RFC 5987 UTF-8 filename*."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in name) or "file"
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def size_text(size: int | None) -> str:
    """Return a size for people: "812 字节", "35.2 KB", "4.1 MB"."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
