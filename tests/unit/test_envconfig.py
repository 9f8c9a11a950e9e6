"""Every key of config.example.toml can be set from the environment, and `liaowang config` says where it came from."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.config import config_from_dict
from core.config_keys import KEYS
from core.envconfig import effective, env_name, keys_module, parse

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")
BASE = {"wecom": {"corp_id": "ww1", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "k" * 43}}


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'
    return str(value)


def _example_value(path: tuple[str, ...]) -> Any:
    """The key's value in config.example.toml, or in its commented-out line for an optional key."""
    node: Any = tomllib.loads(EXAMPLE)
    for part in path[:-1]:
        node = node[part]
    if path[-1] in node:
        return node[path[-1]]
    line = next(x for x in EXAMPLE.splitlines() if x.startswith(f"# {path[-1]} = "))
    return parse(line.removeprefix(f"# {path[-1]} = ").split()[0])


def test_optional_keys_shown_commented_out_are_keys_too() -> None:
    assert {("archive", "dir"), ("metrics", "dir"), ("calendar", "file"), ("policy", "warn_before")} <= set(KEYS)
    assert not any(p[-1] in ("fact", "holidays", "name") for p in KEYS), "not the lines of a commented example table"


def test_the_key_list_is_current() -> None:
    assert (ROOT / "core" / "config_keys.py").read_text(encoding="utf-8") == keys_module(EXAMPLE), (
        "config.example.toml changed: run python3 dev.py config-keys --write core/config_keys.py"
    )


@pytest.mark.parametrize("path", KEYS, ids=[".".join(p) for p in KEYS])
def test_every_key_can_be_set_from_the_environment(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    node = _example_value(path)
    if path == ("calendar", "file"):  # read at start-up: it must exist
        node = str(tmp_path / "holidays.toml")
        Path(node).write_text('[years.2027]\nholidays = ["2027-01-01"]\nworkdays = []\n', encoding="utf-8")
    monkeypatch.setenv(env_name(path), _literal(node))
    example = tomllib.loads(EXAMPLE)
    cfg = config_from_dict({**example, "wecom": {**example["wecom"], **BASE["wecom"]}}, base_dir=ROOT)
    got: Any = cfg.raw
    for part in path:
        got = got[part]
    assert cfg.sources[".".join(path)] == f"环境变量 {env_name(path)}"
    assert got == node or str(got) == str(node)


def test_secrets_are_masked_and_sources_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAOWANG_WEB_MAX_BODY", "131072")
    cfg = config_from_dict({**BASE, "database": {"url": "postgresql://lw:pw@db:5432/lw"}})
    assert cfg.max_body == 131072, "LIAOWANG_WEB_MAX_BODY was ignored before"
    rows = {k: (v, s) for k, v, s in effective(cfg.raw, cfg.sources)}
    assert rows["wecom.secret"][0].startswith("****")
    assert "pw" not in rows["database.url"][0]
    assert rows["web.max_body"] == ("131072", "环境变量 LIAOWANG_WEB_MAX_BODY")
    assert rows["wecom.corp_id"][1] == "配置文件"
    assert rows["guided.due"][1] == "缺省"
