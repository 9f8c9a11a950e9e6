"""申请延期 and the supervisor's 同意 / 不同意 buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import show
from core.durations import format_duration
from handlers import flows
from handlers.cards import clock_of_click, key_parts, mark_clicked_card
from handlers.context import Ctx
from handlers.registry import card, command
from models import Role
from workflow import extension
from workflow.clocks import waive
from workflow.report import find_item


@command("申请延期", "延期")
def extension_command(ctx: Ctx) -> str:
    """`申请延期 <编号> <时长> <原因>`."""
    if not ctx.args:
        return extension.USAGE
    ext = extension.request(ctx.session, ctx.person, ctx.args, ctx.now)
    return (
        f"延期申请已提交分管领导审批（申请延长 {format_duration(timedelta(seconds=ext.seconds))}）。"
        "获批前原时限照常计算，请继续办理。"
    )


@card("ext")
def extension_button(ctx: Ctx) -> str:
    """The 同意 / 不同意 buttons: key `ext:<id>:yes|no`; only the intended decider may decide, once."""
    ext_id, choice = key_parts(ctx, 2, numeric=0)
    ext, note = extension.decide(ctx.session, ctx.person, int(ext_id), choice == "yes", ctx.now)
    label = f"{ctx.person.name} 已{'同意' if ext.state == 'approved' else '退回'} {show(ext.decided_at or ctx.now)}"
    mark_clicked_card(ctx, label)
    return note


@command("免除时限", roles=(Role.office,), denied="只有领导小组办公室可以免除时限。")
def waive_command(ctx: Ctx) -> str:
    """`免除时限 <编号> <时限名> <原因>`: the office waives a clock (e.g. the item turned out to be a duplicate)."""
    parts = ctx.args.split(maxsplit=2)
    if len(parts) < 3:
        return "格式：免除时限 <编号> <首报|书面报告|处置情况报告|留言答复|通报相关单位> <原因>"
    item = find_item(ctx.session, parts[0])
    clock = waive(ctx.session, item, parts[1], parts[2], ctx.person.userid, ctx.now)
    return f"已免除 {item.code} 的{clock.label}时限，不再提醒或督办。"


@card("askext")
def ask_extension_button(ctx: Ctx) -> str:
    """The 申请延期 button on a final warning: ask for the time and the reason in the chat."""
    clock, item = clock_of_click(ctx)
    if clock.state != "open":
        return f"{item.code} 的{clock.label}已{'完成' if clock.state.startswith('met') else '超时'}，无需申请延期。"
    flows.begin(ctx, "extension", {"code": item.code})
    return f"申请 {item.code} {clock.label}延期：请回复“时长 原因”，例如“30m 需要补充现场核查材料”。\n回复“取消”放弃。"


def continue_extension(ctx: Ctx, state: dict[str, Any]) -> str:
    """The answer to the 申请延期 button: "<时长> <原因>"."""
    text = ctx.msg.content.strip()
    if text == "取消":
        flows.end(ctx, "extension")
        return "已取消延期申请。"
    ext = extension.request(ctx.session, ctx.person, f"{state['code']} {text}", ctx.now)
    flows.end(ctx, "extension")
    return (
        f"延期申请已提交分管领导审批（申请延长 {format_duration(timedelta(seconds=ext.seconds))}）。"
        "获批前原时限照常计算，请继续办理。"
    )


flows.declare(flows.Flow("extension", "申请延期", continue_extension))
