"""签收: the card button (template_card_event), the text command, and 签收 without 编号 (the one item owed, a pick)."""

from __future__ import annotations

from core.clock import show
from handlers import flows
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.steps import code_or_pick, starts
from models.procedure import Act
from workflow.incident.acknowledge import acknowledge
from workflow.views import owed


@command("签收")
def ack_command(ctx: Ctx) -> str:
    """`签收 <编号>`; `签收` alone signs for the one item the person's unit has to acknowledge (several: a pick)."""
    got = code_or_pick(ctx, Act.acknowledge, "")
    return got if isinstance(got, str) else ack_step(ctx, got[0])


@starts(Act.acknowledge)
def ack_step(ctx: Ctx, code: str) -> str:
    """签收 item code for the person's unit (the command, a pick and a `do:acknowledge:<编号>` button share it)."""
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
    _end_pick(ctx, result.item.code)
    row = result.assignment
    if result.already:
        return f"{result.item.code} 已由{result.by_name}于 {show(row.acknowledged_at)} 签收。"
    return f"已签收 {result.item.code}。{_next_step(result.item.code, row.part)}"


def _end_pick(ctx: Ctx, code: str) -> None:
    """A 签收 button pressed while the person is asked which item to 签收, for one of them: the question is answered."""
    opened = flows.current(ctx)
    if opened is None or opened[0].key != owed.PICK_FLOW or opened[1].get("act") != Act.acknowledge.value:
        return
    if code in opened[1].get("codes", []):
        flows.end(ctx, owed.PICK_FLOW)


def _next_step(code: str, part: str) -> str:
    """What the unit does next: the lead unit reports first (首报); a co-handler supports it (协办)."""
    if part == "lead":
        return "请尽快核实情况并首报。"
    return f"贵单位为协办单位，请配合主办单位核实处置；协办材料可发送“书面报告 {code} 内容”。"
