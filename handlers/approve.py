"""The approval card's buttons (批准 / 退回修改 / 升级为重大) and the supervisor's reason for a return."""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.registry import card
from workflow.approval import decide, give_reason
from workflow.errors import Refusal


@card("appr")
def approval_button(ctx: Ctx) -> str:
    """Key `appr:<submission id>:ok|back|major`; only the card's recipients decide, once."""
    try:
        _, sub_id, choice = ctx.msg.event_key.split(":")
        ref = int(sub_id)
    except ValueError:
        raise Refusal("这张审批卡片已失效。") from None
    clicked = (ctx.msg.task_id, ctx.msg.response_code) if ctx.msg.response_code else None
    decision = decide(ctx.session, ctx.person, ref, choice, ctx.now, ctx.config, clicked)
    if decision.ask_reason:
        ctx.conv.put(ctx.person.userid, {"flow": "return_reason", "submission": ref})
    return decision.note


def continue_reason(ctx: Ctx, state: dict[str, Any]) -> str:
    """The supervisor's reply after 退回修改: the reason, sent to the unit (“跳过” sends none)."""
    text = ctx.msg.content.strip()
    ctx.conv.clear(ctx.person.userid)
    if text == "取消":
        text = "跳过"
    return give_reason(ctx.session, ctx.person, int(state["submission"]), text, ctx.now, ctx.config)
