"""[intake] and [intake.sources.<key>]: each problem is one ConfigError naming the key; the environment can set or add
a source; the signature is HMAC-SHA256 over "<timestamp>.<body>"."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from core import intake
from core.config import ConfigError, config_from_dict
from tests.unit.test_config import GOOD

SECRET = "a-long-enough-secret-0123"


def _with(sources: dict[str, Any], **section: Any) -> dict[str, Any]:
    return {**GOOD, "intake": {**section, "sources": sources}}


@pytest.mark.parametrize(
    ("sources", "section", "words"),
    [
        ({"jiance": {"secret": SECRET}}, {}, "[intake.sources.jiance] name"),
        ({"jiance": {"name": "平台", "secret": "short"}}, {}, "secret 至少 16 个字符"),
        ({"jiance": {"name": "平台", "secret": SECRET, "category": "weibo"}}, {}, "category 须是"),
        ({"jiance": {"name": "平台", "secret": SECRET, "grade": "urgent"}}, {}, "grade 须是"),
        ({"Bad Key": {"name": "平台", "secret": SECRET}}, {}, "key 只能用小写字母"),
        ({}, {"max_kb": 0}, "[intake] max_kb"),
        ({}, {"per_minute": "many"}, "[intake] max_kb 和 per_minute"),
    ],
)
def test_a_bad_intake_setting_names_the_key(
    sources: dict[str, Any], section: dict[str, Any], words: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict(_with(sources, **section), base_dir=tmp_path)
    assert words in str(err.value)


def test_the_environment_sets_a_source_and_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAOWANG_INTAKE_SOURCES_JIANCE_SECRET", "from-the-environment-0123")
    monkeypatch.setenv("LIAOWANG_INTAKE_SOURCES_SHENG_JI_NAME", "省级平台")
    monkeypatch.setenv("LIAOWANG_INTAKE_SOURCES_SHENG_JI_SECRET", SECRET)
    monkeypatch.setenv("LIAOWANG_INTAKE_PER_MINUTE", "5")
    cfg = config_from_dict(_with({"jiance": {"name": "监测平台", "secret": SECRET, "grade": "major"}}), tmp_path)
    found = intake.sources(cfg.raw)
    assert found["jiance"] == intake.Source("jiance", "监测平台", "from-the-environment-0123", "discovery", "major")
    assert found["sheng_ji"].name == "省级平台"
    assert intake.limits(cfg.raw) == intake.Limits(max_bytes=256 * 1024, per_minute=5)
    assert cfg.sources["intake.per_minute"] == "环境变量 LIAOWANG_INTAKE_PER_MINUTE"


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body_and_the_window_is_five_minutes() -> None:
    body = '{"id":"1","title":"标题"}'.encode()
    want = "sha256=" + hmac.new(SECRET.encode(), b"1796527800." + body, hashlib.sha256).hexdigest()
    assert intake.signature(SECRET, "1796527800", body) == want
    assert intake.verify(SECRET, "1796527800", body, want)
    assert not intake.verify(SECRET, "1796527801", body, want)
    assert not intake.verify(SECRET, "1796527800", body + b" ", want)
    assert not intake.verify(SECRET, "1796527800", body, "sha256=签名")
    assert intake.fresh("1796527800", 1796527800 + 300)
    assert not intake.fresh("1796527800", 1796527800 + 301)
    assert not intake.fresh("1.5e9", 1.5e9)
