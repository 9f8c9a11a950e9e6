"""交办 (office only): grade an item and dispatch it to units."""

from __future__ import annotations

from core import args
from core.clock import show
from handlers.context import Ctx
from handlers.registry import command
from handlers.steps import code_or_pick, open_step, runs
from models import Role
from models.item import PART_NAMES
from models.procedure import Act
from workflow.engine import wording
from workflow.engine.clocks import open_clocks, overdue_at_dispatch
from workflow.incident.dispatch import USAGE, dispatch, parse_order, regrade
from workflow.views import render


@command("交办", roles=(Role.office,), denied="只有领导小组办公室可以定级交办。")
def dispatch_command(ctx: Ctx) -> str:
    """`交办 [<编号>] <单位>[,协办…] [等级]`: the 编号 may be left out when one reported item waits for it."""
    got = code_or_pick(ctx, Act.dispatch, USAGE)
    if isinstance(got, str):
        return got
    code, text = got
    if not ctx.args.strip():
        return open_step(ctx, Act.dispatch, code)  # `交办` alone, one item waiting: ask for the units and the grade
    return dispatch_step(ctx, code, text)  # `交办 <编号>` alone is refused with the usage, as before


@runs(Act.dispatch)
def dispatch_step(ctx: Ctx, code: str, text: str) -> str:
    """Dispatch item code as text orders (units, grade …; the usage when it names no unit)."""
    order = parse_order(f"{code} {text}", ctx.now)
    item = dispatch(ctx.session, ctx.person, order, ctx.now, ctx.config)
    grade = render.grade_name(item.grade)
    if order.grade_word and order.grade_word != grade:
        grade += f"（{order.grade_word}按{grade}处置）"
    units = "、".join(f"{r.unit.name}（{PART_NAMES[r.part]}）" for r in item.units)
    late = "、".join(wording.at_dispatch(c, item) for c in overdue_at_dispatch(ctx.session, item))
    note = f"\n注意：{late}，迟延记在交办环节，不计承办单位迟报；承办单位已被告知立即办理。" if late else ""
    return (
        f"已交办 {item.code}《{item.title}》\n等级：{grade}\n承办：{units}\n"
        f"签收卡片已发给承办单位负责人，并已抄送局办公室。{note}"
    )


@command("定级", "调整等级")  # who may: the table (the office, the lead unit's supervisor), via workflow
def regrade_command(ctx: Ctx) -> str:
    """`定级 <编号> <一般|较大|重大>`: raise or lower the grade; open deadlines are recomputed."""
    code, rest = args.split_code(ctx.args)
    parts = [code, *args.words(rest)] if code else []
    if len(parts) != 2:
        return "格式：定级 <编号> <一般|较大|重大>"
    item = regrade(ctx.session, ctx.person, parts[0], parts[1], ctx.config, ctx.now)
    due = "；".join(f"{c.label}最迟 {show(c.due_at)}" for c in open_clocks(ctx.session, item))
    return f"{item.code} 已定为{render.grade_name(item.grade)}。" + (f"\n时限已重算：{due}" if due else "")
