"""善后: the check-in card's 平稳 / 反弹, the 反弹 command, 总结评估 and 归档."""

from __future__ import annotations

from typing import Any

from handlers import flows
from handlers.cards import clicked, key_parts
from handlers.context import Ctx
from handlers.progress import split_code
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs, starts
from models import Role
from models.procedure import Act
from workflow.engine import procedure
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.incident import followup

OFFICE_ONLY = "只有领导小组办公室可以这样做。"


@card("fu")
def watch_button(ctx: Ctx) -> str:
    """Key `fu:<watch id>:<n>:calm|up` from the follow-up check-in card."""
    watch_id, _n, choice = key_parts(ctx, 3, "这张回访卡片已失效。", numeric=0)
    _item, note = followup.answer(
        ctx.session, ctx.person, int(watch_id), choice == "up", "", ctx.now, ctx.config, clicked(ctx)
    )
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


EVALUATE_USAGE = "格式：总结评估 <编号>（按步骤填写），或 总结评估 <编号> <评估内容>（只有一条待评估时可以不写编号）"
ARCHIVE_USAGE = "格式：归档 <编号>（只有一条待归档时可以不写编号）"


@command("总结评估", "评估", roles=(Role.office,), denied=OFFICE_ONLY)
def evaluate_command(ctx: Ctx) -> str:
    """`总结评估 <编号>` asks the seeds' questions in turn; `总结评估 <编号> <内容>` records a free summary; the 编号
    may be left out when one item waits for it."""
    got = code_or_pick(ctx, Act.evaluate, EVALUATE_USAGE)
    if isinstance(got, str):
        return got
    code, text = got
    return evaluate_step(ctx, code, text) if text.strip() else evaluate_form(ctx, code)


@starts(Act.evaluate)
def evaluate_form(ctx: Ctx, code: str) -> str:
    """Start the evaluation form for item code (its four questions in turn)."""
    item = followup.ready_to_evaluate(ctx.session, code)
    procedure.permit(ctx.session, item, Act.evaluate, ctx.person)  # a `do:evaluate` button: refuse before asking
    flows.begin(ctx, "evaluation", {"code": item.code, "step": 0, "form": {}})
    return f"开始填写 {item.code} 的总结评估（共 4 项，回复“取消”放弃）。\n1/4 {QUESTIONS[0]}"


@runs(Act.evaluate)
def evaluate_step(ctx: Ctx, code: str, text: str) -> str:
    """Record a free summary evaluation of item code."""
    item = followup.evaluate(ctx.session, ctx.person, code, text, ctx.now)
    return f"已记录 {item.code} 的总结评估。可发送“归档 {item.code}”立卷归档。"


QUESTIONS = (
    "经验：这次处置有哪些做法值得坚持？",
    "问题：处置中暴露了哪些问题（没有请回复“无”）？",
    "改进措施：今后怎么改？",
    "态势是否平稳：回复 1 平稳，2 仍有反复。",
)
STABLE = {"1": "平稳", "平稳": "平稳", "是": "平稳", "2": "仍有反复", "仍有反复": "仍有反复", "否": "仍有反复"}


def continue_evaluation(ctx: Ctx, state: dict[str, Any]) -> str:
    """One answer of the evaluation form; the last one records it."""
    answer = (ctx.msg.content or "").strip()
    if flows.flow_word(ctx) == "取消":  # the flow's own word, never an answer
        flows.end(ctx, "evaluation")
        return "已取消总结评估，没有保存任何内容。"
    step, form = int(state["step"]), dict(state["form"])
    key = followup.EVALUATION[step][0]
    if key == "stable":
        if answer not in STABLE:
            raise Refusal("请回复 1（平稳）或 2（仍有反复）。")
        answer = STABLE[answer]
    elif not answer:
        raise Refusal(QUESTIONS[step])
    form[key] = answer[:1000]
    if step + 1 < len(QUESTIONS):
        flows.begin(ctx, "evaluation", {**state, "step": step + 1, "form": form})
        return f"{step + 2}/4 {QUESTIONS[step + 1]}"
    item = followup.evaluate(ctx.session, ctx.person, state["code"], "", ctx.now, form)
    flows.end(ctx, "evaluation")
    return f"已记录 {item.code} 的总结评估（经验、问题、改进措施、态势：{answer}）。可发送“归档 {item.code}”立卷归档。"


flows.declare(flows.Flow("evaluation", "填写总结评估", continue_evaluation))


@command("归档", roles=(Role.office,), denied=OFFICE_ONLY)
def archive_command(ctx: Ctx) -> str:
    """`归档 <编号>`; `归档` alone files the one item waiting for it (several: a pick)."""
    got = code_or_pick(ctx, Act.archive, ARCHIVE_USAGE)
    return got if isinstance(got, str) else archive_step(ctx, got[0])


@starts(Act.archive)
def archive_step(ctx: Ctx, code: str) -> str:
    """File item code (the command, a pick and a `do:archive` button share it)."""
    item = followup.archive(ctx.session, ctx.person, code, ctx.now)
    return f"{item.code} 已立卷归档。"
