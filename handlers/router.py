"""Decide which handler answers an incoming message or event (the registry's single entry point)."""

from __future__ import annotations

from handlers import (  # noqa: F401
    acknowledge,
    approve,
    consult,
    dispatch,
    escalation,
    extension,
    followup,
    help,
    progress,
    query,
    report,
    written,
)
from handlers.context import Ctx
from handlers.registry import CARD_PREFIXES, CLICKS, COMMANDS, MESSAGE_TYPES, allowed, split_command

CONVERSATION_WORDS = {"取消", "提交"}
FLOWS = {"extension": "申请延期", "return_reason": "填写退回意见", "opinion": "填写会商意见", "written": "填写书面报告"}
FREE_TEXT = {
    "written": written.continue_written,
    "return_reason": approve.continue_reason,
    "opinion": consult.continue_opinion,
}


def _text(ctx: Ctx) -> str | None:
    word, rest = split_command(ctx.msg.content)
    state = ctx.conv.get(ctx.person.userid)
    if state and state.get("flow") in FREE_TEXT and not (word and not rest and word not in CONVERSATION_WORDS):
        return FREE_TEXT[state["flow"]](ctx, state)  # typed prose belongs to the conversation; a bare 帮助 does not
    if state and (not word or word in CONVERSATION_WORDS):
        if state.get("flow") == "extension":
            return extension.continue_extension(ctx, state)
        return report.continue_report(ctx, state)
    if not word:
        return help.fallback(ctx)
    route = COMMANDS[word]
    if not allowed(route, ctx):
        return route.denied
    ctx.args = rest
    return route.handler(ctx)


def _event(ctx: Ctx) -> str | None:
    msg = ctx.msg
    if msg.event == "click":
        route = CLICKS.get(msg.event_key)
        return route.handler(ctx) if route else help.fallback(ctx)
    if msg.event == "template_card_event":
        route = CARD_PREFIXES.get(msg.event_key.split(":", 1)[0])
        return route.handler(ctx) if route else "这张卡片已失效，请发送“我的待办”查看。"
    return None


def route(ctx: Ctx) -> str | None:
    """Run the handler for ctx.msg and return the reply text (None = no reply)."""
    if ctx.msg.msg_type == "text":
        return _text(ctx)
    if ctx.msg.msg_type == "event":
        return _event(ctx)
    state = ctx.conv.get(ctx.person.userid)
    flow = state.get("flow") if state else None
    if state is not None and flow == "written" and ctx.msg.msg_type == "image":
        return written.add_photo(ctx, state)
    if flow and flow != "report" and ctx.msg.msg_type in MESSAGE_TYPES:
        return f"您正在{FLOWS.get(flow, '另一项操作')}，请先用文字完成它（或回复“取消”），再发送链接或图片。"
    r = MESSAGE_TYPES.get(ctx.msg.msg_type)
    return r.handler(ctx) if r else help.UNSUPPORTED
