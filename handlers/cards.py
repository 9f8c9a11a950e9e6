"""Helpers for card clicks: mark the clicked card for all its recipients."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Ctx
from models import Card, Item
from models.clock import Clock
from models.codes import parse_card_key
from workflow.engine.cards import finish_cards, stamped
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.views import render

STALE = "这张卡片已失效。"


def is_row_id(text: str) -> bool:
    """Return True for an ASCII decimal that fits a database id (a card key is never trusted further)."""
    return text.isascii() and text.isdecimal() and len(text) <= 9


def key_parts(ctx: Ctx, count: int, stale: str = STALE, numeric: int | None = None) -> list[str]:
    """Return the count fields after the prefix of the clicked button's key, or refuse with stale.

    numeric: the index of a field that must be a number (a row id).
    """
    parsed = parse_card_key(ctx.msg.event_key)
    parts = parsed[1] if parsed else []
    if len(parts) != count or (numeric is not None and not is_row_id(parts[numeric])):
        raise Refusal(stale)
    return parts


def clicked(ctx: Ctx) -> tuple[str, str] | None:
    """Return (task_id, response_code) of the click being answered, if WeCom gave a response code."""
    return (ctx.msg.task_id, ctx.msg.response_code) if ctx.msg.response_code else None


def mark_clicked_card(ctx: Ctx, label: str, item: Item | None = None) -> Card | None:
    """Replace the clicked card's button with label for every recipient (using the click's response code)."""
    card_row = ctx.session.scalar(select(Card).where(Card.task_id == ctx.msg.task_id))
    if card_row is None or not ctx.msg.response_code:
        return card_row
    finish_cards(
        ctx.session, item, [card_row], label, ctx.person.userid, ctx.now, ctx.config.wecom.agent_id, clicked(ctx)
    )
    return card_row


def mark_own_card(ctx: Ctx, label: str, item: Item | None = None) -> None:
    """Replace the clicked card's button with label for the clicking person only (cards asking each recipient)."""
    if not ctx.msg.response_code:
        return
    emit(
        ctx.session,
        [],
        render.card_done(
            ctx.msg.response_code, [ctx.person.userid], ctx.config.wecom.agent_id, stamped(label, ctx.now)
        ),
        f"update:{ctx.msg.task_id}:{ctx.msg.response_code}",
        ctx.now,
        item,
        kind="update_card",
        task_id=ctx.msg.task_id,
    )


def clock_of_click(ctx: Ctx) -> tuple[Clock, Item]:
    """Return the clock named by a `<action>:<clock id>` button key and its item, or refuse politely."""
    clock = ctx.session.get(Clock, int(key_parts(ctx, 1, numeric=0)[0]))
    item = ctx.session.get(Item, clock.item_id) if clock else None
    if clock is None or item is None:
        raise Refusal("这张卡片已失效。")
    return clock, item
