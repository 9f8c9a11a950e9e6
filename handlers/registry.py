"""Route commands, menu clicks and card clicks to handlers, with a declared permission per route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.context import Ctx
from models import Role

Handler = Callable[[Ctx], str | None]
Decorator = Callable[[Handler], Handler]


@dataclass(frozen=True)
class Route:
    """A handler and the roles allowed to use it (empty = anyone in the organisation)."""

    handler: Handler
    roles: tuple[Role, ...] = ()
    denied: str = "您没有权限使用这个功能。"


COMMANDS: dict[str, Route] = {}
CLICKS: dict[str, Route] = {}
CARD_PREFIXES: dict[str, Route] = {}
MESSAGE_TYPES: dict[str, Route] = {}


def _register(table: dict[str, Route], key: str, route: Route) -> None:
    """Add key to table; a key registered twice is a programming error, found when the module is imported."""
    if key in table and table[key].handler is not route.handler:
        raise ValueError(f"{key!r} is registered twice ({table[key].handler.__name__}, {route.handler.__name__})")
    table[key] = route


def command(*words: str, roles: tuple[Role, ...] = (), denied: str = "您没有权限使用这个功能。") -> Decorator:
    """Register a text command by its first word(s)."""

    def deco(fn: Handler) -> Handler:
        for w in words:
            _register(COMMANDS, w, Route(fn, roles, denied))
        return fn

    return deco


def click(*keys: str) -> Decorator:
    """Register a menu click EventKey."""

    def deco(fn: Handler) -> Handler:
        for k in keys:
            _register(CLICKS, k, Route(fn))
        return fn

    return deco


def card(prefix: str) -> Decorator:
    """Register a template-card button key prefix (the part before the first colon)."""

    def deco(fn: Handler) -> Handler:
        _register(CARD_PREFIXES, prefix, Route(fn))
        return fn

    return deco


def message(msg_type: str) -> Decorator:
    """Register a handler for a non-text message type (link, image, …)."""

    def deco(fn: Handler) -> Handler:
        _register(MESSAGE_TYPES, msg_type, Route(fn))
        return fn

    return deco


SEPARATORS = " \t\n\u3000：:，,"  # what may stand between a command word and its arguments (full-width too)


def split_command(text: str, strict: bool = False) -> tuple[str, str]:
    """Return (command word, rest) for text; the word is matched against registered commands, longest first.

    strict (during a conversation): the word must stand alone or be followed by a space or a colon, so prose that
    merely begins with a command word ("上报情况如下") stays prose.
    """
    t = text.strip()
    for word in sorted(COMMANDS, key=len, reverse=True):
        if not t.startswith(word):
            continue
        after = t[len(word) : len(word) + 1]
        if after == "" or after in SEPARATORS or (not strict and not word.isascii()):
            return word, t[len(word) :].lstrip(SEPARATORS).strip()
    return "", t


def allowed(route: Route, ctx: Ctx) -> bool:
    """Return True if the person holds one of the route's roles (or it needs none)."""
    return not route.roles or any(ctx.person.has(r) for r in route.roles)
