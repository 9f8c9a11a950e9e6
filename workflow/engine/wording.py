"""What people read about a clock (提醒 / 即将超时 / 已超时), kept together so it can be reviewed as one text.

Every reminder names the item and the step, gives the time, and ends with the next step to take.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from core.clock import show
from core.durations import format_duration
from models import Item
from models.clock import Clock
from models.clocktable import row as clock_row


def subject(clock: Clock, item: Item) -> str:
    """The item and the step a clock is about: YQ-…《标题》的书面报告."""
    return f"{item.code}《{item.title}》的{clock.label}"


def next_step(clock: Clock, item: Item) -> str:
    """The one sentence telling the owner what to send to meet the clock (the clock table's next_step)."""
    r = clock_row(clock.kind)
    said = dict(r.next_step_by_source).get(item.source, r.next_step) if r else "办理完成后请在聊天中报送。"
    return said.format(code=item.code)


def nudge(clock: Clock, item: Item) -> str:
    """The first reminder (提醒): the target time if the policy has one, the due, the next step."""
    aim = f"目标时间 {show(clock.aim_at)}，" if clock.aim_at else ""
    return f"{subject(clock, item)}：{aim}最迟 {show(clock.due_at)}。\n{next_step(clock, item)}"


def warn(clock: Clock, item: Item, now: datetime) -> str:
    """The final warning (即将超时): how long is left, the next step, how to ask for more time for this clock."""
    left = clock.due_at - now
    when = f"还剩 {format_duration(left)}" if left >= timedelta(minutes=1) else "不到 1 分钟"
    why = short_notice(clock, item)
    why = f"{why}，迟延记在交办环节。" if why else ""
    return (
        f"{subject(clock, item)}将于 {show(clock.due_at)} 到期（{when}）。{why}\n{next_step(clock, item)}"
        f"\n确实来不及，请在到期前点“申请延期”，或发送“申请延期 {item.code} {clock.label} <时长> <原因>”。"
    )


def received_at(clock: Clock, item: Item) -> datetime:
    """When the owing unit received the item for this clock: the 交办 (or, for a later clock, its start)."""
    return max(clock.started_at, item.dispatched_at or clock.started_at)


def short_notice(clock: Clock, item: Item) -> str:
    """Why a miss is the dispatcher's ("交办时距时限已不足 N 分钟" / "交办时已过时限"); "" when it is the owner's."""
    if clock.charged != "office":
        return ""
    left = clock.due_at - received_at(clock, item)
    if left <= timedelta(0):
        return "交办时已过时限"
    return f"交办时距时限已不足 {max(1, math.ceil(left.total_seconds() / 60))} 分钟"


def at_dispatch(clock: Clock, item: Item) -> str:
    """A clock the dispatch left too little time for, as the office and the unit read it at 交办."""
    return f"{clock.label}（应于 {show(clock.due_at)}，{short_notice(clock, item)}）"


def missed(clock: Clock, item: Item, told: str) -> str:
    """The miss (已超时), to whoever owes the step: since when, who was told, the next step; a miss the late 交办
    caused says so and is not the owner's."""
    reported = f"，已报告{told}" if told else ""
    if why := short_notice(clock, item):
        head = (
            f"【已到期】{subject(clock, item)}已于 {show(clock.due_at)} 到期未完成{reported}。"
            f"{why}，迟延记在交办环节，不计本单位迟报。请立即办理。"
        )
    else:
        head = f"【已超时】{subject(clock, item)}已于 {show(clock.due_at)} 到期未完成{reported}。请立即办理。"
    return f"{head}\n{next_step(clock, item)}"


def overdue(clock: Clock, item: Item, now: datetime) -> str:
    """How late a clock is on a 督办 card: "已超时 12分钟" / "现已到期", or why the delay is the dispatcher's."""
    if why := short_notice(clock, item):
        return f"{why}（迟延记在交办环节）"
    over = now - clock.due_at
    return f"已超时 {format_duration(over)}" if over >= timedelta(minutes=1) else "现已到期"
