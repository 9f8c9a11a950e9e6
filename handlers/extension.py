"""申请延期 and the supervisor's 同意 / 不同意 buttons."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from core import args
from core.clock import show
from core.durations import NotPositive, format_duration, parse_moment, parse_span
from handlers import flows
from handlers.cards import clicked, clock_of_click, key_parts
from handlers.context import Ctx
from handlers.registry import card, command
from handlers.steps import code_or_pick, runs, starts
from models import Item, Role
from models.clock import Clock
from models.clocktable import Owner, labels, resolve
from models.procedure import Act
from models.state import ClockState
from workflow.engine.clocks import waive
from workflow.engine.errors import Refusal
from workflow.engine.lookup import find_item
from workflow.incident import extension
from workflow.incident.dispatch import typed_scale

TOKEN = re.compile(r"[\s,，、;；:：]*([^\s,，、;；:：]+)[\s,，、;；:：]*")


PAIR = re.compile(r"(\S+)\s+([^\s,，、;；。]+)(.*)", re.S)  # a date, a space, a time, then the reason
BY = ("至", "到")  # 至12月7日 10:00: the new deadline itself


def _span(word: str) -> timedelta | None:
    try:
        return parse_span(word)
    except NotPositive:
        return timedelta(0)  # a time after all: refused as zero where it is read
    except ValueError:
        return None


def _moment(words: str, now: datetime) -> datetime | None:
    """The new deadline in “至12月7日 10:00”, “到16:30”, “12月7日” (至/到 optional), or None; impossible → refuse."""
    try:
        return parse_moment(words[1:] if words[:1] in BY else words, now)
    except ValueError as e:
        raise Refusal(f"{e}{extension.USAGE}") from None


def _when(text: str, now: datetime) -> tuple[timedelta | datetime | None, str, str]:
    """Split “<时长或新时限> <原因>” into (span or moment or None, the word(s) read, the reason as typed)."""
    spaced = PAIR.match(text.strip())  # “12月7日 10:00” holds a space and a colon: read it before splitting words
    if spaced is not None:
        pair = f"{spaced.group(1)} {spaced.group(2)}"
        moment = _moment(pair, now)
        if moment is not None:
            return moment, pair, spaced.group(3).strip(args.TRIM)
    first, rest = _split(text)
    moment = _moment(first, now)
    return (_span(first) if moment is None else moment), first, rest


def _split(text: str) -> tuple[str, str]:
    """(first word, the rest as typed): words may be separated by spaces or any list punctuation."""
    m = TOKEN.match(text)
    return (m.group(1), text[m.end() :].strip()) if m else ("", "")


def _ask(ctx: Ctx, code: str, clock_name: str | None, clock_id: int | None, rest: str) -> str:
    """Parse "<时长> <原因>" and send the request for the chosen clock (the span follows the demo's clock speed)."""
    when, word, reason = _when(rest, ctx.now)
    if when is None:
        raise Refusal(
            f"时长“{word}”看不懂（写成 30分钟、2小时、半小时、1天 或 30m、2h，"
            f"或写新的时限，如 至12月7日 10:00）。{extension.USAGE}"
        )
    if isinstance(when, timedelta) and when <= timedelta(0):
        raise Refusal(f"时长“{word}”是零。延长的时间必须大于零，例如 30分钟。{extension.USAGE}")
    if not reason:
        raise Refusal(f"请写上延期的原因。{extension.USAGE}")
    item = find_item(ctx.session, code)
    clock = extension.pick_clock(ctx.session, item, ctx.person, clock_name, reason, clock_id)
    scale = typed_scale(ctx.config)
    if isinstance(when, datetime):
        if when <= clock.due_at:
            raise Refusal(
                f"新的时限 {show(when, True)} 不晚于现在的时限 {show(clock.due_at, True)}，"
                f"延期须写更晚的时间。{extension.USAGE}"
            )
        span = (when - clock.due_at) * scale  # a moment is real time: not sped up like a typed duration
    else:
        span = when
    ext = extension.request(ctx.session, ctx.person, item, clock, span / scale, reason, ctx.now)
    who = "领导" if clock.owner == Owner.office else "分管领导"
    real = format_duration(timedelta(seconds=ext.seconds))
    asked = format_duration(span) + (f"，演示时钟加快 {scale:g} 倍，实际 {real}" if scale != 1 else "")
    return (
        f"{item.code} {clock.label}的延期申请已提交{who}审批（申请延长 {asked}，"
        f"最多可延至 {show(extension.room(clock) + clock.due_at, True)}）。获批前原时限照常计算，请继续办理。"
    )


@command("申请延期", "延期")
def extension_command(ctx: Ctx) -> str:
    """`申请延期 <编号> [时限名] <时长> <原因>` (words separated by spaces or punctuation); the 编号 may be left out
    when the person owes a clock on one item."""
    if not ctx.args.strip():
        return extension.USAGE
    got = code_or_pick(ctx, Act.request_extension, extension.USAGE)
    if isinstance(got, str):
        return got
    return extension_step(ctx, *got)


@runs(Act.request_extension)
def extension_step(ctx: Ctx, code: str, rest: str) -> str:
    """Ask to extend a clock of item code from "[时限名] <时长或新时限> <原因>"."""
    if not rest:
        return extension.USAGE
    first, after = _split(rest)
    named = first if _when(rest, ctx.now)[0] is None else None  # 书面报告 30分钟 … names the clock
    return _ask(ctx, code, resolve(named) if named else None, None, after if named else rest)


@card("ext")
def extension_button(ctx: Ctx) -> str:
    """The 同意 / 不同意 buttons: key `ext:<id>:yes|no`; only the intended decider may decide, once."""
    ext_id, choice = key_parts(ctx, 2, numeric=0)
    _ext, note = extension.decide(ctx.session, ctx.person, int(ext_id), choice == "yes", ctx.now, clicked(ctx))
    return note


@command("免除时限", roles=(Role.office,), denied="只有领导小组办公室可以免除时限。")
def waive_command(ctx: Ctx) -> str:
    """`免除时限 <编号> <时限名> <原因>`: the office waives a clock (e.g. the item turned out to be a duplicate)."""
    code, rest = args.split_code(ctx.args)
    parts = [code, *rest.split(maxsplit=1)] if code else []
    if len(parts) < 3:
        return f"格式：免除时限 <编号> <{'|'.join(labels())}> <原因>"
    item = find_item(ctx.session, parts[0])
    clock = waive(ctx.session, item, parts[1], parts[2], ctx.person.userid, ctx.now)
    return f"已免除 {item.code} 的{clock.label}时限，不再提醒或督办。"


@card("askext")
def ask_extension_button(ctx: Ctx) -> str:
    """The 申请延期 button on a final warning: ask for the time and the reason in the chat."""
    clock, item = clock_of_click(ctx)
    if clock.state != ClockState.open:
        return f"{item.code} 的{clock.label}已{'完成' if clock.state.startswith('met') else '超时'}，无需申请延期。"
    return _ask_for(ctx, item, clock)


@starts(Act.request_extension)
def ask_extension_step(ctx: Ctx, code: str) -> str:
    """A 申请延期 step button without a clock (我的待办, a pick): the clock due soonest that the person owes."""
    item = find_item(ctx.session, code)
    return _ask_for(ctx, item, extension.pick_clock(ctx.session, item, ctx.person, None))


def _ask_for(ctx: Ctx, item: Item, clock: Clock) -> str:
    """Open the 申请延期 conversation for one clock: the next text is "<时长> <原因>"."""
    flows.begin(ctx, "extension", {"code": item.code, "clock": clock.id})
    limit = extension.room(clock)
    return (
        f"申请 {item.code} {clock.label}延期（最多可延长 {format_duration(limit)}）：请回复“时长 原因”，"
        "例如“30分钟 需要补充现场核查材料”。\n回复“取消”放弃。"
    )


def continue_extension(ctx: Ctx, state: dict[str, Any]) -> str:
    """The answer to the 申请延期 button: "<时长> <原因>"."""
    text = ctx.msg.content.strip()
    if flows.flow_word(ctx) == "取消":
        flows.end(ctx, "extension")
        return "已取消延期申请。"
    reply = _ask(ctx, state["code"], None, state.get("clock"), text)
    flows.end(ctx, "extension")
    return reply


flows.declare(flows.Flow("extension", "申请延期", continue_extension))
