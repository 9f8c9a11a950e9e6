"""Make a release: set the version in pyproject.toml, date its CHANGELOG heading, commit, and tag v<version>.

    python3 tools/release.py 0.3.0   # in a clean checkout of main, once the CHANGELOG [Unreleased] is written

What it does, in order (and nothing when a step is already done, so it can be re-run after a failure):
1. checks that 0.3.0 is X.Y.Z, newer than every v* tag, that the work tree is clean and no tag v0.3.0 exists;
2. sets `[project] version = "0.3.0"` in pyproject.toml (core/version.py reports it once installed);
3. in CHANGELOG.md, turns `## [Unreleased]` into an empty `## [Unreleased]` above `## [0.3.0] - <date>` (Beijing
   date) holding what was under it; refuses an empty [Unreleased] (a release says what changed);
4. commits the two files as "Release 0.3.0" and creates the annotated tag v0.3.0.
It never pushes. When pyproject already says 0.3.0 and the CHANGELOG already has its heading (the release commit
is made), only the tag is created.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNRELEASED = "## [Unreleased]"
VERSION_LINE = re.compile(r'^(version\s*=\s*")([^"]+)(")', re.M)


class ReleaseError(Exception):
    """A release step cannot be done; the message says why (in Chinese, for the person releasing)."""


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()


def _parse(version: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if m is None:
        raise ReleaseError(f"版本号要写成 X.Y.Z（如 0.3.0），现在是 {version!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def current(root: Path) -> str:
    """The version pyproject.toml states."""
    m = VERSION_LINE.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if m is None:
        raise ReleaseError("pyproject.toml 里没有 version")
    return m.group(2)


def check(root: Path, version: str) -> None:
    """The version is X.Y.Z and newer than every v* tag; the work tree is clean; the tag does not exist yet."""
    wanted = _parse(version)
    tags = [t for t in _git(root, "tag", "--list", "v*").split() if re.fullmatch(r"v\d+\.\d+\.\d+", t)]
    if f"v{version}" in tags:
        raise ReleaseError(f"标签 v{version} 已经存在")
    newer = [t for t in tags if _parse(t[1:]) >= wanted]
    if newer:
        raise ReleaseError(f"版本 {version} 不比已有的 {max(newer, key=lambda t: _parse(t[1:]))} 新")
    if _git(root, "status", "--porcelain", "--untracked-files=no"):
        raise ReleaseError("工作区有未提交的改动，先提交或撤销再发布")


def bump(root: Path, version: str, date: str) -> bool:
    """Write the version into pyproject.toml and the dated heading into CHANGELOG.md; False if both already are."""
    pyproject, changelog = root / "pyproject.toml", root / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    heading = f"## [{version}] - "
    if current(root) == version and heading in text:
        return False
    if UNRELEASED not in text:
        raise ReleaseError(f"CHANGELOG.md 里没有 {UNRELEASED} 一节")
    head, rest = text.split(UNRELEASED, 1)
    body, sep, older = rest.partition("\n## [")
    if not body.strip():
        raise ReleaseError(f"CHANGELOG.md 的 {UNRELEASED} 是空的：先写上这一版改了什么")
    changelog.write_text(
        f"{head}{UNRELEASED}\n\n{heading}{date}\n{body.strip(chr(10))}\n{sep}{older}".rstrip("\n") + "\n",
        encoding="utf-8",
    )
    py = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(VERSION_LINE.sub(lambda m: f"{m.group(1)}{version}{m.group(3)}", py, count=1), "utf-8")
    return True


def release(root: Path, version: str, date: str) -> None:
    """check, bump, commit, tag (see the module's docstring)."""
    check(root, version)
    if bump(root, version, date):
        _git(root, "add", "pyproject.toml", "CHANGELOG.md")
        _git(root, "commit", "-q", "-m", f"Release {version}")
    _git(root, "tag", "-a", f"v{version}", "-m", f"瞭望 {version}")


def main(argv: list[str] | None = None) -> int:
    """Command line: VERSION [--date YYYY-MM-DD] [--root DIR]."""
    p = argparse.ArgumentParser(description="发布一个版本：改 pyproject 版本号、写 CHANGELOG 标题、提交并打标签")
    p.add_argument("version", help="X.Y.Z")
    p.add_argument("--date", help="CHANGELOG 标题上的日期（缺省今天，北京时间）")
    p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.date is None:
        sys.path.insert(0, str(ROOT))
        from core import clock

        args.date = clock.now().astimezone(clock.LOCAL_TZ).date().isoformat()
    try:
        release(args.root, args.version, args.date)
    except ReleaseError as exc:
        print(f"没有发布：{exc}", file=sys.stderr)
        return 2
    print(
        f"已发布 {args.version}：提交“Release {args.version}”和标签 v{args.version}（未推送：git push --follow-tags）"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
