"""Decide which handler answers an incoming message or event (the registry's single entry point)."""

from __future__ import annotations

from handlers import (  # noqa: F401 - importing them registers their commands, clicks, cards and flows
    acknowledge,
    approve,
    assessment,
    brief,
    consult,
    dispatch,
    escalation,
    extension,
    flows,
    followup,
    guided,
    help,
    patrol,
    progress,
    query,
    report,
    statement,
    written,
)
from handlers.context import Ctx
from handlers.registry import CARD_PREFIXES, CLICKS, COMMANDS, MESSAGE_TYPES, allowed, split_command
from models.codes import parse_card_key


def _command(ctx: Ctx, word: str, rest: str) -> str | None:
    route = COMMANDS[word]
    if not allowed(route, ctx):
        return route.denied
    ctx.args = rest
    return route.handler(ctx)


def _text(ctx: Ctx) -> str | None:
    opened = flows.current(ctx)
    if opened is None:
        word, rest = split_command(ctx.msg.content)
        return _command(ctx, word, rest) if word else help.fallback(ctx)
    flow, state = opened
    word, rest = split_command(ctx.msg.content, strict=True)
    if not word or word in flow.words:
        return flow.on_text(ctx, state)  # prose and the flow's own words belong to the conversation
    reply = _command(ctx, word, rest)  # a command is always a command, never content
    after = flows.current(ctx)
    if after is None or after[0].key != flow.key:
        return reply
    return f"{reply}\n\n{flows.still_open(flow)}" if reply else flows.still_open(flow)


def _event(ctx: Ctx) -> str | None:
    msg = ctx.msg
    if msg.event == "click":
        route = CLICKS.get(msg.event_key)
        return route.handler(ctx) if route else help.fallback(ctx)
    if msg.event == "template_card_event":
        parsed = parse_card_key(msg.event_key)
        route = CARD_PREFIXES.get(parsed[0]) if parsed else None
        return route.handler(ctx) if route else "这张卡片已失效，请发送“我的待办”查看。"
    return None


def _media(ctx: Ctx) -> str | None:
    """A link or an image: to the open conversation if it takes one, else the registered handler."""
    opened = flows.current(ctx)
    if opened is not None:
        flow, state = opened
        step = {"image": flow.on_image, "link": flow.on_link}.get(ctx.msg.msg_type)
        if step is not None:
            return step(ctx, state)
        if ctx.msg.msg_type in MESSAGE_TYPES:
            return f"您正在{flow.doing}，请先用文字完成它（或{flow.way_out}），再发送链接或图片。"
    r = MESSAGE_TYPES.get(ctx.msg.msg_type)
    return r.handler(ctx) if r else help.UNSUPPORTED


def route(ctx: Ctx) -> str | None:
    """Run the handler for ctx.msg and return the reply text (None = no reply)."""
    if ctx.msg.msg_type == "text":
        return _text(ctx)
    if ctx.msg.msg_type == "event":
        return _event(ctx)
    return _media(ctx)
