"""签收: the card button (template_card_event) and the text command."""

from __future__ import annotations

from core import args
from core.clock import show
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.registry import card, command
from workflow.incident.acknowledge import acknowledge


@command("签收")
def ack_command(ctx: Ctx) -> str:
    """`签收 <编号>`."""
    code, _ = args.split_code(ctx.args)
    if not code:
        return "请写上编号，例如：签收 YQ-20261126-003"
    result = acknowledge(ctx.session, ctx.person, code, ctx.now, config=ctx.config)
    item, row = result.item, result.assignment
    if result.already:
        return f"{item.code} 已由{result.by_name}于 {show(row.acknowledged_at)} 签收，无需重复签收。"
    return f"已签收 {item.code}《{item.title}》。{_next_step(item.code, row.part)}"


@card("ack")
def ack_card(ctx: Ctx) -> str | None:
    """The 签收 button: key `ack:<编号>:<单位key>`; only the card's intended unit leads may press it."""
    code, unit_key = key_parts(ctx, 2, "这张卡片已失效，请发送“我的待办”查看。")
    result = acknowledge(
        ctx.session, ctx.person, code, ctx.now, unit_key=unit_key, config=ctx.config, clicked=clicked(ctx)
    )
    row = result.assignment
    if result.already:
        return f"{result.item.code} 已由{result.by_name}于 {show(row.acknowledged_at)} 签收。"
    return f"已签收 {result.item.code}。{_next_step(result.item.code, row.part)}"


def _next_step(code: str, part: str) -> str:
    """What the unit does next: the lead unit reports first (首报); a co-handler supports it (协办)."""
    if part == "lead":
        return "请尽快核实情况并首报。"
    return f"贵单位为协办单位，请配合主办单位核实处置；协办材料可发送“书面报告 {code} 内容”。"
