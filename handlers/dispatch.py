"""交办 (office only): grade an item and dispatch it to units."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.registry import command
from models import Role
from workflow import render
from workflow.dispatch import USAGE, dispatch, parse_order


@command("交办", roles=(Role.office,), denied="只有领导小组办公室可以定级交办。")
def dispatch_command(ctx: Ctx) -> str:
    """`交办 <编号> <单位>[,协办…] [等级]`."""
    if not ctx.args:
        return USAGE
    item = dispatch(ctx.session, ctx.person, parse_order(ctx.args), ctx.now, ctx.config)
    units = "、".join(f"{r.unit.name}（{'主办' if r.part == 'lead' else '协办'}）" for r in item.units)
    return (f"已交办 {item.code}《{item.title}》\n等级：{render.grade_name(item.grade)}\n承办：{units}\n"
            "签收卡片已发给承办单位负责人，并已抄送局办公室。")
