"""巡查 / 零报告 (a commentator's daily check-in), the check-in card's buttons, and 巡查情况 for the office."""

from __future__ import annotations

from datetime import timedelta

from core.clock import show
from handlers.cards import key_parts, mark_own_card
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.report import start
from models import PatrolState, Role
from workflow.duty import patrol, periods
from workflow.engine.errors import Refusal

ZERO_WORDS = ("", "无异常", "正常", "无", "没有", "零报告", "0")


def _checked(ctx: Ctx) -> str:
    row = patrol.check_in(ctx.session, ctx.config, ctx.person, "zero", ctx.now)
    return f"已记录今天的巡查：无异常（零报告），{show(row.done_at or ctx.now)}。发现舆情随时发送“上报”。"


@command("巡查", "巡查打卡", alone=True)
def patrol_command(ctx: Ctx) -> str:
    """`巡查 无异常` checks in with a zero report; `巡查 <情况>` starts a report of what was found."""
    word = ctx.args.strip()
    if word in ZERO_WORDS:
        return _checked(ctx)
    raise Refusal(f"发现了情况请直接发送“上报 {word[:20]}…”，上报就算今天的巡查；没有发现请发送“巡查 无异常”。")


@command("零报告", alone=True)
def zero_command(ctx: Ctx) -> str:
    """`零报告`: today's patrol found nothing."""
    return _checked(ctx)


@card("pat")
def patrol_button(ctx: Ctx) -> str:
    """Key `pat:<day>.<round>:zero|report` on the check-in card (one card for many; the row is the clicker's)."""
    field, choice = key_parts(ctx, 2)
    row = patrol.find(ctx.session, ctx.person, field)
    if row is None or choice not in ("zero", "report"):
        raise Refusal("这张巡查卡片已失效。")
    if choice == "report":
        return start(ctx) or ""
    if row.state == PatrolState.missed:
        raise Refusal(f"{row.day} 的巡查已于 {show(row.due_at)} 截止，不能再补报。发现舆情请直接“上报”。")
    if row.state == PatrolState.done:
        mark_own_card(ctx, "已报告")
        return "今天的巡查已经报过了，不用再报。"
    text = _checked(ctx)
    mark_own_card(ctx, f"无异常 {show(ctx.now)}")
    return text


@command("巡查情况", roles=(Role.office, Role.leader), alone=True, denied="巡查情况由领导小组办公室和领导查看。")
def coverage_command(ctx: Ctx) -> str:
    """`巡查情况`: today's check-ins by person for the office."""
    return patrol.coverage_text(patrol.coverage(ctx.session, ctx.now))


@command("重要节点", alone=True)
def period_command(ctx: Ctx) -> str:
    """`重要节点` lists the periods; `重要节点 <名称> <开始> <结束>` declares one (the office)."""
    words = ctx.args.split()
    if not words:
        return periods.listing(ctx.session, ctx.config, ctx.now)
    p = periods.declare(ctx.session, ctx.person, words, ctx.now)
    starts = "已开始" if p.starts_at <= ctx.now else f"将于 {show(p.starts_at, True)} 开始"
    return (
        f"已设定重要节点“{p.name}”，{starts}，至 {show(p.ends_at - timedelta(seconds=1), True)}。"
        "开始和结束时会通知网评员、各单位负责人、办公室和领导。"
    )
