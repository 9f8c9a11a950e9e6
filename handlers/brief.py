"""快报 / 专报 (upward reports), their approval card, 报送 (recording the sending) and 批示 (a leader's instruction)."""

from __future__ import annotations

from core.clock import show
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.progress import split_code
from handlers.registry import card, command
from workflow.engine.errors import Refusal
from workflow.record import brief


def _ask(ctx: Ctx, kind: str) -> str:
    code, _ = split_code(ctx, f"格式：{kind} <编号>")
    b = brief.request(ctx.session, ctx.config, ctx.person, code, kind, ctx.now)
    return f"已把{kind}（{brief.item_code(ctx.session, b)}）送领导审批；同意后编期号，Word 文件会发给您。"


@command("快报", "舆情快报")
def quick_command(ctx: Ctx) -> str:
    """`快报 <编号>`: the first, fast upward report."""
    return _ask(ctx, "快报")


@command("专报", "舆情专报")
def special_command(ctx: Ctx) -> str:
    """`专报 <编号>`: a later, fuller upward report (also for 续报 upward)."""
    return _ask(ctx, "专报")


@command("报送", "报送上级")
def sent_command(ctx: Ctx) -> str:
    """`报送 <编号> <报送对象>`: record that the approved report was sent upward."""
    code, to = split_code(ctx, "格式：报送 <编号> <报送对象>，例如：报送 YQ-… 县委宣传部、县网信办")
    b = brief.sent(ctx.session, ctx.person, code, to, ctx.now)
    return f"已登记：{b.number}于 {show(ctx.now)} 报送{b.sent_to}。"


@command("批示")
def instruction_command(ctx: Ctx) -> str:
    """`批示 <编号> <内容>`: a leader's instruction, passed on to the units concerned."""
    code, text = split_code(ctx, "格式：批示 <编号> <批示内容>")
    item = brief.instruct(ctx.session, ctx.person, code, text, ctx.now)
    return f"已记录您对 {item.code} 的批示，并转给承办单位和办公室。"


@card("brief")
def brief_button(ctx: Ctx) -> str:
    """Key `brief:<id>:ok|back` on the approval card."""
    brief_id, choice = key_parts(ctx, 2, numeric=0)
    if choice not in ("ok", "back"):
        raise Refusal("这张上报审批卡片已失效。")
    return brief.decide(ctx.session, ctx.config, ctx.person, int(brief_id), choice == "ok", ctx.now, clicked(ctx))
