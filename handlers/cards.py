"""Helpers for card clicks: mark the clicked card for all its recipients."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Ctx
from models import Card, Item
from models.clock import Clock
from workflow import render
from workflow.errors import Refusal
from workflow.outbox import emit


def mark_clicked_card(ctx: Ctx, label: str, item: Item | None = None) -> Card | None:
    """Replace the clicked card's button with label for every recipient (using the click's response code)."""
    card_row = ctx.session.scalar(select(Card).where(Card.task_id == ctx.msg.task_id))
    if card_row is None or not ctx.msg.response_code:
        return card_row
    if card_row.state == "open":
        card_row.state, card_row.decided_by, card_row.decided_at = "done", ctx.person.userid, ctx.now
    emit(ctx.session, [], render.card_done(ctx.msg.response_code, card_row.recipients, ctx.config.wecom.agent_id,
                                           label),
         f"update:{card_row.task_id}:{ctx.msg.response_code}", ctx.now, item, kind="update_card",
         task_id=card_row.task_id)
    return card_row


def mark_own_card(ctx: Ctx, label: str, item: Item | None = None) -> None:
    """Replace the clicked card's button with label for the clicking person only (cards asking each recipient)."""
    if not ctx.msg.response_code:
        return
    emit(ctx.session, [], render.card_done(ctx.msg.response_code, [ctx.person.userid], ctx.config.wecom.agent_id,
                                           label),
         f"update:{ctx.msg.task_id}:{ctx.msg.response_code}", ctx.now, item, kind="update_card",
         task_id=ctx.msg.task_id)


def clock_of_click(ctx: Ctx) -> tuple[Clock, Item]:
    """Return the clock named by a `<action>:<clock id>` button key and its item, or refuse politely."""
    try:
        clock = ctx.session.get(Clock, int(ctx.msg.event_key.split(":")[1]))
    except (IndexError, ValueError):
        clock = None
    item = ctx.session.get(Item, clock.item_id) if clock else None
    if clock is None or item is None:
        raise Refusal("这张卡片已失效。")
    return clock, item
