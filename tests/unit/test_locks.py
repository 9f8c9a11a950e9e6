"""The production lock (no test or lint tools) agrees with the development lock on every package they share."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {"pytest", "ruff", "mypy", "hypothesis", "types-openpyxl", "pypdf", "pypdfium2"}
# playwright is not a dev tool: 网页取证 ([evidence]) drives Chromium with it in production (the evidence extra)


def _pins(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """package → (version, hashes) of a uv-compiled lock."""
    text = (ROOT / name).read_text(encoding="utf-8")
    out = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", block)
        if m:
            out[m.group(1).lower()] = (m.group(2), frozenset(re.findall(r"sha256:[0-9a-f]{64}", block)))
    return out


def test_production_pins_are_the_development_pins_and_carry_no_dev_tools() -> None:
    prod, dev = _pins("requirements-prod.lock"), _pins("requirements.lock")
    assert prod, "requirements-prod.lock lists nothing"
    assert not DEV_ONLY & set(prod), "test and lint tools stay out of production"
    for name, (version, hashes) in prod.items():
        assert name in dev, f"{name} is in the production lock only: regenerate both locks"
        assert dev[name][0] == version, f"{name}: production {version}, development {dev[name][0]}"
        assert hashes, f"{name}: no hashes"
        assert hashes == dev[name][1], f"{name}: hashes differ"
    assert {"pytest", "ruff", "mypy"} <= set(dev), "the development lock has the tools"
    assert "playwright" in prod, "网页取证 can be switched on in production without installing anything"
