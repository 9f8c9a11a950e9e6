"""Decide which handler answers an incoming message or event (the registry's single entry point)."""

from __future__ import annotations

import dataclasses
from typing import Any

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
    merge,
    patrol,
    progress,
    query,
    report,
    statement,
    steps,
    written,
)
from handlers.context import Ctx
from handlers.registry import (
    CARD_PREFIXES,
    CLICKS,
    COMMANDS,
    MESSAGE_TYPES,
    Reading,
    allowed,
    read_in_conversation,
    split_command,
)
from models.codes import parse_card_key
from workflow.engine.errors import Refusal


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
    reading = read_in_conversation(ctx.msg.content, flow.words)
    if not reading.word:
        return _content(ctx, flow, state, reading)
    try:  # a declared command is a command, never content; refused or not, the person hears the draft is open
        with ctx.session.begin_nested():
            reply = _command(ctx, reading.word, reading.rest)
    except Refusal as exc:
        reply = exc.message
    after = flows.current(ctx)
    if after is None or after[0].key != flow.key:
        return reply
    told = flows.still_open(flow)
    if not COMMANDS[reading.word].alone:
        told += "\n" + flows.taken_as_command(flow, reading.word)
    return f"{reply}\n\n{told}" if reply else told


def _content(ctx: Ctx, flow: flows.Flow, state: dict[str, Any], reading: Reading) -> str | None:
    """Hand a content line to the open conversation; say so when it began with a command word."""
    if not reading.content:
        return f"这条消息没有内容。{flows.still_open(flow)}"
    ctx.verbatim = reading.verbatim
    if reading.content != ctx.msg.content:
        ctx.msg = dataclasses.replace(ctx.msg, content=reading.content)
    reply = flow.on_text(ctx, state)
    if not reading.looks_like:
        return reply
    note = flows.taken_as_content(flow, reading.looks_like, COMMANDS[reading.looks_like].alone)
    return f"{reply}\n{note}" if reply else note


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
