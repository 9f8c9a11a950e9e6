"""Helpers for card clicks: parse the pressed button's key; the workflow (workflow.engine.cards) marks the card."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.context import Ctx
from models import Item
from models.clock import Clock
from models.codes import parse_card_key
from models.state import CardPurpose
from workflow.engine import cards
from workflow.engine.errors import Refusal

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


def mark_pressed(
    ctx: Ctx, purposes: Iterable[CardPurpose], subject_id: int, label: str, item: Item | None = None
) -> None:
    """Have the workflow mark the pressed card (one of purposes about subject_id) with label for all its recipients."""
    cards.mark_pressed(
        ctx.session,
        item,
        purposes,
        subject_id,
        clicked(ctx),
        ctx.person.userid,
        label,
        ctx.now,
        ctx.config.wecom.agent_id,
    )


def mark_own_card(ctx: Ctx, label: str, item: Item | None = None) -> None:
    """Have the workflow replace the pressed card's buttons with label for the presser only."""
    cards.mark_for_presser(
        ctx.session, item, clicked(ctx), ctx.person.userid, label, ctx.now, ctx.config.wecom.agent_id
    )


def clock_of_click(ctx: Ctx) -> tuple[Clock, Item]:
    """Return the clock named by a `<action>:<clock id>` button key and its item, or refuse politely."""
    clock = ctx.session.get(Clock, int(key_parts(ctx, 1, numeric=0)[0]))
    item = ctx.session.get(Item, clock.item_id) if clock else None
    if clock is None or item is None:
        raise Refusal("这张卡片已失效。")
    return clock, item
