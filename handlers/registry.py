"""Route commands, menu clicks and card clicks to handlers, with a declared permission per route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core import args
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
    alone: bool = False  # the word by itself is a whole command (帮助, 我的待办); else it needs a 编号 after it
    key: bool = False  # its argument is an assessment fact key (申诉 C12), not a 编号


COMMANDS: dict[str, Route] = {}
CLICKS: dict[str, Route] = {}
CARD_PREFIXES: dict[str, Route] = {}
MESSAGE_TYPES: dict[str, Route] = {}


def _register(table: dict[str, Route], key: str, route: Route) -> None:
    """Add key to table; a key registered twice is a programming error, found when the module is imported."""
    if key in table and table[key].handler is not route.handler:
        raise ValueError(f"{key!r} is registered twice ({table[key].handler.__name__}, {route.handler.__name__})")
    table[key] = route


def command(
    *words: str,
    roles: tuple[Role, ...] = (),
    denied: str = "您没有权限使用这个功能。",
    alone: bool = False,
    key: bool = False,
) -> Decorator:
    """Register a text command by its first word(s); alone: the word by itself is a whole command; key: it takes
    an assessment fact key (C12) instead of a 编号."""

    def deco(fn: Handler) -> Handler:
        for w in words:
            _register(COMMANDS, w, Route(fn, roles, denied, alone, key))
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


COLONS = "：:"
CONTENT_MARK = ("正文：", "正文:")  # a line beginning with this is content, whatever follows


@dataclass(frozen=True)
class Reading:
    """How a line typed during a conversation is taken: a command (word, rest) or content; looks_like names the
    command word a content line begins with (the person is told how to run it instead)."""

    word: str
    rest: str
    content: str
    looks_like: str = ""
    verbatim: bool = False  # it came after “正文：”: content even when it is a flow word (取消, 提交)


def read_in_conversation(text: str, flow_words: frozenset[str]) -> Reading:
    """Decide what a line typed during an open conversation is (docs/flows.md “什么算命令”).

    A command is: a flow's own word alone (提交, 取消, 跳过 …, a final 。 or ！ allowed); a command word alone that
    is a whole command (帮助, 我的待办 …); or a command word, then a space or a colon (ASCII or full-width), then
    a 编号 that ends at a space, a punctuation mark or the end (申诉/维持/撤销: a fact key such as C12). Everything
    else is content (“批示：G20峰会期间……”, “续报：YQ-20261206-007号舆情……”); a line that starts with “正文：” is
    content without that mark, flow words included.
    """
    t = text.strip()
    for mark in CONTENT_MARK:
        if t.startswith(mark):
            return Reading("", "", t[len(mark) :].strip(), verbatim=True)
    bare = t.rstrip("。.！!")
    if bare in flow_words:
        return Reading("", "", bare)
    route = COMMANDS.get(bare)
    if route is not None and route.alone:
        return Reading(bare, "", "")
    word, rest = split_command(t, strict=True)
    if not word:
        return Reading("", "", t)
    sep = t[len(word) : len(word) + 1]
    if sep and (sep.isspace() or sep in COLONS) and args.starts_with_argument(rest, COMMANDS[word].key):
        return Reading(word, rest, "")
    return Reading("", "", t, looks_like=word)


def allowed(route: Route, ctx: Ctx) -> bool:
    """Return True if the person holds one of the route's roles (or it needs none)."""
    return not route.roles or any(ctx.person.has(r) for r in route.roles)
