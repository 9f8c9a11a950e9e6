"""Every step without typing a 编号: the `do:<step>:<编号>` buttons, the conversation bound to one item, and the
typed commands that leave the 编号 out (the person owes the step on one item; on several they pick from a list).

Which items a person owes a step on is decided by workflow.views.owed; the step itself is taken by the same
function as the typed command (each step module registers it here with `runs`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core import args
from handlers import flows
from handlers.cards import key_parts, mark_own_card
from handlers.context import Ctx
from handlers.registry import card
from models import Item
from models.procedure import Act
from models.state import CardPurpose
from workflow.engine import procedure
from workflow.engine.cards import pressed
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.views import owed, pages, render

Runner = Callable[[Ctx, str, str], str]  # (ctx, 编号, the content as typed) → the reply
Starter = Callable[[Ctx, str], str]  # (ctx, 编号) → the reply that opens the step's own conversation

CODE_TRY = re.compile(r"[A-Za-z]{1,8}-\d")  # “YQ-2026…”: a 编号 mistyped is refused as one, never taken as content
PICK = {  # “您有 2 条舆情待首报，是哪一条？”
    Act.dispatch: "待定级交办",
    Act.acknowledge: "待签收",
    Act.first_report: "待首报",
    Act.written_report: "待报送书面报告",
    Act.progress_report: "在承办，可以续报",
    Act.handling_report: "待报送处置情况",
    Act.request_extension: "有未到期的时限",
    Act.draft_statement: "待拟定口径",
    Act.reply_source: "待回复来源",
    Act.close: "待办结",
    Act.evaluate: "待总结评估",
    Act.archive: "待立卷归档",
}
NONE = {  # said when the 编号 is left out and nothing is owed
    Act.dispatch: "目前没有待定级交办的舆情",
    Act.acknowledge: "您目前没有需要签收的舆情（已签收的无需再签）",
    Act.first_report: "您目前没有需要首报的舆情",
    Act.written_report: "您目前没有需要报送书面报告的舆情",
    Act.progress_report: "您所在单位目前没有正在承办的舆情",
    Act.handling_report: "您目前没有需要报送处置情况的舆情",
    Act.request_extension: "您目前没有可以申请延期的时限",
    Act.draft_statement: "您目前没有需要拟定口径的舆情",
    Act.reply_source: "目前没有可以回复来源的舆情（书面报告审核通过、局办公室反馈会商意见后才能回复来源）",
    Act.close: "目前没有待办结的舆情（回复来源后才能办结）",
    Act.evaluate: "目前没有待总结评估的舆情（办结且善后观察期满后才能总结评估）",
    Act.archive: "目前没有待归档的舆情（总结评估后才能立卷归档）",
}
RUNNERS: dict[Act, Runner] = {}
STARTERS: dict[Act, Starter] = {}
ASK = {  # what the conversation bound to an item asks for
    Act.dispatch: "承办单位和等级（例如：执法一队 一般；协办、抄送、限时照常写在后面）",
    Act.first_report: "首报内容（核实情况和初步处置意见）",
    Act.progress_report: "续报内容（最新进展）",
    Act.handling_report: "处置情况与结果",
    Act.draft_statement: "口径文字（需要其他单位确认的，末尾写“会同 单位”）",
    Act.reply_source: "答复内容（发送“口径”即引用已定稿的对外口径）",
}


def runs(act: Act) -> Callable[[Runner], Runner]:
    """Register the function that takes act on an item with typed content (the command and the button share it)."""

    def deco(fn: Runner) -> Runner:
        RUNNERS[act] = fn
        return fn

    return deco


def starts(act: Act) -> Callable[[Starter], Starter]:
    """Register the function a step's button calls when the step has a conversation of its own (书面报告, 申请延期)."""

    def deco(fn: Starter) -> Starter:
        STARTERS[act] = fn
        return fn

    return deco


def code_or_pick(ctx: Ctx, act: Act, usage: str) -> tuple[str, str] | str:
    """Return (编号, the rest) of ctx.args; without a 编号, the one item the person owes act on with all of ctx.args as
    the content. Owing it on several: open a short pick (a card of buttons, up to 6) and return the question; owing
    it on none: refuse with usage (without usage, the sentence alone).
    """
    code, rest = args.split_code(ctx.args)
    if args.CODE.fullmatch(code) or CODE_TRY.match(code):
        return code, rest
    items = owed.resolve(ctx.session, ctx.person, act)
    if not items:
        raise Refusal(f"{NONE[act]}，请写上编号。{usage}" if usage else f"{NONE[act]}。")
    content = ctx.args.strip()
    if len(items) == 1:
        return items[0].code, content
    return _pick(ctx, act, items, content)


def _pick(ctx: Ctx, act: Act, items: list[Item], content: str) -> str:
    """Keep the content and ask which item: a card with a button per item (≤ 6), and the numbered list to reply to."""
    flows.begin(ctx, owed.PICK_FLOW, {"act": act.value, "text": content, "codes": [i.code for i in items]})
    ask = f"您有 {len(items)} 条舆情{PICK[act]}"
    key = f"{ctx.person.userid}:{ctx.msg.msg_id or ctx.msg.create_time}"
    carded = owed.send_pick_card(ctx.session, ctx.person, act, items, f"{ask}，是哪一条？", key, ctx.now)
    how = "点上面卡片上的按钮，或回复序号" if carded else "回复序号"
    lines = [f"{n}. {render.item_line(i)}" for n, i in enumerate(items[:9], 1)]
    kept = "（您写的内容已记下）" if content else ""
    return (
        f"{ask}，是哪一条？{how}{kept}：\n" + "\n".join(lines) + "\n回复“取消”放弃；"
        f"也可以写成“{owed.STEP_WORDS[act]} <编号> …”。"
    )


def continue_pick(ctx: Ctx, state: dict[str, Any]) -> str:
    """The number picked from the list: take the step on that item with the content kept (or ask for it)."""
    answer = args.narrow((ctx.msg.content or "").strip()).rstrip("。.")
    if flows.flow_word(ctx) == "取消":
        flows.end(ctx, owed.PICK_FLOW)
        return "已取消，什么都没有记录。"
    codes: list[str] = state["codes"]
    if not (answer.isascii() and answer.isdecimal() and 1 <= int(answer) <= min(len(codes), 9)):
        return f"请回复 1–{min(len(codes), 9)} 的序号选择舆情，或回复“取消”。"
    flows.end(ctx, owed.PICK_FLOW)
    return _go(ctx, Act(state["act"]), codes[int(answer) - 1], state.get("text", ""))


def _go(ctx: Ctx, act: Act, code: str, text: str) -> str:
    """Take act on code with text, or, without text, open the step's conversation for it."""
    if text and act in RUNNERS:
        return RUNNERS[act](ctx, code, text)
    return open_step(ctx, act, code)


def open_step(ctx: Ctx, act: Act, code: str) -> str:
    """Open the conversation bound to item code for act: the next text is that step's content (or the short H5
    form, linked at the end of the reply, takes it)."""
    if act in STARTERS:
        return _with_form(ctx, act, code, STARTERS[act](ctx, code))
    if act not in RUNNERS:
        raise Refusal("这张卡片已失效，请发送“我的待办”查看。")
    item = find_item(ctx.session, code)
    note = ""
    if act == Act.first_report and item.code not in {i.code for i in owed.resolve(ctx.session, ctx.person, act)}:
        act, note = Act.progress_report, f"{item.code} 的首报已经报过（或不再需要），这一条按续报记录。\n"
    procedure.check(item, act)  # refuse now, not after the text is typed
    procedure.permit(ctx.session, item, act, ctx.person)
    owed.ready(ctx.session, item, act)
    flows.begin(ctx, owed.STEP_FLOW, {"act": act.value, "code": item.code})
    asked = f"{note}请直接发送 {render.item_line(item)} 的{ASK[act]}，一条消息即可。\n回复“取消”放弃。"
    return _with_form(ctx, act, item.code, asked)


def _with_form(ctx: Ctx, act: Act, code: str, reply: str) -> str:
    """The reply that opens a step, with the link to the step's short H5 form where it has one."""
    if act not in owed.FORM_STEPS:
        return reply
    files = "（可附文件）" if act == Act.written_report else ""
    return f"{reply}\n也可以在网页上填写{files}：{pages.page_url(ctx.config, owed.form_path(act, code))}"


def continue_step(ctx: Ctx, state: dict[str, Any]) -> str:
    """The text sent after a step's button: it is that step's content for that item."""
    if flows.flow_word(ctx) == "取消":
        flows.end(ctx, owed.STEP_FLOW)
        return "已取消，什么都没有记录。"
    text = (ctx.msg.content or "").strip()
    reply = RUNNERS[Act(state["act"])](ctx, state["code"], text)
    flows.end(ctx, owed.STEP_FLOW)
    return reply


@card("do")
def step_button(ctx: Ctx) -> str:
    """A next-step button, key `do:<step>:<编号>`: open the conversation bound to that item (or the step's own)."""
    step, code = key_parts(ctx, 2, "这张卡片已失效，请发送“我的待办”查看。")
    try:
        act = Act(step)
    except ValueError:
        raise Refusal("这张卡片已失效，请发送“我的待办”查看。") from None
    opened = flows.current(ctx)
    picking = opened is not None and opened[0].key == owed.PICK_FLOW and opened[1].get("act") == step
    if opened is not None and picking and code in opened[1]["codes"]:
        flows.end(ctx, owed.PICK_FLOW)  # the typed content waits in the pick: the button chooses the item
        reply = _go(ctx, act, code, opened[1].get("text", ""))
        if pressed(ctx.session, (CardPurpose.pick,), ctx.person.id, ctx.msg.task_id):  # not 我的待办's card
            mark_own_card(ctx, f"已选 {code}")
        return reply
    return open_step(ctx, act, code)


flows.declare(flows.Flow(owed.STEP_FLOW, "填写报送内容", continue_step))
flows.declare(flows.Flow(owed.PICK_FLOW, "选择舆情", continue_pick))
