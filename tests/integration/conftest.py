"""Integration fixtures: one emulator per session, a fresh Liaowang stack per test."""

from __future__ import annotations

from collections.abc import Iterator

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
