"""Files kept by content: screenshots, uploaded reports and generated bulletins, under the storage folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any


def store(root: Path, data: bytes) -> tuple[str, str]:
    """Write data under root by its sha256 (atomically, once) and return (sha256, relative name)."""
    digest = hashlib.sha256(data).hexdigest()
    rel = f"{digest[:2]}/{digest}"
    path = root / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return digest, rel


def archive_dir(config: Any) -> Path:
    """Where archive packages are written ([archive] dir, default data_dir/archive)."""
    raw = config.raw.get("archive", {}).get("dir")
    return Path(raw) if raw else config.data_dir / "archive"
