"""The 督办 card's quick actions: 催办 (urge the owners now) and 已知悉."""

from __future__ import annotations

from core.clock import show
from handlers.cards import clock_of_click, mark_pressed
from handlers.context import Ctx
from handlers.registry import card
from models import Item
from models.clock import Clock
from models.procedure import CLOCK_CARDS
from models.state import OPEN_CLOCK_STATES
from workflow.engine import cards
from workflow.engine.deadlines import owners
from workflow.engine.errors import Refusal
from workflow.engine.outbox import emit
from workflow.views import render


def _clock(ctx: Ctx) -> tuple[Clock, Item]:
    clock, item = clock_of_click(ctx)
    if cards.pressed(ctx.session, CLOCK_CARDS, clock.id, ctx.msg.task_id, ctx.person.userid) is None:
        raise Refusal("这张督办卡片不是发给您的，不能操作。")
    return clock, item


@card("urge")
def urge(ctx: Ctx) -> str:
    """催办: tell whoever owes the step, in the clicker's name."""
    clock, item = _clock(ctx)
    if clock.state not in OPEN_CLOCK_STATES:
        mark_pressed(ctx, CLOCK_CARDS, clock.id, f"{clock.label}已完成", item)
        return f"{item.code} 的{clock.label}已经完成了。"
    text = (
        f"【催办】{ctx.person.name}催办 {item.code}《{item.title}》的{clock.label}"
        f"（应于 {show(clock.due_at)} 前完成），请立即办理。"
    )
    emit(
        ctx.session,
        owners(ctx.session, clock),
        render.text(text),
        f"urge:{clock.id}:{ctx.msg.dedupe_key}",
        ctx.now,
        item,
    )
    mark_pressed(ctx, CLOCK_CARDS, clock.id, f"{ctx.person.name} 已催办 {show(ctx.now)}", item)
    return f"已向承办人催办 {item.code} 的{clock.label}。"


@card("seen")
def seen(ctx: Ctx) -> str:
    """已知悉: acknowledge the escalation on the card."""
    clock, item = _clock(ctx)
    mark_pressed(ctx, CLOCK_CARDS, clock.id, f"{ctx.person.name} 已知悉 {show(ctx.now)}", item)
    return f"已知悉 {item.code} 的{clock.label}超时督办。"
