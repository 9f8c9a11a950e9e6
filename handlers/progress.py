"""首报, 续报, 处置报告 and the 已口头汇报 button: the unit's reports that meet its clocks."""

from __future__ import annotations

from core import args
from handlers.cards import clock_of_click, mark_clicked_card
from handlers.context import Ctx
from handlers.registry import card, command
from models.state import OPEN_CLOCK_STATES
from workflow.engine.errors import Refusal
from workflow.incident.progress import first_report, handling_report, progress_report


def split_code(ctx: Ctx, usage: str) -> tuple[str, str]:
    """Return (编号, rest of the text) from ctx.args (core.args.split_code: “YQ-…：内容” too), or refuse with usage."""
    code, rest = args.split_code(ctx.args)
    if not code:
        raise Refusal(usage)
    return code, rest


@command("首报")
def first_command(ctx: Ctx) -> str:
    """`首报 <编号> <内容>`: the first report."""
    code, text = split_code(ctx, "格式：首报 <编号> <内容>，例如：首报 YQ-20261126-003 已核实，系……")
    item = first_report(ctx.session, ctx.person, code, text, ctx.config, ctx.now)
    return f"已记录 {item.code} 的首报，已报办公室和分管领导。书面报告请发送“书面报告 {item.code}”。"


@command("续报")
def progress_command(ctx: Ctx) -> str:
    """`续报 <编号> <内容>`: progress reports until the item is closed (首报要快、续报要准)."""
    code, text = split_code(ctx, "格式：续报 <编号> <最新进展>，例如：续报 YQ-20261126-003 当事人已道歉……")
    item, first = progress_report(ctx.session, ctx.person, code, text, ctx.config, ctx.now)
    if first:
        return f"已记录为 {item.code} 的首报，已报办公室和分管领导。之后的进展请继续“续报”。"
    return f"已记录 {item.code} 的续报，已报办公室和分管领导。"


@card("oral")
def oral_button(ctx: Ctx) -> str:
    """The 已口头汇报 button on a first-report reminder: records an oral first report."""
    clock, item = clock_of_click(ctx)
    if clock.state not in OPEN_CLOCK_STATES:
        return f"{item.code} 的{clock.label}已完成，无需再报。"
    first_report(ctx.session, ctx.person, item.code, "", ctx.config, ctx.now, oral=True)
    mark_clicked_card(ctx, f"{ctx.person.name} 已口头汇报", item)
    return f"已记录 {item.code} 的口头首报。书面报告请发送“书面报告 {item.code}”。"


@command("处置报告", "处置情况")
def handling_command(ctx: Ctx) -> str:
    """`处置报告 <编号> <内容>`: handling and outcome, due within 24 h of discovery."""
    code, text = split_code(ctx, "格式：处置报告 <编号> <处置情况与结果>")
    item = handling_report(ctx.session, ctx.person, code, text, ctx.now)
    return f"已记录 {item.code} 的处置情况，已报办公室和分管领导。"
