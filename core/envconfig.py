"""Every configuration key can be set from the environment: LIAOWANG_<PATH> for the key at PATH in config.example.toml.

The keys are listed once in core/config_keys.py (written from config.example.toml by `python3 dev.py config-keys
--write`; a test checks it is current). A value is read as a TOML value when it is one (5, true, "x", [..]), else as
text. `apply` returns the configuration with the environment applied and where each key's value came from.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from typing import Any

from core.config_keys import KEYS

SECRETS = ("secret", "app_secret", "token", "encoding_aes_key", "secret_key")


def env_name(path: tuple[str, ...]) -> str:
    """LIAOWANG_WECOM_SECRET for ("wecom", "secret")."""
    return "LIAOWANG_" + "_".join(path).upper()


def parse(value: str) -> Any:
    """A TOML scalar, array or inline table if value is one, else the text itself."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def apply(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (raw with every LIAOWANG_<PATH> applied, source of each known key: file, env NAME or default)."""
    out = copy.deepcopy(raw)
    sources: dict[str, str] = {}
    for path in KEYS:
        name = env_name(path)
        node: Any = out
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        present = isinstance(node, dict) and path[-1] in node
        if name in os.environ:
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = parse(os.environ[name])
            sources[".".join(path)] = f"环境变量 {name}"
        else:
            sources[".".join(path)] = "配置文件" if present else "缺省"
    return out, sources


def effective(raw: dict[str, Any], sources: dict[str, str]) -> list[tuple[str, str, str]]:
    """(key, value with secrets masked, source) of every known key, for `liaowang config`."""
    rows = []
    for path in KEYS:
        node: Any = raw
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        key = ".".join(path)
        if node is None:
            value = "（缺省）"
        elif path[-1] in SECRETS and node:
            value = f"****（{len(str(node))} 个字符）"
        elif path == ("database", "url") and "@" in str(node):
            value = str(node).split("://")[0] + "://****@" + str(node).split("@", 1)[1]
        else:
            value = str(node)
        rows.append((key, value, sources.get(key, "缺省")))
    return rows


def _commented_keys(example: str) -> list[tuple[str, ...]]:
    """Optional keys shown commented out (`# dir = "…"`) directly under a real [section]; not those of a commented
    example table (`# [[scoring.rules]]`)."""
    found: list[tuple[str, ...]] = []
    section: tuple[str, ...] | None = None
    for line in example.splitlines():
        if line.startswith("["):
            section = tuple(line.strip("[] \t").split("#")[0].strip(" ]").split("."))
        elif line.startswith("# [") and section is not None:
            section = None  # the lines below belong to a commented example table
        elif section is not None and (m := re.match(r"# ([a-z_]+) = \S", line)):
            found.append((*section, m.group(1)))
    return found


def keys_module(example: str) -> str:
    """The text of core/config_keys.py for the given config.example.toml."""
    paths: list[tuple[str, ...]] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*prefix, key))
            else:
                paths.append((*prefix, key))

    walk(tomllib.loads(example), ())
    paths += [p for p in _commented_keys(example) if p not in paths]
    body = "\n".join("    (" + ", ".join(f'"{part}"' for part in p) + ")," for p in paths)
    doc = '"""The keys of config.example.toml, each settable as LIAOWANG_<PATH> (dev.py config-keys --write)."""'
    return f"{doc}\n\nKEYS: tuple[tuple[str, ...], ...] = (\n{body}\n)\n"
