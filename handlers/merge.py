"""The same event: the suggestion card's 合并 / 不是同一事件, and the commands `合并 <编号> <编号>` and
`不是同一事件 <编号> <编号>` (office only). workflow.incident.merge applies them; this parses and answers."""

from __future__ import annotations

from core import args
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.registry import card, command
from models import Role
from workflow.engine.errors import Refusal
from workflow.incident import merge

OFFICE_ONLY = "只有领导小组办公室可以合并同一事件的条目或确认不是同一事件。"
MERGE_USAGE = "格式：合并 <编号> <编号>，例如：合并 YQ-20261206-003 YQ-20261206-007（保留较早上报的条目）"
NOT_SAME_USAGE = "格式：不是同一事件 <编号> <编号>，例如：不是同一事件 YQ-20261206-003 YQ-20261206-007"


def _two_codes(ctx: Ctx, usage: str) -> tuple[str, str]:
    """The two 编号 after the command word, or refuse with usage."""
    first, rest = args.split_code(ctx.args)
    second, extra = args.split_code(rest)
    if not first or not second or extra.strip():
        raise Refusal(usage)
    return first, second


def _merged(done: merge.Merged) -> str:
    s, m = done.survivor, done.merged
    return (
        f"已合并：{m.code} 并入 {s.code}《{s.title}》（保留较早上报的 {s.code}）。"
        f"并入链接 {done.links} 条、截图和文件 {done.files} 个、书面报告 {done.reports} 份；"
        f"{m.code} 未完成的时限已按合并结束，不计超时。已告知相关上报人和承办单位。{done.next_step()}"
    )


@command("合并", roles=(Role.office,), denied=OFFICE_ONLY)
def merge_command(ctx: Ctx) -> str:
    """`合并 <编号> <编号>`: merge the later item into the earlier one."""
    first, second = _two_codes(ctx, MERGE_USAGE)
    return _merged(merge.merge_codes(ctx.session, ctx.person, first, second, ctx.now))


@command("不是同一事件", roles=(Role.office,), denied=OFFICE_ONLY)
def not_same_command(ctx: Ctx) -> str:
    """`不是同一事件 <编号> <编号>`: remember that two items are different events."""
    first, second = _two_codes(ctx, NOT_SAME_USAGE)
    merge.dismiss_codes(ctx.session, ctx.person, first, second, ctx.now)
    return f"已记下：{first.upper()} 与 {second.upper()} 不是同一事件，以后不再提示这两条。"


@card("same")
def same_button(ctx: Ctx) -> str:
    """Key `same:<pair id>:join|no` from the 可能为同一事件 card."""
    pair_id, choice = key_parts(ctx, 2, "这张同一事件提示卡片已失效。", numeric=0)
    if choice == "join":
        return _merged(merge.merge_pair(ctx.session, ctx.person, int(pair_id), ctx.now, clicked(ctx)))
    if choice != "no":
        raise Refusal("这张同一事件提示卡片已失效。")
    pair = merge.dismiss_pair(ctx.session, ctx.person, int(pair_id), ctx.now, clicked(ctx))
    return f"已记下：这两条不是同一事件（第 {pair.id} 号提示），以后不再提示。"
