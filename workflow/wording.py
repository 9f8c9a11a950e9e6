"""What people read about a clock (提醒 / 即将超时 / 已超时), kept together so it can be reviewed as one text.

Every reminder names the item and the step, gives the time, and ends with the next step to take.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import show
from core.durations import format_duration
from models import Item
from models.clock import Clock

NEXT_STEP = {
    "notify_units": "请尽快交办：交办 {code} <单位> <等级>。",
    "first_report": "完成后发送“首报 {code} 内容”；已口头汇报的请点“已口头汇报”。",
    "written_report": "请点“写书面报告”或发送“书面报告 {code}”；Word/PDF 用报送卡片上的“上传文件”。",
    "handling_report": "请发送“处置报告 {code} 处置情况及结果”。",
    "reply_source": "答复后请发送“回复来源 {code} 答复内容”。",
}


def subject(clock: Clock, item: Item) -> str:
    """The item and the step a clock is about: YQ-…《标题》的书面报告."""
    return f"{item.code}《{item.title}》的{clock.label}"


def next_step(clock: Clock, item: Item) -> str:
    """The one sentence telling the owner what to send to meet the clock."""
    return NEXT_STEP.get(clock.kind, "办理完成后请在聊天中报送。").format(code=item.code)


def nudge(clock: Clock, item: Item) -> str:
    """The first reminder (提醒): the target time if the policy has one, the due, the next step."""
    aim = f"目标时间 {show(clock.aim_at)}，" if clock.aim_at else ""
    return f"{subject(clock, item)}：{aim}最迟 {show(clock.due_at)}。\n{next_step(clock, item)}"


def warn(clock: Clock, item: Item, now: datetime) -> str:
    """The final warning (即将超时): how long is left, the next step, how to ask for more time for this clock."""
    left = clock.due_at - now
    when = f"还剩 {format_duration(left)}" if left >= timedelta(minutes=1) else "不到 1 分钟"
    return (
        f"{subject(clock, item)}将于 {show(clock.due_at)} 到期（{when}）。\n{next_step(clock, item)}"
        f"\n确实来不及，请在到期前点“申请延期”，或发送“申请延期 {item.code} {clock.label} <时长> <原因>”。"
    )


def missed(clock: Clock, item: Item, told: str) -> str:
    """The miss (已超时), to whoever owes the step: since when, who was told, the next step."""
    reported = f"，已报告{told}" if told else ""
    head = f"【已超时】{subject(clock, item)}已于 {show(clock.due_at)} 到期未完成{reported}。请立即办理。"
    return f"{head}\n{next_step(clock, item)}"
