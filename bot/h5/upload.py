"""Read and check every uploaded file of one request before anything is stored; store them by content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from werkzeug.datastructures import FileStorage

from core.storage import store
from workflow.incident.files import LABELS, MAX_FILE_BYTES, MAX_FILES, safe_name, size_text, sniff_document
from workflow.incident.submission import StoredFile

MB = 1024 * 1024
KINDS = "Word（.doc/.docx）、PDF 或图片（JPEG/PNG/GIF/WebP）"


class FileRefused(Exception):
    """One uploaded file (or the set of them) was refused; message is the Chinese reason, status the HTTP code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Checked:
    """An uploaded file whose size and type (by content) were checked; name is for display only."""

    name: str
    data: bytes
    content_type: str

    @property
    def label(self) -> str:
        """Return "PDF", "Word" or "图片"."""
        return LABELS.get(self.content_type, self.content_type)

    @property
    def size_text(self) -> str:
        """Return the size for people."""
        return size_text(len(self.data))


def read_files(files: Sequence[FileStorage]) -> list[Checked]:
    """Read and check every file part (an empty file input is skipped); raise FileRefused for the first bad one."""
    checked: list[Checked] = []
    for part in files:
        data = part.stream.read(MAX_FILE_BYTES + 1)
        if not part.filename and not data:
            continue
        name = safe_name(part.filename)
        if len(checked) >= MAX_FILES:
            raise FileRefused(f"一次最多上传 {MAX_FILES} 个文件，请分几次提交。没有保存任何文件。", 400)
        if len(data) > MAX_FILE_BYTES:
            raise FileRefused(
                f"文件“{name}”超过 {MAX_FILE_BYTES // MB} MB，未上传。请压缩或拆分后重新提交；这次没有保存任何文件。",
                413,
            )
        if not data:
            raise FileRefused(f"文件“{name}”是空文件（0 字节），未上传。请重新选择后提交；这次没有保存任何文件。", 400)
        kind = sniff_document(data)
        if kind is None:
            raise FileRefused(
                f"文件“{name}”不是{KINDS}，未上传。系统按文件内容判断类型，改扩展名无效；这次没有保存任何文件。", 415
            )
        checked.append(Checked(name, data, kind))
    return checked


def layout(digest: str) -> str:
    """Return the path under the storage folder where core.storage.store keeps the file with this sha256."""
    return f"{digest[:2]}/{digest}"


def describe(checked: Sequence[Checked]) -> list[StoredFile]:
    """Return the StoredFile record of each checked file (hash, stored name, type, size, display name)."""
    out = []
    for c in checked:
        digest = hashlib.sha256(c.data).hexdigest()
        out.append(StoredFile(digest, layout(digest), c.content_type, len(c.data), c.name))
    return out


def save(root: Path, checked: Sequence[Checked], records: Sequence[StoredFile]) -> None:
    """Write each checked file under root by its hash; raise if storage disagrees with the records."""
    for c, rec in zip(checked, records, strict=True):
        digest, rel = store(root, c.data)
        if (digest, rel) != (rec.sha256, rec.stored_name):
            raise RuntimeError(f"storage layout changed: {rel!r} != {rec.stored_name!r}")
