"""口径 (draft or show the agreed public line), its 审核/审定 and confirmation cards, and 发布."""

from __future__ import annotations

from typing import Any

from core import args
from handlers import flows
from handlers.cards import clicked, key_parts, mark_own_card
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs
from models.procedure import Act
from workflow.engine.errors import Refusal
from workflow.incident import statement
from workflow.incident.links import find_links


@command("口径", "统一口径")
def statement_command(ctx: Ctx) -> str:
    """`口径 <编号>` shows the line; `口径 <编号> <文字> [会同 <单位…>]` drafts a new version; `口径 <文字>` drafts on
    the one item whose public response the person owes."""
    if not ctx.args.strip():
        return statement.USAGE
    got = code_or_pick(ctx, Act.draft_statement, statement.USAGE)
    if isinstance(got, str):
        return got
    code, text = got
    if not text:
        return statement.summary(ctx.session, code)
    return statement_step(ctx, code, text)


@runs(Act.draft_statement)
def statement_step(ctx: Ctx, code: str, text: str) -> str:
    """Draft a new version of item code's public line from text."""
    st = statement.draft(ctx.session, ctx.person, code, text, ctx.now)
    return (
        f"已提交口径第 {st.version} 版送审核。定稿后才能用于回复来源和组织跟帖。\n"
        f"口径文字：{st.text}\n{statement.confirmers_line(ctx.session, st)}"
    )


@command("发布", "登记发布")
def publish_command(ctx: Ctx) -> str:
    """`发布 <编号> <渠道> [链接]`: record where and when the approved line was published."""
    code, rest = args.split_code(ctx.args)
    words = [code, *rest.split()] if code else []
    if len(words) < 2:
        return "格式：发布 <编号> <渠道> [链接]，例如：发布 YQ-20261127-001 官方微博 https://weibo.com/…"
    links = find_links(" ".join(words[2:]))
    where = " ".join(w for w in words[1:] if w not in links)
    st = statement.publish(ctx.session, ctx.config, ctx.person, words[0], where, links[0] if links else None, ctx.now)
    return f"已登记：口径第 {st.version} 版于 {where} 发布。"


@card("stmt")
def decide_button(ctx: Ctx) -> str:
    """Key `stmt:<id>:ok|back` on the 审核 / 审定 card."""
    statement_id, choice = key_parts(ctx, 2, numeric=0)
    if choice not in ("ok", "back"):
        raise Refusal("这张口径卡片已失效。")
    st, said, ask = statement.decide(ctx.session, ctx.person, int(statement_id), choice == "ok", ctx.now, clicked(ctx))
    if ask:
        flows.begin(ctx, "statement_return", {"statement": st.id})
    return said


def continue_return(ctx: Ctx, state: dict[str, Any]) -> str:
    """The decider's reason after 退回修改 on a statement card (“跳过” or “取消”: no reason is sent)."""
    text = (ctx.msg.content or "").strip()
    flows.end(ctx, "statement_return")
    reason = "跳过" if flows.flow_word(ctx) in ("取消", "跳过") else text
    return statement.give_reason(ctx.session, ctx.person, int(state["statement"]), reason, ctx.now)


@card("stmtc")
def confirm_button(ctx: Ctx) -> str:
    """Key `stmtc:<id>:<unit>:ok|say` on a concerned body's confirmation card."""
    statement_id, unit_id, choice = key_parts(ctx, 3, numeric=0)
    if choice not in ("ok", "say") or not unit_id.isdecimal():
        raise Refusal("这张口径卡片已失效。")
    if choice == "ok":
        _st, said = statement.confirm(ctx.session, ctx.person, int(statement_id), int(unit_id), True, "", ctx.now)
        mark_own_card(ctx, f"{ctx.person.name} 已确认")
        return said
    flows.begin(ctx, "statement_opinion", {"statement": int(statement_id), "unit": int(unit_id)})
    return "请直接回复您对这份口径的意见（一条消息），回复“取消”放弃。"


def continue_opinion(ctx: Ctx, state: dict[str, Any]) -> str:
    """The concerned body's objection, after 有意见."""
    note = (ctx.msg.content or "").strip()
    if flows.flow_word(ctx) == "取消":  # the flow's own word, never an objection
        flows.end(ctx, "statement_opinion")
        return "已取消，没有提出意见；需要时可再点卡片上的“有意见”或“确认”。"
    if not note:
        raise Refusal("请写明意见。")
    _st, said = statement.confirm(
        ctx.session, ctx.person, int(state["statement"]), int(state["unit"]), False, note, ctx.now
    )
    flows.end(ctx, "statement_opinion")
    return said


flows.declare(flows.Flow("statement_opinion", "填写对口径的意见", continue_opinion))
flows.declare(
    flows.Flow(
        "statement_return",
        "填写口径退回理由",
        continue_return,
        words=frozenset({"取消", "跳过"}),
        way_out="回复“跳过”不写理由",
    )
)
