"""Integration fixtures: one emulator per session, a fresh Liaowang stack per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import EmulatorServer, serve
from sandbox.settings import EmulatorSettings
from tests.integration.harness import CREDS, Stack, start_stack


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The WeCom emulator, knowing the test app's credentials."""
    srv = serve("127.0.0.1", 0, EmulatorSettings(**CREDS))
    yield srv
    srv.shutdown()


@pytest.fixture()
def stack(emulator: EmulatorServer, database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A running Liaowang with the demo organisation, wired to the emulator."""
    st = start_stack(emulator.url, database_url, redis_url, tmp_path)
    yield st
    st.close()
