"""`liaowang backup` / `liaowang restore`: the database and the files (attachments, archive packages) in one tar.gz.

SQLite is copied with SQLite's online backup API (consistent while the app runs); PostgreSQL with `pg_dump
--format=custom` and restored with `pg_restore --clean`. `manifest.json` in the tar names the database kind, the
schema revision and the sha256 of the dump; restore checks it before changing anything.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import Config, ConfigError
from core.storage import archive_dir


def _sqlite_path(url: str) -> Path:
    return Path(url.split("sqlite:///", 1)[1])


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"PostgreSQL 的备份需要 {name}（PostgreSQL 客户端），请先安装 postgresql-client")
    return found


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _dirs(config: Config) -> dict[str, Path]:
    return {"files": config.storage_dir, "archive": archive_dir(config)}


def backup(config: Config, out: Path, revision: str | None, at: datetime) -> dict[str, Any]:
    """Write the database and the files to out (tar.gz); return the manifest."""
    url = config.database_url
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / ("database.sqlite" if url.startswith("sqlite") else "database.pgdump")
        if url.startswith("sqlite"):
            src, dst = sqlite3.connect(_sqlite_path(url)), sqlite3.connect(dump)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", _pg(url)], check=True)
        manifest = {
            "made_at": at.isoformat(),
            "database": "sqlite" if url.startswith("sqlite") else "postgresql",
            "revision": revision,
            "dump": dump.name,
            "sha256": _sha(dump),
            "dirs": {k: str(v) for k, v in _dirs(config).items()},
        }
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            tar.add(Path(tmp) / "manifest.json", "manifest.json")
            tar.add(dump, dump.name)
            for name, folder in _dirs(config).items():
                if folder.is_dir():
                    tar.add(folder, name)
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup, or ConfigError if path is not one."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            return dict(json.loads(member.read()))
    except (OSError, KeyError, tarfile.TarError, ValueError):
        raise ConfigError(f"{path} 不是瞭望的备份文件（缺少 manifest.json）") from None


def restore(config: Config, path: Path) -> dict[str, Any]:
    """Put the database and the files of a backup back (the database replaced, the files added back)."""
    manifest = read_manifest(path)
    url = config.database_url
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest["database"] != kind:
        raise ConfigError(f"备份是 {manifest['database']} 的，当前配置的数据库是 {kind}，不能直接恢复")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
        dump = Path(tmp) / manifest["dump"]
        if _sha(dump) != manifest["sha256"]:
            raise ConfigError("备份里的数据库文件与清单的校验值不符，备份已损坏，没有做任何改动")
        if kind == "sqlite":
            target = _sqlite_path(url)
            src, dst = sqlite3.connect(dump), sqlite3.connect(target)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            args = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", f"--dbname={_pg(url)}", str(dump)]
            subprocess.run(args, check=True)
        for name, folder in _dirs(config).items():
            saved = Path(tmp) / name
            if saved.is_dir():
                shutil.copytree(saved, folder, dirs_exist_ok=True)
    return manifest
