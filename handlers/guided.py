"""跟帖 (the office's guided-reply task), the assignee's 已跟帖 / 无法完成, and 跟帖情况."""

from __future__ import annotations

from typing import Any

from core import args
from core.clock import show
from handlers import flows
from handlers.cards import key_parts, mark_own_card
from handlers.context import Ctx
from handlers.registry import card, command
from models import Role
from workflow.engine.errors import Refusal
from workflow.incident import guided
from workflow.incident.links import find_links


@command("跟帖", "组织跟帖", roles=(Role.office,), denied="只有领导小组办公室可以组织跟帖。")
def guide_command(ctx: Ctx) -> str:
    """`跟帖 <编号> <人员或单位…> <要点> [限2小时]`: the 要点 is kept exactly as typed."""
    code, rest = args.split_code(ctx.args)
    if not code or not rest:
        return guided.USAGE
    task, people = guided.assign(ctx.session, ctx.config, ctx.person, code, rest, ctx.now)
    names = "、".join(p.name for p in people)
    return (
        f"已派发跟帖任务（第 {task.id} 项）给 {names}，共 {len(people)} 人，截止 {show(task.due_at, True)}。"
        f"\n跟帖要点：{task.line}\n发送“跟帖情况 {code}”查看进度。"
    )


@command("跟帖情况", roles=(Role.office, Role.leader), denied="跟帖情况由领导小组办公室和领导查看。")
def progress_command(ctx: Ctx) -> str:
    """`跟帖情况 <编号>`."""
    code, _ = args.split_code(ctx.args)
    if not code:
        return "格式：跟帖情况 <编号>"
    return guided.progress(ctx.session, code)


@command("已跟帖", "跟帖完成")
def proved_command(ctx: Ctx) -> str:
    """`已跟帖 <编号> <链接>`: the text form of the card's 已跟帖 (a screenshot goes through the card)."""
    code, rest = args.split_code(ctx.args)
    if not code:
        return "格式：已跟帖 <编号> <跟帖链接>；要发截图，请点跟帖卡片上的“已跟帖”后发送图片。"
    a = guided.open_for(ctx.session, ctx.person, code)
    links = find_links(rest)
    return _proved(ctx, a.id, links[0] if links else None, None)


def _proved(ctx: Ctx, assignment_id: int, url: str | None, media_id: str | None) -> str:
    a, item, in_time = guided.prove(ctx.session, ctx.person, assignment_id, ctx.now, url, media_id)
    flows.end(ctx, "guided_proof")
    late = "" if in_time else "（已超过截止时间，仍计为未按时完成）"
    return f"已记录 {item.code} 的跟帖凭证{late}，已告知办公室。"


@card("gr")
def guided_button(ctx: Ctx) -> str:
    """Key `gr:<id>:done|decline` on the task card: ask for the proof or the reason in the chat."""
    assignment_id, choice = key_parts(ctx, 2, numeric=0)
    if choice not in ("done", "decline"):
        raise Refusal("这张跟帖卡片已失效。")
    a, _task, item = guided.mine(ctx.session, ctx.person, int(assignment_id))
    if choice == "done":
        if a.state not in ("open", "missed"):
            raise Refusal(f"{item.code} 的这项跟帖已经结束了。")
        flows.begin(ctx, "guided_proof", {"assignment": a.id, "code": item.code})
        mark_own_card(ctx, "请发送链接或截图", item)
        return f"请发来您在帖子下跟帖的链接或截图（{item.code}），回复“取消”放弃。"
    if a.state != "open":
        raise Refusal(f"{item.code} 的这项跟帖已经结束了。")
    flows.begin(ctx, "guided_reason", {"assignment": a.id, "code": item.code})
    return f"请回复无法完成 {item.code} 跟帖的原因（一条消息），回复“取消”放弃。"


def proof_text(ctx: Ctx, state: dict[str, Any]) -> str:
    """Text while the proof is asked for: a link is the proof; anything else is refused, the flow stays open."""
    if flows.flow_word(ctx) == "取消":
        flows.end(ctx, "guided_proof")
        return f"已取消，{state['code']} 的跟帖任务仍在您名下。"
    links = find_links(ctx.msg.content or "")
    if not links:
        raise Refusal("请发来跟帖的链接（http 开头）或截图；文字说明不能作为凭证。回复“取消”放弃。")
    return _proved(ctx, int(state["assignment"]), links[0], None)


def proof_image(ctx: Ctx, state: dict[str, Any]) -> str:
    """A screenshot while the proof is asked for."""
    return _proved(ctx, int(state["assignment"]), None, ctx.msg.media_id or None)


def proof_link(ctx: Ctx, state: dict[str, Any]) -> str:
    """A shared link card while the proof is asked for."""
    return _proved(ctx, int(state["assignment"]), ctx.msg.url or None, None)


def reason_text(ctx: Ctx, state: dict[str, Any]) -> str:
    """The reason for declining (取消: nothing is declined)."""
    if flows.flow_word(ctx) == "取消":
        flows.end(ctx, "guided_reason")
        return f"已取消，{state['code']} 的跟帖任务仍在您名下。"
    _a, item = guided.decline(ctx.session, ctx.person, int(state["assignment"]), ctx.msg.content or "", ctx.now)
    flows.end(ctx, "guided_reason")
    return f"已告知办公室：您无法完成 {item.code} 的跟帖。"


flows.declare(flows.Flow("guided_proof", "提交跟帖凭证", proof_text, on_image=proof_image, on_link=proof_link))
flows.declare(flows.Flow("guided_reason", "说明无法跟帖的原因", reason_text))
