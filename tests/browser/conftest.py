"""Browser tests: Playwright drives Debian's Chromium (never a downloaded one); skipped with a reason without it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import clock
from sandbox.server import EmulatorServer, serve
from sandbox.settings import EmulatorSettings
from tests.integration.harness import CREDS

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "browser"
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")


def chromium_path() -> str | None:
    """Return Chromium's executable: $LIAOWANG_CHROMIUM, else chromium / chromium-browser on PATH."""
    return os.environ.get("LIAOWANG_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "浏览器测试跳过：没有安装 playwright（python3 dev.py test 会按 requirements.lock 安装）"
    if chromium_path() is None:
        return "浏览器测试跳过：找不到 Chromium。请安装 Debian 的 chromium 与 fonts-noto-cjk（.ci/run 会自动安装）"
    if not any(Path(d).is_dir() and any(Path(d).glob("*CJK*")) for d in FONT_DIRS):
        return "浏览器测试跳过：没有中文字体。请安装 fonts-noto-cjk（.ci/run 会自动安装）"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every browser test, with the reason, on a machine without Chromium, Playwright or CJK fonts."""
    reason = _missing()
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The WeCom emulator (with its phone UI), knowing the test app's credentials."""
    srv = serve("127.0.0.1", 0, EmulatorSettings(**CREDS, time_source=lambda: clock.now().timestamp()))
    yield srv
    srv.shutdown()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of one test's steps under test-output/browser/<test>/."""

    def __init__(self, name: str) -> None:
        self.dir = OUTPUT / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.n = 0

    def take(self, page: Any, step: str) -> Path:
        """Save a full-page screenshot named after the step and return its path."""
        self.n += 1
        path = self.dir / f"{self.n:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture()
def shots(request: pytest.FixtureRequest) -> Shots:
    """Where this test saves the screenshot of each step."""
    return Shots(request.node.name)
