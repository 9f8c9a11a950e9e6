"""我的待办 and 查询 <编号>."""

from __future__ import annotations

from core import args
from handlers.context import Ctx
from handlers.registry import click, command
from workflow.views.query import send_todo_card, status, todos


@command("我的待办", "待办", alone=True)
@click("TODO")
def todo_command(ctx: Ctx) -> str:
    """List what the person owes, with times, then a card with one button per step a button can take."""
    lines = todos(ctx.session, ctx.person, ctx.now)
    if not lines:
        return "您目前没有待办事项。"
    key = f"{ctx.person.userid}:{ctx.msg.msg_id or ctx.msg.create_time}"
    buttons = send_todo_card(ctx.session, ctx.person, key, ctx.now)
    tail = f"\n（其中 {buttons} 项可以直接点“我的待办”卡片上的按钮办理，不用输入编号。）" if buttons else ""
    return f"您有 {len(lines)} 项待办：\n" + "\n".join(lines) + tail


@command("查询")
def query_command(ctx: Ctx) -> str:
    """`查询 <编号>`: state and history, for people involved."""
    code, _ = args.split_code(ctx.args)
    if not code:
        return "请写上编号，例如：查询 YQ-20261126-003"
    return status(ctx.session, ctx.person, code)
