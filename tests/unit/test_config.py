"""Configuration: defaults, environment overrides, and one clear line for each bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import REAL_API_BASE, ConfigError, config_from_dict, load_config
from core.durations import parse_duration

GOOD = {
    "wecom": {
        "corp_id": "ww1",
        "agent_id": 1000002,
        "secret": "s",
        "token": "t",
        "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    }
}


def test_defaults(tmp_path: Path) -> None:
    cfg = config_from_dict(GOOD, base_dir=tmp_path)
    assert cfg.wecom.api_base == REAL_API_BASE
    assert cfg.redis_url == "embedded"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'var' / 'liaowang.db'}"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("encoding_aes_key", "short", "encoding_aes_key 必须是 43 个字符"),
        ("encoding_aes_key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2!", "只能由字母和数字组成"),
        ("agent_id", "abc", "agent_id 必须是整数"),
        ("secret", "", "[wecom] secret"),
        ("api_base", "ftp://x", "api_base"),
    ],
)
def test_bad_wecom_key_names_the_key(key: str, value: str, words: str) -> None:
    raw = {"wecom": {**GOOD["wecom"], key: value}}
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_section_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[wecom\]"):
        config_from_dict({})
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_config(tmp_path / "nope.toml")


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    raw = {"wecom": {k: v for k, v in GOOD["wecom"].items() if k != "secret"}}
    monkeypatch.setenv("LIAOWANG_WECOM_SECRET", "from-env")
    assert config_from_dict(raw).wecom.secret == "from-env"


def test_bad_redis_url() -> None:
    with pytest.raises(ConfigError, match=r"\[redis\] url"):
        config_from_dict({**GOOD, "redis": {"url": "http://x"}})


@pytest.mark.parametrize(("text", "seconds"), [("20m", 1200), ("90s", 90), ("3d", 259200), ("1h30m", 5400), ("15", 15)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "m5", "-3m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_example_config_is_valid_and_documents_every_section() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    cfg = load_config(example)
    assert cfg.wecom.agent_id == 1000002
    assert cfg.redis_url == "embedded"
    assert set(cfg.raw) >= {"wecom", "app", "database", "redis", "org", "web", "outbox", "worker", "sandbox"}
