"""`liaowang restore` reads only what `liaowang backup` made: crafted tars are refused before anything changes."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import make_engine
from models import Person
from tests.integration.harness import ORG
from tests.integration.test_processes import liaowang, write_config

KEY = "backup-key-of-this-office"
ATTACHMENT = "files/ab/abcdef"

Members = dict[str, tuple[tarfile.TarInfo, bytes]]


def _made(tmp_path: Path, database_url: str, redis_url: str) -> tuple[Path, Path, Path]:
    """A configured install with one attachment and its backup: (config, backup, attachment on disk)."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url, extra=f'[backup]\nsecret_key = "{KEY}"')
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    stored = tmp_path / "var" / "files" / "ab" / "abcdef"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"an attachment")
    out = tmp_path / "b.tar.gz"
    made = liaowang(cfg, "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    return cfg, out, stored


def _members(path: Path) -> Members:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: (m, (tar.extractfile(m).read() if m.isreg() else b"")) for m in tar.getmembers()}  # type: ignore[union-attr]


def _write(members: Members, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members.values():
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _manifest(members: Members) -> dict:  # type: ignore[type-arg]
    return dict(json.loads(members["manifest.json"][1]))


def _set_manifest(members: Members, manifest: dict, key: str | None = KEY) -> None:  # type: ignore[type-arg]
    """Replace the manifest, signed with key (or unsigned when key is None)."""
    body = json.dumps(manifest).encode()
    members["manifest.json"] = (tarfile.TarInfo("manifest.json"), body)
    members.pop("manifest.sig", None)
    if key is not None:
        members["manifest.sig"] = (
            tarfile.TarInfo("manifest.sig"),
            hmac.new(key.encode(), body, "sha256").hexdigest().encode(),
        )


def _rename_everyone(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as s, s.begin():
        s.query(Person).update({Person.name: "改过的名字"})
    engine.dispose()


def _zhangsan(database_url: str) -> str | None:
    engine = make_engine(database_url)
    with Session(engine) as s:
        name = s.scalar(select(Person.name).where(Person.userid == "zhangsan"))
    engine.dispose()
    return name


def test_a_signed_manifest_naming_a_host_file_as_the_dump_is_refused(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """The attack of issue 21: the dump path is an absolute host path with that file's sha256."""
    cfg, out, _ = _made(tmp_path, database_url, redis_url)
    host = tmp_path / "host.db"
    host.write_bytes(b"any file on the host")
    members = _members(out)
    manifest = _manifest(members)
    manifest.update(dump=str(host), sha256=hashlib.sha256(host.read_bytes()).hexdigest())
    _set_manifest(members, manifest)
    _rename_everyone(database_url)
    refused = liaowang(cfg, "restore", str(_write(members, tmp_path / "evil.tar.gz")), "--yes")
    assert refused.returncode == 2
    assert "数据库文件名" in refused.stderr
    assert "没有做任何改动" in refused.stderr
    assert _zhangsan(database_url) == "改过的名字"


def _absolute(tmp_path: Path) -> tuple[str, tarfile.TarInfo]:
    info = tarfile.TarInfo(str(tmp_path / "pwn"))
    return "外", info


def _dotdot(tmp_path: Path) -> tuple[str, tarfile.TarInfo]:
    return "外", tarfile.TarInfo("files/../../pwn")


def _symlink(tmp_path: Path) -> tuple[str, tarfile.TarInfo]:
    info = tarfile.TarInfo("files/ab/link")
    info.type, info.linkname = tarfile.SYMTYPE, str(tmp_path / "pwn")
    return "不是普通文件", info


def _hardlink(tmp_path: Path) -> tuple[str, tarfile.TarInfo]:
    info = tarfile.TarInfo("files/ab/hard")
    info.type, info.linkname = tarfile.LNKTYPE, ATTACHMENT
    return "不是普通文件", info


def _device(tmp_path: Path) -> tuple[str, tarfile.TarInfo]:
    info = tarfile.TarInfo("files/ab/dev")
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return "不是普通文件", info


@pytest.mark.parametrize("craft", [_absolute, _dotdot, _symlink, _hardlink, _device])
def test_a_member_outside_the_archive_or_not_a_file_is_refused_even_trusted(
    tmp_path: Path, redis_url: str, database_url: str, craft: Callable[[Path], tuple[str, tarfile.TarInfo]]
) -> None:
    """Listed in a correctly signed manifest, and with --trust-unsigned too: refused, nothing written anywhere."""
    cfg, out, stored = _made(tmp_path, database_url, redis_url)
    said, info = craft(tmp_path)
    members = _members(out)
    members[info.name] = (info, b"pwned" if info.isreg() else b"")
    manifest = _manifest(members)
    manifest["files"][info.name] = hashlib.sha256(b"pwned").hexdigest()
    _set_manifest(members, manifest)
    evil = _write(members, tmp_path / "evil.tar.gz")
    _rename_everyone(database_url)
    stored.unlink()
    for extra in ([], ["--trust-unsigned"]):
        refused = liaowang(cfg, "restore", str(evil), "--yes", *extra)
        assert refused.returncode == 2, refused.stdout
        assert said in refused.stderr
        assert "拒绝恢复" in refused.stderr
    assert not (tmp_path / "pwn").exists()
    assert not stored.exists(), "not even the good attachment came back"
    assert _zhangsan(database_url) == "改过的名字"


def test_a_swapped_attachment_is_refused(tmp_path: Path, redis_url: str, database_url: str) -> None:
    """The manifest covers every file under files/, not only the dump."""
    cfg, out, stored = _made(tmp_path, database_url, redis_url)
    members = _members(out)
    members[ATTACHMENT] = (members[ATTACHMENT][0], b"another document")
    _rename_everyone(database_url)
    stored.unlink()
    refused = liaowang(cfg, "restore", str(_write(members, tmp_path / "swapped.tar.gz")), "--yes")
    assert refused.returncode == 2
    assert f"文件 {ATTACHMENT} 与清单的校验值不符" in refused.stderr
    assert not stored.exists()
    assert _zhangsan(database_url) == "改过的名字"


def test_an_extra_file_not_in_the_manifest_is_refused(tmp_path: Path, redis_url: str, database_url: str) -> None:
    cfg, out, _ = _made(tmp_path, database_url, redis_url)
    members = _members(out)
    members["files/cd/planted"] = (tarfile.TarInfo("files/cd/planted"), b"planted")
    refused = liaowang(cfg, "restore", str(_write(members, tmp_path / "planted.tar.gz")), "--yes")
    assert refused.returncode == 2
    assert "清单之外的文件 'files/cd/planted'" in refused.stderr
    assert not (tmp_path / "var" / "files" / "cd").exists()


@pytest.mark.parametrize("key", ["another-office-key", None], ids=["foreign", "unsigned"])
def test_a_foreign_or_unsigned_backup_is_refused_unless_trusted_with_a_warning(
    tmp_path: Path, redis_url: str, database_url: str, key: str | None
) -> None:
    cfg, out, stored = _made(tmp_path, database_url, redis_url)
    members = _members(out)
    _set_manifest(members, _manifest(members), key)
    other = _write(members, tmp_path / "other.tar.gz")
    _rename_everyone(database_url)
    stored.unlink()
    refused = liaowang(cfg, "restore", str(other), "--yes")
    assert refused.returncode == 2
    assert ("没有签名" if key is None else "签名与本系统的备份密钥") in refused.stderr
    assert "--trust-unsigned" in refused.stderr
    assert _zhangsan(database_url) == "改过的名字"
    assert not stored.exists()
    trusted = liaowang(cfg, "restore", str(other), "--yes", "--trust-unsigned")
    assert trusted.returncode == 0, trusted.stderr
    assert "警告" in trusted.stderr
    assert "--trust-unsigned" in trusted.stderr
    assert _zhangsan(database_url) == "张三"
    assert stored.read_bytes() == b"an attachment"


def test_the_same_backup_with_a_derived_key_is_foreign_to_another_secret(
    tmp_path: Path, redis_url: str, database_url: str
) -> None:
    """Without [backup] secret_key the key is derived from the app's secret: another deployment refuses it."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url)
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    out = tmp_path / "b.tar.gz"
    assert liaowang(cfg, "backup", "--out", str(out)).returncode == 0
    assert liaowang(cfg, "restore", str(out), "--dry-run").returncode == 0
    text = cfg.read_text(encoding="utf-8")
    other = text.replace('secret = "', 'secret = "x', 1)
    cfg.write_text(other, encoding="utf-8")
    refused = liaowang(cfg, "restore", str(out), "--dry-run")
    assert refused.returncode == 2
    assert "签名与本系统的备份密钥" in refused.stderr


def test_dry_run_lists_what_would_change_and_changes_nothing(tmp_path: Path, redis_url: str, database_url: str) -> None:
    cfg, out, stored = _made(tmp_path, database_url, redis_url)
    _rename_everyone(database_url)
    stored.unlink()
    dry = liaowang(cfg, "restore", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "恢复将替换当前数据库" in dry.stdout
    assert f"新增 {ATTACHMENT}" in dry.stdout
    assert "新增 1 个、覆盖 0 个" in dry.stdout
    assert "没有做任何改动" in dry.stdout
    assert _zhangsan(database_url) == "改过的名字"
    assert not stored.exists()
    stored.write_bytes(b"changed since")
    dry = liaowang(cfg, "restore", str(out), "--dry-run")
    assert f"覆盖 {ATTACHMENT}" in dry.stdout
