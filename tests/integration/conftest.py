"""Integration fixtures: one emulator per session, a fresh Liaowang stack per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import clock
from sandbox.server import EmulatorServer, serve
from sandbox.settings import EmulatorSettings
from tests.integration.harness import CREDS, Stack


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The WeCom emulator, knowing the test app's credentials."""
    srv = serve("127.0.0.1", 0, EmulatorSettings(**CREDS, time_source=lambda: clock.now().timestamp()))
    yield srv
    srv.shutdown()


@pytest.fixture()
def stack(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A running Liaowang with the demo organisation, wired to the emulator."""
    return make_stack()


@pytest.fixture()
def running(emulator: EmulatorServer, database_url: str, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """Web (two gunicorn workers) and a worker, with a Redis of the test's own (tests/integration/test_outages.py)."""
    from tests.integration.test_outages import OwnRedis, Running

    redis = OwnRedis(tmp_path)
    stack = Running(tmp_path, emulator, database_url, redis)
    try:
        yield stack, redis
    finally:
        stack.stop()
        if redis.proc is not None and redis.proc.poll() is None:
            redis.stop()
