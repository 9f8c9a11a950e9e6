"""首报, 续报, 处置报告 and the 已口头汇报 button: the unit's reports that meet its clocks."""

from __future__ import annotations

from core import args
from handlers.cards import clock_of_click, mark_pressed
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs
from models.procedure import CLOCK_CARDS, Act
from models.state import OPEN_CLOCK_STATES
from workflow.engine.errors import Refusal
from workflow.incident.progress import first_report, handling_report, progress_report


def split_code(ctx: Ctx, usage: str) -> tuple[str, str]:
    """Return (编号, rest of the text) from ctx.args (core.args.split_code: “YQ-…：内容” too), or refuse with usage."""
    code, rest = args.split_code(ctx.args)
    if not code:
        raise Refusal(usage)
    return code, rest


FIRST_USAGE = "格式：首报 <编号> <内容>，例如：首报 YQ-20261126-003 已核实，系……（只欠一条舆情的首报时可以不写编号）"
PROGRESS_USAGE = "格式：续报 <编号> <最新进展>，例如：续报 YQ-20261126-003 当事人已道歉……"
HANDLING_USAGE = "格式：处置报告 <编号> <处置情况与结果>"


@command("首报")
def first_command(ctx: Ctx) -> str:
    """`首报 <编号> <内容>`: the first report; `首报 <内容>` when the person owes it on one item."""
    got = code_or_pick(ctx, Act.first_report, FIRST_USAGE)
    return got if isinstance(got, str) else first_step(ctx, *got)


@runs(Act.first_report)
def first_step(ctx: Ctx, code: str, text: str) -> str:
    """Record the 首报 text for item code (the command, the button's conversation and the pick share it)."""
    item = first_report(ctx.session, ctx.person, code, text, ctx.config, ctx.now)
    return f"已记录 {item.code} 的首报，已报办公室和分管领导。书面报告请发送“书面报告 {item.code}”。"


@command("续报")
def progress_command(ctx: Ctx) -> str:
    """`续报 <编号> <内容>`: progress reports until the item is closed (首报要快、续报要准); 编号 optional."""
    got = code_or_pick(ctx, Act.progress_report, PROGRESS_USAGE)
    return got if isinstance(got, str) else progress_step(ctx, *got)


@runs(Act.progress_report)
def progress_step(ctx: Ctx, code: str, text: str) -> str:
    """Record a 续报 text for item code."""
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
    mark_pressed(ctx, CLOCK_CARDS, clock.id, f"{ctx.person.name} 已口头汇报", item)
    return f"已记录 {item.code} 的口头首报。书面报告请发送“书面报告 {item.code}”。"


@command("处置报告", "处置情况")
def handling_command(ctx: Ctx) -> str:
    """`处置报告 <编号> <内容>`: handling and outcome, due within 24 h of discovery; 编号 optional on one item."""
    got = code_or_pick(ctx, Act.handling_report, HANDLING_USAGE)
    return got if isinstance(got, str) else handling_step(ctx, *got)


@runs(Act.handling_report)
def handling_step(ctx: Ctx, code: str, text: str) -> str:
    """Record the handling report text for item code."""
    item = handling_report(ctx.session, ctx.person, code, text, ctx.now)
    return f"已记录 {item.code} 的处置情况，已报办公室和分管领导。"
