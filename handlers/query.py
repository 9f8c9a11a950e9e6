"""我的待办 and 查询 <编号>."""

from __future__ import annotations

from core import args
from handlers.context import Ctx
from handlers.registry import click, command
from workflow.views.query import status, todos


@command("我的待办", "待办", alone=True)
@click("TODO")
def todo_command(ctx: Ctx) -> str:
    """List what the person owes, with times."""
    lines = todos(ctx.session, ctx.person, ctx.now)
    if not lines:
        return "您目前没有待办事项。"
    return f"您有 {len(lines)} 项待办：\n" + "\n".join(lines)


@command("查询")
def query_command(ctx: Ctx) -> str:
    """`查询 <编号>`: state and history, for people involved."""
    code, _ = args.split_code(ctx.args)
    if not code:
        return "请写上编号，例如：查询 YQ-20261126-003"
    return status(ctx.session, ctx.person, code)
