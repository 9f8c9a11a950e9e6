"""会商 (the office asks; the general office answers), 回复来源 and 办结."""

from __future__ import annotations

from typing import Any

from handlers import flows
from handlers.cards import key_parts, mark_own_card
from handlers.context import Ctx
from handlers.progress import split_code
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs, starts
from models import Role
from models.procedure import Act
from workflow.engine import procedure
from workflow.engine.lookup import find_item
from workflow.incident import citizen, consult
from workflow.people import org

OFFICE = (Role.office,)
OFFICE_ONLY = "只有领导小组办公室可以这样做。"


@command("会商", roles=OFFICE, denied=OFFICE_ONLY)
def consult_command(ctx: Ctx) -> str:
    """`会商 <编号> [处室…] [说明]`: (re)send the request for opinions, also to the departments named."""
    code, rest = split_code(ctx, "格式：会商 <编号> [处室…] [需要征求意见的事项]")
    words, named = rest.split(), []
    while words and (unit := org.find_unit(ctx.session, words[0])) is not None:
        named.append(unit)
        words.pop(0)
    note = " ".join(words)
    to = consult.request(ctx.session, find_item(ctx.session, code), ctx.person, note, ctx.now, ctx.config, named)
    also = f"（含{'、'.join(u.name for u in named)}）" if named else ""
    return f"已向 {len(to)} 人{also}征求 {code.upper()} 的会商意见，收到后会通知您。"


@command("会商意见", "意见")
def opinion_command(ctx: Ctx) -> str:
    """`会商意见 <编号> <意见>` (or `无意见`)."""
    code, text = split_code(ctx, "格式：会商意见 <编号> <意见>；没有不同意见可写“无意见”。")
    agree = text.strip() in ("", "无意见", "无不同意见", "同意")
    item = consult.give(ctx.session, ctx.person, code, agree, "" if agree else text, ctx.now)
    return f"已将您对 {item.code} 的意见转给办公室。"


@card("opin")
def opinion_button(ctx: Ctx) -> str:
    """Key `opin:<编号>:ok|say`: 无不同意见 records at once; 提出意见 asks for the text in the chat."""
    code, choice = key_parts(ctx, 2)
    if choice == "ok":
        item = consult.give(ctx.session, ctx.person, code, True, "", ctx.now)
        mark_own_card(ctx, f"{ctx.person.name} 无不同意见", item)
        return f"已反馈：您对 {item.code} 无不同意见。"
    item = find_item(ctx.session, code)
    procedure.permit(ctx.session, item, Act.opinion, ctx.person)
    flows.begin(ctx, "opinion", {"code": item.code})
    return f"请直接回复您对 {item.code} 的意见（一条消息），回复“取消”放弃。"


def continue_opinion(ctx: Ctx, state: dict[str, Any]) -> str:
    """The text after 提出意见."""
    text = ctx.msg.content.strip()
    flows.end(ctx, "opinion")
    if flows.flow_word(ctx) == "取消":
        return "已取消，没有提交意见。"
    item = consult.give(ctx.session, ctx.person, state["code"], False, text, ctx.now)
    return f"已将您对 {item.code} 的意见转给办公室。"


REPLY_USAGE = "格式：回复来源 <编号> <答复内容>（只有一条待回复来源时可以不写编号）"
CLOSE_USAGE = "格式：办结 <编号> [说明]（只有一条待办结时可以不写编号）"


@command("回复来源", "答复来源", roles=OFFICE, denied=OFFICE_ONLY)
def reply_command(ctx: Ctx) -> str:
    """`回复来源 <编号> <答复内容>`: after the general office's opinion; 编号 optional when one item waits for it."""
    got = code_or_pick(ctx, Act.reply_source, REPLY_USAGE)
    return got if isinstance(got, str) else reply_step(ctx, *got)


@runs(Act.reply_source)
def reply_step(ctx: Ctx, code: str, text: str) -> str:
    """Record the reply to the source of item code (the command, a pick and a `do:reply_source` button share it)."""
    item = consult.reply_source(ctx.session, ctx.person, code, text, ctx.now)
    back = "答复将通过公众号发给市民，送达后留言答复时限完成。" if citizen.from_citizens(ctx.session, item) else ""
    return f"已记录 {item.code} 的答复并通知各方。{back}确认无后续事项后请发送“办结 {item.code}”。"


@command("已答复市民", roles=OFFICE, denied=OFFICE_ONLY)
def citizen_answered_command(ctx: Ctx) -> str:
    """`已答复市民 <编号>`: the office answered a 公众号 citizen by hand (WeChat refused the 客服消息)."""
    code, _rest = split_code(ctx, "格式：已答复市民 <编号>")
    item = citizen.confirm(ctx.session, ctx.person, code, ctx.now)
    return f"已记录：{item.code} 已人工答复市民，留言答复时限完成。确认无后续事项后请发送“办结 {item.code}”。"


@command("办结", roles=OFFICE, denied=OFFICE_ONLY)
def close_command(ctx: Ctx) -> str:
    """`办结 <编号> [说明]`: close and start the follow-up watch; 编号 optional when one item waits for it."""
    got = code_or_pick(ctx, Act.close, CLOSE_USAGE)
    return got if isinstance(got, str) else close_step(ctx, *got)


@starts(Act.close)
def close_now(ctx: Ctx, code: str) -> str:
    """办结 item code without a note (a pick or a `do:close` button: as the command with the 编号 alone)."""
    return close_step(ctx, code, "")


@runs(Act.close)
def close_step(ctx: Ctx, code: str, note: str) -> str:
    """办结 item code with note."""
    item = consult.close(ctx.session, ctx.person, code, note, ctx.now, ctx.config)
    return f"{item.code} 已办结，进入善后观察，期间会定期请承办单位回报态势。"


flows.declare(flows.Flow("opinion", "填写会商意见", continue_opinion))
