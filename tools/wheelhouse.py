"""Build an offline install bundle: the locked production wheels, Liaowang's own wheel and an install script.

    python3 tools/wheelhouse.py --out dist/liaowang-0.2.0-offline    # on a machine that reaches the package index
    # copy the folder to the server (same OS family, CPU and Python minor version as this machine), then there:
    sh dist/liaowang-0.2.0-offline/install.sh /opt/liaowang/venv     # installs with the index off (--no-index)

Downloading needs pip's configured index (nothing else is contacted); installing needs nothing but the folder. The
files are those of requirements-prod.lock (wheels; lunar-python exists only as source, so setuptools comes along in
build.lock to build it there), checked against the locks' hashes both when downloaded and when installed, for this
machine's platform and Python unless --platform/--python-version say otherwise (pip download's options).
Liaowang's own wheel is built from the tracked files of this checkout (`pip wheel --no-deps`) and carries its
templates, fonts and migrations. SHA256SUMS lists every file of the bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = "requirements-prod.lock"
INSTALL = """#!/bin/sh
# 离线安装瞭望：sh install.sh [虚拟环境目录，缺省 ./venv]。不连任何软件源（--no-index），只用本目录的 wheels/。
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${1:-./venv}
PY=${PYTHON:-python3}
( cd "$HERE" && sha256sum --quiet -c SHA256SUMS ) || { echo "安装包的文件校验不符（SHA256SUMS），停止" >&2; exit 1; }
"$PY" -m venv "$VENV"
offline() { "$VENV/bin/pip" --disable-pip-version-check -q install --no-index --find-links "$HERE/wheels" "$@"; }
offline --require-hashes -r "$HERE/build.lock"  # setuptools (hashed), to build lunar-python (source only) here
offline --require-hashes --no-build-isolation -r "$HERE/requirements-prod.lock"
offline --no-deps "$HERE"/wheels/liaowang-*.whl
echo "已安装：$("$VENV/bin/liaowang" --version)。下一步见 docs/upgrade.md（备份 → liaowang db upgrade → 依次重启）。"
"""


def _tracked_copy(dst: Path) -> Path:
    """Copy the checkout's tracked files (with their working-tree contents) to dst; untracked files stay out."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:  # not a git checkout (an unpacked sdist): everything but the local environment and data
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and p.parts[len(ROOT.parts)] not in
                 (".venv", "var", "build", "dist", ".git")]  # fmt: skip
    for name in names:
        src = ROOT / name
        if src.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def build_wheel(wheels: Path) -> Path:
    """Build Liaowang's wheel into wheels (no build isolation when setuptools is importable: nothing downloaded)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = _tracked_copy(Path(tmp) / "src")
        _stamp(src / "pyproject.toml")
        isolation = [] if _has_setuptools() else ["--use-pep517"]
        no_iso = ["--no-build-isolation"] if not isolation else []
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            *no_iso,
            *isolation,
            "-w",
            str(wheels),
            str(src),
        ]
        subprocess.run(cmd, check=True)
    return next(wheels.glob("liaowang-*.whl"))


def _stamp(pyproject: Path) -> None:
    """Write this checkout's full version into the copy's pyproject.toml: the copy has no .git, and a bundle built
    off the release tag must install as what it is (0.2.0+g1a2b3c4), never as the release itself."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from core.version import version

    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(re.sub(r'(?m)^version = ".*"', f'version = "{version()}"', text, count=1), encoding="utf-8")


def _has_setuptools() -> bool:
    try:
        import setuptools  # noqa: F401
    except ImportError:
        return False
    return True


def build_lock(out: Path) -> Path:
    """Write build.lock: setuptools as pinned and hashed in requirements.lock, to build the one locked package that
    ships only as source (lunar-python) on the offline machine."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    found = re.search(r"^setuptools==.*?(?=^\S|\Z)", text, re.M | re.S)
    if found is None:
        raise SystemExit("requirements.lock 里没有 setuptools（离线构建源码包要用）")
    path = out / "build.lock"
    path.write_text(re.sub(r"\n\s*#.*", "", found.group(0)).rstrip() + "\n", encoding="utf-8")
    return path


SOURCE_ONLY = ("lunar-python",)  # locked packages published only as a source archive (built on the target)


def _blocks(lock: Path) -> list[tuple[str, str]]:
    """The lock's requirement entries as (normalised name, the entry's text with its hashes)."""
    text = lock.read_text(encoding="utf-8")
    found = re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==.*?(?=^\S|\Z)", text, re.M | re.S)
    return [(m.group(1).lower().replace("_", "-"), m.group(0)) for m in found]


def _part(locks: list[Path], dst: Path, source: bool) -> Path:
    """Write the entries of locks that are (source) or are not (not source) SOURCE_ONLY to dst."""
    chosen = [text for lock in locks for name, text in _blocks(lock) if (name in SOURCE_ONLY) == source]
    dst.write_text("".join(chosen), encoding="utf-8")
    return dst


def download(wheels: Path, locks: list[Path], platforms: list[str] | None, python_version: str | None) -> None:
    """Download the locks' files (hashes required; a wheel where one exists) for this machine, or for the given
    platforms and Python: then wheels only (a source archive of a compiled package would need a compiler there), and
    the SOURCE_ONLY archives apart."""
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--require-hashes",
           "--prefer-binary", "--no-deps", "-d", str(wheels)]  # fmt: skip
    if not platforms and not python_version:
        subprocess.run([*cmd, *(a for lock in locks for a in ("-r", str(lock)))], check=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        binary = _part(locks, Path(tmp) / "binary.lock", source=False)
        target = [a for tag in platforms or [] for a in ("--platform", tag)]
        target += ["--python-version", python_version] if python_version else []
        subprocess.run([*cmd, "-r", str(binary), "--only-binary=:all:", *target], check=True)
        source = _part(locks, Path(tmp) / "source.lock", source=True)
        subprocess.run([*cmd, "-r", str(source), "--no-binary=:all:"], check=True)


def sums(out: Path) -> None:
    """Write SHA256SUMS for every file under out (install.sh checks it first)."""
    lines = []
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != "SHA256SUMS":
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}\n")
    (out / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


def bundle(
    out: Path, platforms: list[str] | None = None, python_version: str | None = None, skip_download: bool = False
) -> Path:
    """Write the offline bundle to out (which must not exist or be empty) and return it."""
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} 已存在且不空")
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / LOCK, out / LOCK)
    if not skip_download:
        download(wheels, [out / LOCK, build_lock(out)], platforms, python_version)
    build_wheel(wheels)
    for extra in ("config.example.toml", "CHANGELOG.md", "docs/upgrade.md", "docs/deploy.md"):
        if (ROOT / extra).exists():
            (out / extra).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / extra, out / extra)
    (out / "install.sh").write_text(INSTALL, encoding="utf-8")
    (out / "install.sh").chmod(0o755)
    sums(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: --out DIR [--platform TAG …] [--python-version X.Y] [--skip-download]."""
    p = argparse.ArgumentParser(description="生成离线安装包（锁定的生产依赖 wheel + 瞭望 wheel + install.sh）")
    p.add_argument("--out", required=True, type=Path)
    tags = "目标机器的平台标签，可写几次，如 manylinux_2_28_x86_64 manylinux2014_x86_64（缺省本机；给了只下载 wheel）"
    p.add_argument("--platform", action="append", help=tags)
    p.add_argument("--python-version", help="目标机器的 Python 版本，如 3.11（缺省本机）")
    p.add_argument("--skip-download", action="store_true", help="不下载依赖（wheels/ 里已有时）")
    args = p.parse_args(argv)
    out = bundle(args.out, args.platform, args.python_version, args.skip_download)
    print(f"离线安装包：{out}（{len(list((out / 'wheels').glob('*.whl')))} 个 wheel）；在目标机器上运行 sh install.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
