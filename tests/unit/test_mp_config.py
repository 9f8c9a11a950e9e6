"""[mp]: off unless app_id is set, every key settable from the environment, a bad key named in Chinese."""

from __future__ import annotations

import pytest

from core.config import REAL_MP_API_BASE, ConfigError, config_from_dict
from sandbox.mp_state import MP_CREDS
from tests.unit.test_config import GOOD


def test_the_channel_is_off_without_an_app_id() -> None:
    assert config_from_dict(GOOD).mp is None
    assert config_from_dict({**GOOD, "mp": {"app_id": ""}}).mp is None


def test_every_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in MP_CREDS.items():
        monkeypatch.setenv(f"LIAOWANG_MP_{key.upper()}", value)
    mp = config_from_dict(GOOD).mp
    assert mp is not None
    assert (mp.app_id, mp.app_secret, mp.token, mp.encoding_aes_key) == tuple(MP_CREDS.values())
    assert mp.api_base == REAL_MP_API_BASE


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [("encoding_aes_key", "short", "43 位"), ("api_base", "ftp://x", "api_base"), ("token", "", "[mp] token")],
)
def test_a_bad_key_is_named(key: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict({**GOOD, "mp": {**MP_CREDS, key: value}})
