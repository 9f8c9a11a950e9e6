"""The multi-step conversations, declared: what each is called, what it takes, how long it waits, the way out.

A conversation is started by a handler (`begin`) and continued by the router with whatever the person sends
next. During a conversation only a declared command is a command (handlers/registry.py `read_in_conversation`:
a flow word alone, a whole-command word alone such as 帮助, or a command word, a space or colon and a 编号);
everything else, including a paragraph that begins “处置情况：…”, is the conversation's content. Either way the
person is told how a line that could mean both was taken and how to say the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Ctx
from workflow.engine.errors import Refusal

Step = Callable[[Ctx, dict[str, Any]], str]


@dataclass(frozen=True)
class Flow:
    """One conversation: its key in the stored state, its Chinese name, its steps and its own words."""

    key: str
    doing: str  # "填写书面报告": shown as "您正在填写书面报告"
    on_text: Step
    on_image: Step | None = None
    on_link: Step | None = None
    words: frozenset[str] = field(default_factory=lambda: frozenset({"取消"}))
    way_out: str = "回复“取消”放弃"
    ttl: int | None = None  # seconds of silence before it lapses (None: [app] conversation_timeout)
    drafts: bool = False  # it holds typed work: another conversation may not replace it


FLOWS: dict[str, Flow] = {}


def declare(flow: Flow) -> Flow:
    """Register a flow; a key declared twice is a programming error found at start-up."""
    if flow.key in FLOWS:
        raise ValueError(f"conversation flow {flow.key!r} declared twice")
    FLOWS[flow.key] = flow
    return flow


def begin(ctx: Ctx, key: str, state: dict[str, Any]) -> None:
    """Open (or keep open) the person's conversation of flow key with state; never throw away another's draft."""
    flow, opened = FLOWS[key], current(ctx)
    if opened is not None and opened[0].key != key and opened[0].drafts:
        other = opened[0]
        raise Refusal(f"您正在{other.doing}，请先完成它或{other.way_out}，再{flow.doing}。")
    ttl = max(ctx.config.conversation_timeout, flow.ttl) if flow.ttl else None
    ctx.conv.put(ctx.person.userid, {**state, "flow": key}, ttl=ttl)


def end(ctx: Ctx, key: str) -> None:
    """Close the person's conversation if it is flow key (one-shot commands never close another's draft)."""
    opened = current(ctx)
    if opened is not None and opened[0].key == key:
        ctx.conv.clear(ctx.person.userid)


def current(ctx: Ctx) -> tuple[Flow, dict[str, Any]] | None:
    """Return the person's open conversation and its state, if any."""
    state = ctx.conv.get(ctx.person.userid)
    flow = FLOWS.get(str(state.get("flow"))) if state else None
    return (flow, state) if flow is not None and state is not None else None


def flow_word(ctx: Ctx) -> str:
    """The text the person sent, stripped, to compare with the flow's words; "" when it came after “正文：”."""
    return "" if ctx.verbatim else (ctx.msg.content or "").strip()


def still_open(flow: Flow) -> str:
    """The line added to a command's answer when it was typed during a conversation."""
    return f"（您正在{flow.doing}，还没有完成；可以继续，或{flow.way_out}。）"


def taken_as_command(flow: Flow, word: str) -> str:
    """The line added when a command with a 编号 was typed during a conversation: how to make it content instead."""
    return f"（这一条已按“{word}”命令办理，没有作为{flow.doing}的内容；如果它是内容，请在开头加上“正文：”再发送。）"


def taken_as_content(flow: Flow, word: str, alone: bool) -> str:
    """The line added when content began with a command word: how to run the command instead."""
    how = f"单独发送“{word}”" if alone else f"写成“{word} <编号> …”"
    return f"（这一条以“{word}”开头，已作为{flow.doing}的内容处理，没有当作命令；要使用“{word}”命令，请{how}。）"
