"""Pure card builders for written reports, approval, consultation and the follow-up watch."""

from __future__ import annotations

from typing import Any

from core.clock import show
from models import Item, Submission
from models.codes import card_key
from models.procedure import Act
from workflow.views.render import button_card, grade_name, next_steps

APPROVE_SOURCE = "瞭望 · 书面报告审核"
DECIDE_SOURCE = "瞭望 · 书面报告审定"


def upload_card(item: Item, unit_name: str, task_id: str, url: str, returned: str | None = None) -> dict[str, Any]:
    """Return the card that lets a unit send its written report: upload files (H5) or type it in the chat."""
    sub = (
        "已退回修改，请修改后重新报送。"
        if returned
        else "可上传 Word、PDF 或图片（每个不超过 20 MB），也可以在聊天中直接填写、发送照片。"
    )
    fields = [("主办单位", unit_name), ("等级", grade_name(item.grade))]
    later = [] if returned else [("申请延期", card_key("do", Act.request_extension.value, item.code), 2)]
    return button_card(
        "瞭望 · 书面报告",
        f"报送书面报告：{item.title}",
        item.code,
        sub,
        fields,
        task_id,
        [*next_steps(item, "lead"), ("在聊天中填写", card_key("wr", item.code), 2), *later],
        links=[("上传文件", url)],
        content=f"退回意见：{returned}" if returned else "",
    )


def approval_card(
    item: Item,
    sub: Submission,
    clocks: str,
    task_id: str,
    url: str,
    can_escalate: bool,
    stage: str = "审核",
    reviewer: str = "",
) -> dict[str, Any]:
    """Return the 批准 / 退回修改 / 升级为重大 card for one version of a written report, with a viewer link.

    stage: 审核 (the unit's supervisor) or 审定 (the leading group, for major items, after the 审核).
    """
    files = len(sub.attachments)
    fields = [
        ("等级", grade_name(item.grade)),
        ("主办单位", sub.unit.name),
        ("报送", f"{sub.author.name} {show(sub.created_at, True)}"),
        ("版本", f"第 {sub.version} 版 · 附件 {files} 个"),
    ]
    if clocks:
        fields.append(("时限", clocks))
    buttons = [("批准", card_key("appr", sub.id, "ok"), 1), ("退回修改", card_key("appr", sub.id, "back"), 2)]
    if can_escalate:
        buttons.append(("升级为重大", card_key("appr", sub.id, "major"), 2))
    text = sub.text.strip() or "（见附件）"
    ask = f"请{stage}后点“批准”或“退回修改”；全文和附件请点“查看报告”。"
    if stage == "审定":
        fields.insert(0, ("审定", f"已由{reviewer}审核，请领导小组审定"))
    return button_card(
        APPROVE_SOURCE if stage == "审核" else DECIDE_SOURCE,
        f"【{grade_name(item.grade)}】{item.title}",
        item.code,
        ask,
        fields,
        task_id,
        buttons,
        links=[("查看报告", url)],
        content=text,
    )


def opinion_card(item: Item, summary: str, task_id: str, url: str) -> dict[str, Any]:
    """Return the 会商 card asking the general office (and departments) for an opinion before the reply."""
    fields = [("等级", grade_name(item.grade))]
    return button_card(
        "瞭望 · 会商征求意见",
        f"会商：{item.title}",
        item.code,
        "请点“无不同意见”或“提出意见”。",
        fields,
        task_id,
        [("无不同意见", card_key("opin", item.code, "ok"), 1), ("提出意见", card_key("opin", item.code, "say"), 2)],
        links=[("查看报告", url)],
        content=summary,
    )


def watch_card(item: Item, n: int, until: str, task_id: str, watch_id: int) -> dict[str, Any]:
    """Return the follow-up check-in card (善后观察): 平稳 / 反弹."""
    fields = [("观察截至", until), ("第几次回报", f"第 {n} 次")]
    return button_card(
        "瞭望 · 善后观察",
        f"善后回访：{item.title}",
        item.code,
        "该舆情已办结，请确认近期态势：是否平稳，有无反弹？",
        fields,
        task_id,
        [("平稳", card_key("fu", watch_id, n, "calm"), 1), ("反弹", card_key("fu", watch_id, n, "up"), 2)],
    )
