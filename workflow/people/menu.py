"""The app menu, defined once: `liaowang wecom menu` creates it, README, the demo banner and help texts quote it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import Config
from workflow.views import pages


@dataclass(frozen=True)
class Button:
    """One menu button: a click (key, handled in handlers/registry.py CLICKS), an H5 page (path) or a group (sub)."""

    name: str
    key: str = ""
    path: str = ""
    sub: tuple[Button, ...] = ()


MENU: tuple[Button, ...] = (
    Button("上报舆情", key="REPORT"),
    Button("我的待办", key="TODO"),
    Button(
        "更多",
        sub=(
            Button("舆情看板", path="/h5/board"),
            Button("舆情台账", path="/h5/items"),
            Button("考核统计", path="/h5/stats"),
            Button("帮助", key="HELP"),
        ),
    ),
)


def _json(b: Button, config: Config) -> dict[str, Any]:
    if b.sub:
        return {"name": b.name, "sub_button": [_json(s, config) for s in b.sub]}
    if b.key:
        return {"type": "click", "name": b.name, "key": b.key}
    return {"type": "view", "name": b.name, "url": pages.oauth_url(config, b.path)}


def menu_json(config: Config) -> dict[str, Any]:
    """The menu/create body: click buttons carry their EventKey, page buttons an OAuth link to the H5 page."""
    return {"button": [_json(b, config) for b in MENU]}


def summary() -> str:
    """The whole menu in one line: "上报舆情 / 我的待办 / 更多（舆情看板、舆情台账、考核统计、帮助）"."""
    return " / ".join(b.name + (f"（{'、'.join(s.name for s in b.sub)}）" if b.sub else "") for b in MENU)


def paths() -> dict[str, str]:
    """Each leaf button's name → how people are told to reach it: "上报舆情", "更多 → 舆情看板"."""
    out: dict[str, str] = {}
    for b in MENU:
        for leaf in b.sub or (b,):
            out[leaf.name] = f"{b.name} → {leaf.name}" if b.sub else leaf.name
    return out


def where(name: str) -> str:
    """The quoted way to a leaf button, for text people read: 菜单“更多 → 舆情看板”."""
    return f"菜单“{paths()[name]}”"


def click_keys() -> set[str]:
    """The EventKeys of every click button (each must have a handler in handlers/registry.py CLICKS)."""
    return {leaf.key for b in MENU for leaf in (b.sub or (b,)) if leaf.key}
