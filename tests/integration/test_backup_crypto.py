"""Encrypted backups (`[backup] key_file`): AES-256-GCM in chunks; restore refuses anything it cannot authenticate."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

import pytest

from core import backup as b
from tests.integration.harness import ORG
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_restore_trust import _rename_everyone, _zhangsan

REFUSED = "备份无法通过密钥验证"


def _install(tmp_path: Path, database_url: str, redis_url: str) -> tuple[Path, Path, Path]:
    """A configured install with a key file and one attachment: (config, key file, attachment on disk)."""
    key = tmp_path / "backup.key"
    made = liaowang(
        write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url), "backup-key", "--out", str(key)
    )
    assert made.returncode == 0, made.stderr
    assert "已生成备份密钥" in made.stdout
    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url, extra=f'[backup]\nkey_file = "{key}"')
    assert liaowang(cfg, "org", "import", str(ORG)).returncode == 0
    stored = tmp_path / "var" / "files" / "ab" / "abcdef"
    stored.parent.mkdir(parents=True)
    stored.write_bytes("一份附件：未公开的材料".encode() + os.urandom(3 << 20))  # does not compress: 4 chunks
    return cfg, key, stored


def _backup(cfg: Path, out: Path) -> None:
    made = liaowang(cfg, "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "已加密" in made.stdout


def test_the_key_file_is_private_and_never_overwritten(tmp_path: Path, database_url: str, redis_url: str) -> None:
    cfg, key, _ = _install(tmp_path, database_url, redis_url)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    before = key.read_bytes()
    again = liaowang(cfg, "backup-key", "--out", str(key))
    assert again.returncode == 2
    assert "已存在，不覆盖" in again.stderr
    assert key.read_bytes() == before


def test_an_encrypted_backup_hides_its_content_and_restores_with_the_key(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    cfg, _key, stored = _install(tmp_path, database_url, redis_url)
    out = tmp_path / "b.tar.gz.enc"
    _backup(cfg, out)
    data = out.read_bytes()
    assert data.startswith(b.SEALED)
    assert "未公开的材料".encode() not in data
    assert b"manifest.json" not in data
    with pytest.raises(tarfile.TarError), tarfile.open(out, "r:gz") as tar:
        tar.getmembers()
    _rename_everyone(database_url)
    original = stored.read_bytes()
    stored.unlink()
    done = liaowang(cfg, "restore", str(out), "--yes")
    assert done.returncode == 0, done.stderr
    assert "已恢复" in done.stdout
    assert _zhangsan(database_url) == "张三"
    assert stored.read_bytes() == original


@pytest.mark.parametrize("where", ["header", "first chunk", "middle", "last byte"])
def test_one_changed_byte_is_refused_in_chinese_and_nothing_is_restored(
    tmp_path: Path, database_url: str, redis_url: str, where: str
) -> None:
    cfg, _key, stored = _install(tmp_path, database_url, redis_url)
    out = tmp_path / "b.tar.gz.enc"
    _backup(cfg, out)
    data = bytearray(out.read_bytes())
    at = {"header": 10, "first chunk": 40, "middle": len(data) // 2, "last byte": len(data) - 1}[where]
    data[at] ^= 0x01
    out.write_bytes(bytes(data))
    _rename_everyone(database_url)
    stored.unlink()
    refused = liaowang(cfg, "restore", str(out), "--yes")
    assert refused.returncode == 2
    assert REFUSED in refused.stderr
    assert "没有做任何改动" in refused.stderr
    assert _zhangsan(database_url) == "改过的名字"
    assert not stored.exists()


def test_a_cut_off_or_foreign_key_backup_is_refused(tmp_path: Path, database_url: str, redis_url: str) -> None:
    cfg, _key, stored = _install(tmp_path, database_url, redis_url)
    out = tmp_path / "b.tar.gz.enc"
    _backup(cfg, out)
    whole = out.read_bytes()
    cut = tmp_path / "cut.enc"
    assert len(whole) > (b.CHUNK + 16) * 3
    cut.write_bytes(whole[: len(b.SEALED) + 11 + (b.CHUNK + 16) * 2])  # the header and two whole chunks: no end
    other = tmp_path / "other.key"
    b.make_key_file(other)
    _rename_everyone(database_url)
    for path, extra in ((cut, []), (out, ["--key-file", str(other)])):
        refused = liaowang(cfg, "restore", str(path), "--yes", "--trust-unsigned", *extra)
        assert refused.returncode == 2, refused.stdout
        assert REFUSED in refused.stderr
    assert _zhangsan(database_url) == "改过的名字"


def test_an_encrypted_backup_without_a_key_says_what_is_needed(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    cfg, _key, _ = _install(tmp_path, database_url, redis_url)
    out = tmp_path / "b.tar.gz.enc"
    _backup(cfg, out)
    plain_cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url)
    refused = liaowang(plain_cfg, "restore", str(out), "--dry-run")
    assert refused.returncode == 2
    assert "这个备份是加密的，需要备份密钥文件" in refused.stderr


def test_a_plain_backup_still_restores_when_a_key_is_configured(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    """Backups made before encryption was turned on stay restorable (their manifest signature is still checked)."""
    cfg, _key, _ = _install(tmp_path, database_url, redis_url)
    plain_cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url)
    out = tmp_path / "plain.tar.gz"
    assert liaowang(plain_cfg, "backup", "--out", str(out)).returncode == 0
    cfg = write_config(tmp_path, "http://127.0.0.1:9", database_url, redis_url, extra=f'[backup]\nkey_file = "{_key}"')
    _rename_everyone(database_url)
    done = liaowang(cfg, "restore", str(out), "--yes")
    assert done.returncode == 0, done.stderr
    assert _zhangsan(database_url) == "张三"


def test_a_scheduled_backup_is_dated_encrypted_and_prunes_the_old_ones(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    """What liaowang-backup.service and the compose backup service run."""
    from datetime import timedelta

    from core import clock

    cfg, _key, _ = _install(tmp_path, database_url, redis_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / b.dated_name(clock.now() - timedelta(days=31), sealed=True)
    recent = folder / b.dated_name(clock.now() - timedelta(days=29), sealed=True)
    for p in (old, recent):
        p.write_bytes(b"an earlier backup")
    made = liaowang(cfg, "backup", "--dir", str(folder), "--keep-days", "30")
    assert made.returncode == 0, made.stderr
    assert f"已删除超过 30 天的备份 {old.name}" in made.stdout
    new = [p for p in folder.iterdir() if p not in (old, recent)]
    assert len(new) == 1
    assert new[0].name.endswith(".tar.gz.enc")
    assert b.is_sealed(new[0])
    assert not old.exists()
    assert recent.exists()
    wrong = liaowang(cfg, "backup", "--out", str(tmp_path / "x.tar.gz"), "--keep-days", "30")
    assert wrong.returncode == 2
    assert "--keep-days 只能和 --dir 一起用" in wrong.stderr
