"""Pure message and card builders (WeCom JSON bodies without touser/agentid)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.clock import show
from core.durations import format_duration
from models import GRADE_NAMES, Grade, Item, Unit
from models.codes import card_key
from models.item import PART_NAMES, SOURCES

TEXT_LIMIT = 2000  # WeCom refuses text messages over 2048 bytes; keep a margin
CUT = "……（内容较长，全文请发送“查询 编号”或打开查看页面）"


def text(content: str) -> dict[str, Any]:
    """Return a text message body, cut (with a note) to what WeCom accepts: 2048 bytes."""
    if len(content.encode()) > TEXT_LIMIT:
        room = TEXT_LIMIT - len(CUT.encode())
        content = content.encode()[:room].decode("utf-8", "ignore") + CUT
    return {"msgtype": "text", "text": {"content": content}}


def chunks(content: str, limit: int = 2000) -> list[str]:
    """Split content at line ends into pieces of at most limit UTF-8 bytes (WeCom refuses text over 2048 bytes)."""
    pieces: list[str] = []
    current = ""
    for line in content.split("\n"):
        while len(line.encode()) > limit:  # one very long line: cut it by characters
            cut = len(line.encode()[:limit].decode("utf-8", "ignore"))
            pieces, current = pieces + ([current] if current else []) + [line[:cut]], ""
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    return [*pieces, current] if current or not pieces else pieces


def grade_name(grade: str | None) -> str:
    """Return the Chinese grade name, or 未定级."""
    return GRADE_NAMES.get(Grade(grade), grade) if grade else "未定级"


def item_line(item: Item) -> str:
    """Return "YQ-… 《标题》" for lists."""
    return f"{item.code}《{item.title}》"


def new_item_notice(item: Item, reporter_name: str) -> str:
    """Text for the office when an item is reported."""
    links = "\n".join(link.url for link in item.links[:3])
    suggested = f"\n建议等级：{grade_name(item.suggested_grade)}" if item.suggested_grade else ""
    return (
        f"【新舆情待交办】{item.code}\n{item.title}\n来源：{SOURCES.get(item.source, item.source)}"
        f"\n上报人：{reporter_name}（{show(item.reported_at, True)}）{suggested}"
        + (f"\n链接：{links}" if links else "")
        + f"\n\n请定级交办：交办 {item.code} <单位> [一般|较大|重大]"
    )


def button_card(
    source: str,
    title: str,
    desc: str,
    sub: str,
    fields: list[tuple[str, str]],
    task_id: str,
    buttons: list[tuple[str, str, int]],
    links: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Return a button_interaction card: ≤ 6 buttons of (text, key, style) then URL buttons of (text, url).

    The first link also becomes the whole card's click target: a decided card's buttons are replaced by one label
    (update_template_card), and the card must still open the report.
    """
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": source},
        "main_title": {"title": title[:36], "desc": desc},
        "sub_title_text": sub[:160],
        "task_id": task_id,
        "button_list": (
            [{"type": 0, "text": t, "style": style, "key": k} for t, k, style in buttons]
            + [{"type": 1, "text": t, "style": 4, "url": u} for t, u in links or []]
        )[:6],
    }
    if fields:
        card["horizontal_content_list"] = [{"keyname": k, "value": v} for k, v in fields]
    if links:
        card["card_action"] = {"type": 1, "url": links[0][1]}
    return {"msgtype": "template_card", "template_card": card}


def ack_card(
    item: Item, unit: Unit, task_id: str, dispatcher: str, late: str = "", part: str = "lead"
) -> dict[str, Any]:
    """Return the card that asks a unit's leads to acknowledge (签收), naming its part (主办/协办); late names the
    steps already overdue."""
    fields = [
        (f"{PART_NAMES.get(part, '承办')}单位", unit.name),
        ("等级", grade_name(item.grade)),
        ("交办人", dispatcher),
        ("交办时间", show(item.dispatched_at, True)),
    ]
    if late:
        fields.append(("交办时已过时限", f"{late}，请立即办理（迟延记在交办环节）"))
    return button_card(
        "瞭望 · 舆情交办",
        f"【{grade_name(item.grade)}】{item.title}",
        item.code,
        item.text[:120],
        fields,
        task_id,
        [("签收", card_key("ack", item.code, unit.key), 1)],
    )


def card_done(response_code: str, userids: list[str], agent_id: int | None, label: str) -> dict[str, Any]:
    """Return an update_template_card body that turns the card's button into label for userids."""
    body: dict[str, Any] = {"userids": userids, "response_code": response_code, "button": {"replace_name": label[:32]}}
    if agent_id is not None:
        body["agentid"] = agent_id
    return body


def escalation_card(
    item: Item,
    label: str,
    unit: str,
    owners: str,
    due: datetime,
    now: datetime,
    level: int,
    task_id: str,
    clock_id: int,
) -> dict[str, Any]:
    """Return the 督办 card of an escalation level: who owes what since when, with quick actions."""
    over = now - due
    late = f"已超时 {format_duration(over)}" if over >= timedelta(minutes=1) else "现已到期"
    fields = [
        ("等级", grade_name(item.grade)),
        ("承办", unit),
        ("应完成", show(due, True)),
        ("督办级别", f"第 {level} 级"),
    ]
    return button_card(
        f"瞭望 · 超时督办（第 {level} 级）",
        f"【超时】{label}：{item.title}",
        item.code,
        f"{unit}（{owners}）的{label}应于 {show(due, True)} 前完成，{late}，仍未完成。",
        fields,
        task_id,
        [("催办", card_key("urge", clock_id), 1), ("已知悉", card_key("seen", clock_id), 2)],
    )


def extension_card(
    item: Item,
    label: str,
    who: str,
    span: timedelta,
    reason: str,
    due: datetime,
    new_due: datetime,
    ext_id: int,
    task_id: str,
) -> dict[str, Any]:
    """Return the card asking a supervisor to approve or refuse an extension."""
    fields = [("原最迟", show(due, True)), ("延期后", show(new_due, True)), ("等级", grade_name(item.grade))]
    return button_card(
        "瞭望 · 延期申请",
        f"延期申请：{item.title}",
        item.code,
        f"{who}申请{label}延期 {format_duration(span)}：{reason}",
        fields,
        task_id,
        [("同意", card_key("ext", ext_id, "yes"), 1), ("不同意", card_key("ext", ext_id, "no"), 2)],
    )


def reminder_card(
    item: Item, title: str, text: str, task_id: str, buttons: list[tuple[str, str, int]]
) -> dict[str, Any]:
    """Return a deadline reminder card with quick actions (已口头汇报, 申请延期)."""
    return button_card("瞭望 · 时限提醒", f"{title}：{item.title}", item.code, text, [], task_id, buttons)
