"""`liaowang backup` / `liaowang restore`: the database and the files (attachments, archive packages) in one tar.gz.

SQLite is copied with SQLite's online backup API (consistent while the app runs); PostgreSQL with `pg_dump
--format=custom` and restored with `pg_restore --clean`. `manifest.json` in the tar names the database kind, the
schema revision and the sha256 of every member (the dump and every file); `manifest.sig` is its HMAC-SHA256 under the
backup key ([backup] secret_key, else derived from [wecom] secret and token). Restore reads only regular files and
folders inside the archive, checks each against the manifest and the manifest against the key before changing
anything; an unsigned or foreign backup is refused unless the caller trusts it (docs/operations.md).

With a key file (`[backup] key_file`, or `--key-file`) the whole tar.gz is encrypted as it is written: AES-256-GCM
over 1 MiB chunks (a big backup never sits in memory), each chunk's 12-byte nonce the file's random 7-byte prefix + the
chunk's number + a last-chunk flag, and the file's header as associated data of every chunk — so a changed byte, a
reordered, dropped or added chunk, a cut-off end or another key all fail authentication, and restore refuses before
changing anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from core.clock import LOCAL_TZ
from core.config import Config, ConfigError
from core.storage import archive_dir

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DUMPS = ("database.sqlite", "database.pgdump")
SEALED = b"LWBAKv1\x00"  # the first bytes of an encrypted backup
CHUNK = 1 << 20
_HEAD = struct.Struct(">8sI7s")  # magic, chunk size, random nonce prefix (+ 4-byte chunk number + last flag)
REFUSED = "拒绝恢复，没有做任何改动"


class UntrustedBackup(ConfigError):
    """A backup whose manifest is unsigned or signed with another key (restorable only when trusted explicitly)."""


@dataclass
class Plan:
    """What a restore would do: the verified manifest, the files it adds or overwrites, and the trust warning."""

    manifest: dict[str, Any]
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    same: int = 0
    warning: str = ""


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


def backup_key(config: Config) -> bytes:
    """[backup] secret_key, else a stable key derived by HMAC-SHA256 from [wecom] secret and token."""
    given = str(config.raw.get("backup", {}).get("secret_key") or "")
    if given:
        return given.encode()
    msg = b"liaowang backup key\x00" + config.wecom.token.encode()
    return hmac.new(config.wecom.secret.encode(), msg, hashlib.sha256).digest()


def sign(key: bytes, manifest: bytes) -> str:
    """The hex HMAC-SHA256 of the manifest's exact bytes."""
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def _dump(url: str, dump: Path) -> None:
    """Copy the database to dump (SQLite backup API or pg_dump)."""
    if url.startswith("sqlite"):
        src, dst = sqlite3.connect(_sqlite_path(url)), sqlite3.connect(dump)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", _pg(url)], check=True)


def _files(config: Config) -> dict[str, Path]:
    """Every regular file of the file folders by its member name (files/…, archive/…); links are left out."""
    found: dict[str, Path] = {}
    for name, folder in _dirs(config).items():
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    found[f"{name}/{p.relative_to(folder).as_posix()}"] = p
    return found


def make_key_file(path: Path) -> None:
    """Write a new random 256-bit backup encryption key (base64, one line) to path, readable by its owner only;
    ConfigError if the file exists (a key is never overwritten: older backups need it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} 已存在，不覆盖（旧备份要用它解密）") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")


def read_key_file(path: Path) -> bytes:
    """The 32-byte key in a key file (base64 or 64 hex digits); ConfigError if missing or malformed."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except PermissionError:
        raise ConfigError(
            f"读不了备份密钥文件 {path}：没有读权限。它要归运行备份的用户所有（权限 600），"
            f"例如 chown liaowang:liaowang {path}（见 docs/deploy.md 的“加密备份”）"
        ) from None
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"读不了备份密钥文件 {path}") from None
    key: bytes | None = None
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:
        key = None
    if key is None or len(key) != 32:
        raise ConfigError(f"备份密钥文件 {path} 的内容不是 256 位密钥（用 liaowang backup-key 生成）")
    return key


def key_file(config: Config, given: str | None = None) -> Path | None:
    """The encryption key file: --key-file if given, else [backup] key_file (an absolute path), else None."""
    chosen = given or str(config.raw.get("backup", {}).get("key_file") or "")
    return Path(chosen).expanduser() if chosen else None


def encryption_key(config: Config, given: str | None = None) -> bytes | None:
    """The key read from key_file(config, given), or None when backups are not encrypted."""
    path = key_file(config, given)
    return None if path is None else read_key_file(path)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class _Sealer(io.RawIOBase):
    """A write-only stream that encrypts what it is given into out, chunk by chunk (close() seals the last)."""

    def __init__(self, out: IO[bytes], key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        super().__init__()
        self._aead, self._out, self._buf, self._index = AESGCM(key), out, bytearray(), 0
        self._head = _HEAD.pack(SEALED, CHUNK, secrets.token_bytes(7))
        out.write(self._head)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += bytes(data)
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is sealed by close()
            self._seal(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _seal(self, chunk: bytes, last: bool) -> None:
        prefix = self._head[-7:]
        self._out.write(self._aead.encrypt(_nonce(prefix, self._index, last), chunk, self._head))
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buf), last=True)
            self._buf.clear()
            self._out.close()
        super().close()


def is_sealed(path: Path) -> bool:
    """True if path is an encrypted backup (it starts with the sealed header)."""
    try:
        with path.open("rb") as f:
            return f.read(len(SEALED)) == SEALED
    except OSError:
        return False


def unseal(path: Path, key: bytes | None, out: Path) -> None:
    """Decrypt an encrypted backup into out, authenticating every chunk and the end; ConfigError (in Chinese) if the
    key is missing or wrong or the file was changed or cut short (out is then removed)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if key is None:
        raise ConfigError(f"这个备份是加密的，需要备份密钥文件（[backup] key_file 或 --key-file），{REFUSED}")
    try:
        with path.open("rb") as src, out.open("wb") as dst:
            head = src.read(_HEAD.size)
            magic, size, prefix = _HEAD.unpack(head) if len(head) == _HEAD.size else (b"", 0, b"")
            if magic != SEALED or not 0 < size <= 64 * CHUNK:
                raise InvalidTag
            aead, index, block = AESGCM(key), 0, src.read(size + 16)
            while True:
                following = src.read(size + 16)
                last = not following
                dst.write(aead.decrypt(_nonce(prefix, index, last), block, head))
                if last:
                    break
                block, index = following, index + 1
    except (InvalidTag, ValueError):
        out.unlink(missing_ok=True)
        raise ConfigError(f"备份无法通过密钥验证：密钥不对，或备份文件被改动、损坏或不完整。{REFUSED}") from None


def _open_out(out: Path, key: bytes | None) -> IO[bytes]:
    """The stream the tar.gz is written to: out itself, or an encrypting stream into it."""
    raw = out.open("wb")
    return raw if key is None else io.BufferedWriter(_Sealer(raw, key), CHUNK)


def backup(config: Config, out: Path, revision: str | None, at: datetime, key: bytes | None = None) -> dict[str, Any]:
    """Write the database and the files to out (tar.gz, encrypted when key is given) with a signed manifest;
    return the manifest."""
    url = config.database_url
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / (DUMPS[0] if url.startswith("sqlite") else DUMPS[1])
        _dump(url, dump)
        files = _files(config)
        manifest = {
            "made_at": at.isoformat(),
            "database": "sqlite" if url.startswith("sqlite") else "postgresql",
            "revision": revision,
            "dump": dump.name,
            "sha256": _sha(dump),
            "files": {name: _sha(p) for name, p in files.items()},
            "dirs": {k: str(v) for k, v in _dirs(config).items()},
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        (Path(tmp) / MANIFEST).write_bytes(body)
        (Path(tmp) / SIGNATURE).write_text(sign(backup_key(config), body), encoding="ascii")
        out.parent.mkdir(parents=True, exist_ok=True)
        sink = _open_out(out, key)
        try:
            with tarfile.open(fileobj=sink, mode="w|gz") as tar:
                tar.add(Path(tmp) / MANIFEST, MANIFEST)
                tar.add(Path(tmp) / SIGNATURE, SIGNATURE)
                tar.add(dump, dump.name)
                for name, p in files.items():
                    tar.add(p, name, recursive=False)
        finally:
            sink.close()
    return manifest


NAMED = re.compile(r"^liaowang-(\d{8}-\d{6})\.tar\.gz(\.enc)?$")


def dated_name(at: datetime, sealed: bool) -> str:
    """The file name of a scheduled backup made at `at` (Beijing time): liaowang-YYYYMMDD-HHMMSS.tar.gz[.enc]."""
    return f"liaowang-{at.astimezone(LOCAL_TZ):%Y%m%d-%H%M%S}.tar.gz" + (".enc" if sealed else "")


def prune(folder: Path, now: datetime, keep_days: int, keep: Path) -> list[Path]:
    """Delete the scheduled backups in folder (by their name's time) older than keep_days, never `keep` (the one
    just made) nor anything not named like a scheduled backup; return what was deleted, oldest first."""
    if keep_days <= 0:
        return []
    gone = []
    for p in sorted(folder.iterdir()):
        m = NAMED.match(p.name)
        if m is None or not p.is_file() or p.resolve() == keep.resolve():
            continue
        made = datetime.strptime(m.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=LOCAL_TZ)
        if (now - made).total_seconds() > keep_days * 86400:
            p.unlink()
            gone.append(p)
    return gone


def _safe_name(name: str) -> str:
    """The member name if it stays inside the archive (relative, no `..`, under a known top), else ConfigError."""
    parts = PurePosixPath(name).parts
    if not parts or name.startswith(("/", "\\")) or ":" in parts[0] or any(p in ("..", "") for p in parts):
        raise ConfigError(f"备份里有指向归档之外的路径 {name!r}，拒绝恢复，没有做任何改动")
    if "\\" in name or any(ord(c) < 32 for c in name):
        raise ConfigError(f"备份里有不合规的文件名 {name!r}，拒绝恢复，没有做任何改动")
    tops = ("files", "archive")
    if (len(parts) == 1 and name not in (MANIFEST, SIGNATURE, *DUMPS, *tops)) or (
        len(parts) > 1 and parts[0] not in tops
    ):
        raise ConfigError(f"备份里有不属于瞭望备份的文件 {name!r}，拒绝恢复，没有做任何改动")
    return "/".join(parts)


def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """The regular files of the archive by name; ConfigError on any link, device, unsafe name or duplicate."""
    found: dict[str, tarfile.TarInfo] = {}
    for m in tar.getmembers():
        name = _safe_name(m.name)
        if m.isdir():
            continue
        if not m.isreg():
            raise ConfigError(f"备份里的 {m.name!r} 不是普通文件（链接或设备），拒绝恢复，没有做任何改动")
        if name in found:
            raise ConfigError(f"备份里 {m.name!r} 出现了两次，拒绝恢复，没有做任何改动")
        found[name] = m
    return found


def _read(tar: tarfile.TarFile, m: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(m)
    return b"" if f is None else f.read()


def _copy(tar: tarfile.TarFile, m: tarfile.TarInfo, target: Path) -> str:
    """Stream a member to target (a dump may be large); return its sha256."""
    h = hashlib.sha256()
    src = tar.extractfile(m)
    with target.open("wb") as out:
        while src is not None and (chunk := src.read(1 << 20)):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def _trust(config: Config, body: bytes, sig: bytes | None) -> str:
    """ "" if the manifest is signed with our key, else the reason (unsigned / another key)."""
    if sig is None:
        return "这个备份没有签名（旧版本做的或被改过），无法确认来自本系统"
    if not hmac.compare_digest(sig.strip(), sign(backup_key(config), body).encode()):
        return "这个备份的签名与本系统的备份密钥（[backup] secret_key）不符：不是本系统做的，或清单被改过"
    return ""


def _expected(manifest: dict[str, Any]) -> dict[str, str]:
    """member name → sha256 the manifest promises (the dump and, in signed backups, every file)."""
    dump = str(manifest.get("dump", ""))
    if dump not in DUMPS:
        raise ConfigError(f"备份清单里的数据库文件名 {dump!r} 不对，拒绝恢复，没有做任何改动")
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        raise ConfigError("备份清单的文件表格式不对，拒绝恢复，没有做任何改动")
    return {dump: str(manifest.get("sha256", "")), **{_safe_name(str(k)): str(v) for k, v in files.items()}}


def _extract(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], tmp: Path, expected: dict[str, str]) -> None:
    """Write every expected member under tmp, checking its sha256; ConfigError on a missing, extra or changed one."""
    extra = sorted(set(members) - set(expected) - {MANIFEST, SIGNATURE})
    if extra:
        raise ConfigError(f"备份里有清单之外的文件 {extra[0]!r}（共 {len(extra)} 个），拒绝恢复，没有做任何改动")
    for name, digest in expected.items():
        if name not in members:
            raise ConfigError(f"备份缺少清单里的 {name}，备份不完整，没有做任何改动")
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not hmac.compare_digest(_copy(tar, members[name], target), digest):
            what = "数据库文件" if name in DUMPS else f"文件 {name} "
            raise ConfigError(f"备份里的{what}与清单的校验值不符，备份已损坏或被改过，没有做任何改动")


def _plan(config: Config, manifest: dict[str, Any], tmp: Path, expected: dict[str, str], warning: str) -> Plan:
    """Compare the verified files with the live folders."""
    plan = Plan(manifest=manifest, warning=warning)
    dirs = _dirs(config)
    for name, digest in sorted(expected.items()):
        if name in DUMPS:
            continue
        top, rest = name.split("/", 1)
        live = dirs[top] / rest
        if not live.exists():
            plan.new.append(name)
        elif live.is_file() and _sha(live) == digest:
            plan.same += 1
        else:
            plan.changed.append(name)
    return plan


def _check_members(
    config: Config, tar: tarfile.TarFile, tmp: Path, trust_unsigned: bool
) -> tuple[dict[str, Any], dict[str, str], str]:
    """Check the members, the signature and every sha256; extract under tmp; return (manifest, expected, warning)."""
    members = _members(tar)
    if MANIFEST not in members:
        raise ConfigError("这不是瞭望的备份文件（缺少 manifest.json）")
    body = _read(tar, members[MANIFEST])
    sig = _read(tar, members[SIGNATURE]) if SIGNATURE in members else None
    warning = _trust(config, body, sig)
    if warning and not trust_unsigned:
        raise UntrustedBackup(f"{warning}。拒绝恢复，没有做任何改动；确认来源可信时可加 --trust-unsigned")
    try:
        manifest = dict(json.loads(body))
    except ValueError:
        raise ConfigError("备份的清单不是有效的 JSON，拒绝恢复，没有做任何改动") from None
    if "files" not in manifest and not warning:
        raise ConfigError("备份清单没有文件表，拒绝恢复，没有做任何改动")
    expected = _expected(manifest)
    if "files" not in manifest:  # an old unsigned backup, trusted by the caller: its files are unchecked
        expected.update({n: _copy(tar, m, tmp / ".unchecked") for n, m in members.items() if "/" in n})
    _extract(tar, members, tmp, expected)
    return manifest, expected, warning


def _verified(config: Config, path: Path, tmp: Path, trust_unsigned: bool, key: bytes | None) -> Plan:
    """Check the archive (decrypting and authenticating it first if encrypted) and extract its verified members
    under tmp; ConfigError/UntrustedBackup if anything is off."""
    if is_sealed(path):
        plain = tmp / ".backup.tar.gz"
        unseal(path, key, plain)
        path = plain
    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest, expected, warning = _check_members(config, tar, tmp, trust_unsigned)
    except tarfile.TarError:
        raise ConfigError(f"{path} 不是瞭望的备份文件（缺少 manifest.json）") from None
    except FileNotFoundError:
        raise ConfigError(f"找不到备份文件 {path}") from None
    return _plan(config, manifest, tmp, expected, warning)


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup (unverified, for showing), or ConfigError if path is not one."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return dict(json.loads(member.read()))
    except (OSError, KeyError, tarfile.TarError, ValueError):
        raise ConfigError(f"{path} 不是瞭望的备份文件（缺少 manifest.json）") from None


def _check_kind(config: Config, manifest: dict[str, Any]) -> str:
    kind = "sqlite" if config.database_url.startswith("sqlite") else "postgresql"
    if manifest.get("database") != kind:
        raise ConfigError(f"备份是 {manifest.get('database')} 的，当前配置的数据库是 {kind}，不能直接恢复")
    return kind


def check(config: Config, path: Path, trust_unsigned: bool = False, key: bytes | None = None) -> Plan:
    """Verify a backup completely (decrypting it with key if encrypted) and say what restoring it would change;
    changes nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = _verified(config, path, Path(tmp), trust_unsigned, key)
    _check_kind(config, plan.manifest)
    return plan


def restore(config: Config, path: Path, trust_unsigned: bool = False, key: bytes | None = None) -> Plan:
    """Verify a backup, then put the database and the files back (the database replaced, the files added back)."""
    url = config.database_url
    with tempfile.TemporaryDirectory() as tmp:
        plan = _verified(config, path, Path(tmp), trust_unsigned, key)
        kind = _check_kind(config, plan.manifest)
        dump = Path(tmp) / str(plan.manifest["dump"])
        if kind == "sqlite":
            src, dst = sqlite3.connect(dump), sqlite3.connect(_sqlite_path(url))
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
    return plan
