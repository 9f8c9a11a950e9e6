"""The one clock: LIAOWANG_NOW starts it at an instant and it runs on from there, shared by child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import clock

ROOT = Path(__file__).resolve().parents[2]
DRILL = "2031-02-10T09:00:00+08:00"


@pytest.fixture()
def drill(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process whose LIAOWANG_NOW was set an hour ago (real time), with the clock not frozen."""
    monkeypatch.setenv(clock.NOW_ENV, DRILL)
    monkeypatch.setenv("LIAOWANG_NOW_SINCE", repr(time.time() - 3600))  # real clock: this test checks it
    clock.reset()
    yield
    clock.reset()


def test_liaowang_now_starts_the_clock_at_the_instant_and_it_runs_on(drill: None) -> None:
    elapsed = clock.now() - datetime(2031, 2, 10, 1, 0, tzinfo=UTC)
    assert timedelta(minutes=59) < elapsed < timedelta(minutes=61), "an hour after the drill began"
    assert clock.local(clock.now()).date().isoformat() == "2031-02-10"


def test_processes_started_from_a_drill_share_its_clock(drill: None) -> None:
    code = "from core import clock; print(clock.now().timestamp())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert abs(float(out.stdout) - clock.now().timestamp()) < 30, "the child runs on the parent's anchor"


def test_the_emulator_is_told_how_far_ahead_the_drill_is(drill: None) -> None:
    real = datetime.now(UTC)  # real clock: this test checks the shift against it
    shift = timedelta(seconds=clock.shift_seconds())
    assert abs((real + shift) - clock.now()) < timedelta(seconds=5)


@pytest.mark.parametrize("text", ["2031-02-10 09:00", "2031-02-10T09:00:00", "tomorrow", ""])
def test_an_instant_without_an_offset_is_refused(text: str) -> None:
    with pytest.raises(clock.ClockSettingError, match="LIAOWANG_NOW 格式不对"):
        clock.parse_instant(text)


def test_the_tests_clock_is_frozen_and_moves_only_when_told() -> None:
    first = clock.now()
    assert clock.now() == first
    clock.advance(timedelta(seconds=90))
    assert clock.now() - first == timedelta(seconds=90)
