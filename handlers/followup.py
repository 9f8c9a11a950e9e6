"""善后: the check-in card's 平稳 / 反弹, the 反弹 command, 总结评估 and 归档."""

from __future__ import annotations

from handlers.cards import key_parts, mark_clicked_card
from handlers.context import Ctx
from handlers.progress import split_code
from handlers.registry import card, command
from models import Role
from workflow import followup
from workflow.errors import Refusal
from workflow.report import find_item

OFFICE_ONLY = "只有领导小组办公室可以这样做。"


@card("fu")
def watch_button(ctx: Ctx) -> str:
    """Key `fu:<watch id>:<n>:calm|up` from the follow-up check-in card."""
    watch_id, _n, choice = key_parts(ctx, 3, "这张回访卡片已失效。", numeric=0)
    item, note = followup.answer(ctx.session, ctx.person, int(watch_id), choice == "up", "", ctx.now, ctx.config)
    word = "反弹" if choice == "up" else "平稳"
    mark_clicked_card(ctx, f"{ctx.person.name} 回报：{word}", item)
    return note


@command("反弹")
def rebound_command(ctx: Ctx) -> str:
    """`反弹 <编号> [情况]`: the lead unit or the office reports a rebound during the watch."""
    code, note = split_code(ctx, "格式：反弹 <编号> [情况说明]")
    item = find_item(ctx.session, code)
    if not ctx.person.has(Role.office):
        watch = followup.active_watch(ctx.session, item)
        if watch is None:
            raise Refusal(followup.not_watching(item))
        _, reply = followup.answer(ctx.session, ctx.person, watch.id, True, note, ctx.now, ctx.config)
        return reply
    followup.reopen(ctx.session, ctx.person, item, note, ctx.now, ctx.config)
    return f"已记录反弹，{item.code} 已重新打开，主办单位须重新首报并报送书面报告。"


@command("总结评估", "评估", roles=(Role.office,), denied=OFFICE_ONLY)
def evaluate_command(ctx: Ctx) -> str:
    """`总结评估 <编号> <内容>`."""
    code, text = split_code(ctx, "格式：总结评估 <编号> <评估内容>")
    item = followup.evaluate(ctx.session, ctx.person, code, text, ctx.now)
    return f"已记录 {item.code} 的总结评估。可发送“归档 {item.code}”立卷归档。"


@command("归档", roles=(Role.office,), denied=OFFICE_ONLY)
def archive_command(ctx: Ctx) -> str:
    """`归档 <编号>`."""
    code, _ = split_code(ctx, "格式：归档 <编号>")
    item = followup.archive(ctx.session, ctx.person, code, ctx.now)
    return f"{item.code} 已立卷归档。"
