#!/usr/bin/env python3
"""Set up .venv from requirements.lock if needed; run `demo`, `test [pytest args]`, `check` or a liaowang command."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".liaowang-stamp"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_env() -> None:
    """Create .venv and install the locked dependencies and the project, unless already done for this lock."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit("需要 Python 3.11 或更新版本")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and (BIN / "liaowang").exists():
        return
    if not (BIN / "python").exists():
        print("· 创建虚拟环境 .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    print("· 安装锁定的依赖（requirements.lock，首次约 1 分钟）…", flush=True)
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(ROOT / "requirements.lock")], check=True)
    print("· 安装瞭望本身（可编辑模式）…", flush=True)
    subprocess.run([*pip, "install", "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(_fingerprint())
    print("· 环境就绪", flush=True)


CHECKS = (
    ("ruff check", ["ruff", "check", "."]),
    ("ruff format --check", ["ruff", "format", "--check", "."]),
    ("mypy", ["mypy"]),  # the packages and options are in pyproject.toml [tool.mypy]
)


def check() -> int:
    """Run the lint, format and type checks CI runs; return non-zero if any fails (each one runs regardless)."""
    failed = []
    for name, argv in CHECKS:
        print(f"· {name} …", flush=True)
        if subprocess.call([str(BIN / argv[0]), *argv[1:]]) != 0:
            failed.append(name)
    if failed:
        print(f"未通过：{'、'.join(failed)}（ruff check --fix / ruff format 可自动修正大部分）", flush=True)
        return 1
    print("· 代码检查全部通过", flush=True)
    return 0


def main(argv: list[str]) -> int:
    """Dispatch to pytest or the liaowang command inside the project's virtual environment."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__ or "")
        print(
            "用法：python3 dev.py demo | python3 dev.py test [pytest 参数] | python3 dev.py check"
            " | python3 dev.py <liaowang 子命令>"
        )
        return 0
    ensure_env()
    os.chdir(ROOT)
    if argv[0] == "test":
        code = subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]])
        return 0 if code == 5 and os.environ.get("LIAOWANG_ALLOW_EMPTY") else code
    if argv[0] == "check":
        return check()
    if argv[0] == "chaos":  # the chaos suite (bench/chaos.py): real processes, faults from outside, a table
        return subprocess.call([str(BIN / "python"), "-m", "bench.chaos", *argv[1:]])
    sys.stdout.flush()
    # become the liaowang command, so a signal sent to this process (Ctrl-C, kill) reaches it directly
    os.execv(str(BIN / "liaowang"), [str(BIN / "liaowang"), *argv])
    return 0  # not reached


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
