"""The version of this Liaowang: the installed distribution's version, from the release tag (tools/release.py).

A release sets `[project] version` in pyproject.toml from its tag (`tools/release.py 0.3.0` writes 0.3.0, the
CHANGELOG heading and the tag v0.3.0), so an installed wheel or a checkout at a tag reports the tag's version.
A git checkout that is not exactly at that tag adds where it is as a local part (`0.3.0+g1a2b3c4`, `.dirty` when
the work tree has changes), so a development build is never mistaken for the release. Nothing runs at import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

DIST = "liaowang"
SOURCE = Path(__file__).resolve().parents[1]


def installed() -> str:
    """The release this code is: pyproject.toml's version in a source checkout (never a stale install record),
    else the installed distribution's (a wheel), else 0+unknown."""
    pyproject = SOURCE / "pyproject.toml"
    if pyproject.exists():
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text("utf-8"), re.M)
        if found:
            return found.group(1)
    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def git_local(release: str, source: Path = SOURCE) -> str:
    """'' at the release's tag (or outside a git checkout), else the local part: g<commit>[.dirty]."""
    git = shutil.which("git")
    if git is None or not (source / ".git").exists():
        return ""
    try:
        said = subprocess.run(
            [git, "-C", str(source), "describe", "--tags", "--always", "--dirty", "--match", "v*"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    if said in (f"v{release}", ""):
        return ""
    commit = re.search(r"(?:-g)?([0-9a-f]{7,40})(?:-dirty)?$", said)
    local = f"g{commit.group(1)}" if commit else ""
    return ".".join(p for p in (local, "dirty" if said.endswith("-dirty") else "") if p)


@lru_cache(maxsize=1)
def version() -> str:
    """This build's version: the release (e.g. 0.2.0), with +g<commit>[.dirty] for a checkout off its tag."""
    release = installed()
    local = git_local(release)
    return f"{release}+{local}" if local else release
