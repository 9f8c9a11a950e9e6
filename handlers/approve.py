"""The approval card's buttons (批准 / 退回修改 / 升级为重大) and the supervisor's reason for a return."""

from __future__ import annotations

from typing import Any

from handlers import flows
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.progress import split_code
from handlers.registry import card, command
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.incident.approval import decide, give_reason
from workflow.incident.submission import current


@card("appr")
def approval_button(ctx: Ctx) -> str:
    """Key `appr:<submission id>:ok|back|major`; only the card's recipients decide, once."""
    sub_id, choice = key_parts(ctx, 2, "这张审批卡片已失效。", numeric=0)
    ref = int(sub_id)
    decision = decide(ctx.session, ctx.person, ref, choice, ctx.now, ctx.config, clicked(ctx))
    if decision.ask_reason:
        flows.begin(ctx, "return_reason", {"submission": ref})
    return decision.note


def continue_reason(ctx: Ctx, state: dict[str, Any]) -> str:
    """The supervisor's reply after 退回修改: the reason, sent to the unit (“跳过” sends none)."""
    text = ctx.msg.content.strip()
    flows.end(ctx, "return_reason")
    if flows.flow_word(ctx) == "取消":
        text = "跳过"
    return give_reason(ctx.session, ctx.person, int(state["submission"]), text, ctx.now, ctx.config)


def _latest(ctx: Ctx, usage: str) -> tuple[int, str]:
    """Return (id of the item's latest written report, the rest of the text) for `批准/退回 <编号> …`."""
    code, rest = split_code(ctx, usage)
    sub = current(ctx.session, find_item(ctx.session, code))
    if sub is None:
        raise Refusal(f"{code.upper()} 还没有报送书面报告，无需审核。")
    return sub.id, rest


@command("批准")
def approve_command(ctx: Ctx) -> str:
    """`批准 <编号>`: the same as the card's 批准 button (only for the card's recipients)."""
    sub_id, _ = _latest(ctx, "格式：批准 <编号>")
    return decide(ctx.session, ctx.person, sub_id, "ok", ctx.now, ctx.config).note


@command("退回修改", "退回")
def return_command(ctx: Ctx) -> str:
    """`退回修改 <编号> [修改意见]`: the same as the card's 退回修改 button; the reason may follow on the same line."""
    sub_id, reason = _latest(ctx, "格式：退回修改 <编号> <修改意见>")
    decision = decide(ctx.session, ctx.person, sub_id, "back", ctx.now, ctx.config)
    if not decision.ask_reason:
        return decision.note
    if reason.strip():
        return give_reason(ctx.session, ctx.person, sub_id, reason, ctx.now, ctx.config)
    flows.begin(ctx, "return_reason", {"submission": sub_id})
    return decision.note


flows.declare(
    flows.Flow(
        "return_reason",
        "填写退回意见",
        continue_reason,
        words=frozenset({"取消", "跳过"}),
        way_out="回复“跳过”不写意见",
    )
)
