"""Pure message and card builders (WeCom JSON bodies without touser/agentid)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.clock import show
from core.durations import format_duration
from models import GRADE_NAMES, Grade, Item, Unit
from models.item import SOURCES


def text(content: str) -> dict[str, Any]:
    """Return a text message body."""
    return {"msgtype": "text", "text": {"content": content}}


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


def ack_card(item: Item, unit: Unit, task_id: str, dispatcher: str) -> dict[str, Any]:
    """Return the button_interaction card that asks a unit's leads to acknowledge (签收)."""
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "button_interaction",
            "source": {"desc": "瞭望 · 舆情交办"},
            "main_title": {"title": f"【{grade_name(item.grade)}】{item.title}"[:36], "desc": item.code},
            "sub_title_text": item.text[:120],
            "horizontal_content_list": [
                {"keyname": "承办单位", "value": unit.name},
                {"keyname": "等级", "value": grade_name(item.grade)},
                {"keyname": "交办人", "value": dispatcher},
                {"keyname": "交办时间", "value": show(item.dispatched_at, True)},
            ],
            "task_id": task_id,
            "button_list": [{"type": 0, "text": "签收", "style": 1, "key": f"ack:{item.code}:{unit.key}"}],
        },
    }


def card_done(response_code: str, userids: list[str], agent_id: int | None, label: str) -> dict[str, Any]:
    """Return an update_template_card body that turns the card's button into label for userids."""
    body: dict[str, Any] = {"userids": userids, "response_code": response_code,
                            "button": {"replace_name": label[:32]}}
    if agent_id is not None:
        body["agentid"] = agent_id
    return body


def escalation_card(item: Item, label: str, unit: str, owners: str, due: datetime, now: datetime, level: int,
                    task_id: str, clock_id: int) -> dict[str, Any]:
    """Return the 督办 card of an escalation level: who owes what since when, with quick actions."""
    late = format_duration(now - due) if now > due else "刚刚"
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "button_interaction",
            "source": {"desc": f"瞭望 · 超时督办（第 {level} 级）"},
            "main_title": {"title": f"【超时】{label}：{item.title}"[:36], "desc": item.code},
            "sub_title_text": f"{unit}（{owners}）的{label}应于 {show(due, True)} 前完成，已超时 {late}。",
            "horizontal_content_list": [
                {"keyname": "等级", "value": grade_name(item.grade)},
                {"keyname": "承办", "value": unit},
                {"keyname": "应完成", "value": show(due, True)},
                {"keyname": "督办级别", "value": f"第 {level} 级"},
            ],
            "task_id": task_id,
            "button_list": [
                {"type": 0, "text": "催办", "style": 1, "key": f"urge:{clock_id}"},
                {"type": 0, "text": "已知悉", "style": 2, "key": f"seen:{clock_id}"},
            ],
        },
    }


def extension_card(item: Item, label: str, who: str, span: timedelta, reason: str, due: datetime,
                   new_due: datetime, ext_id: int, task_id: str) -> dict[str, Any]:
    """Return the card asking a supervisor to approve or refuse an extension."""
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "button_interaction",
            "source": {"desc": "瞭望 · 延期申请"},
            "main_title": {"title": f"延期申请：{item.title}"[:36], "desc": item.code},
            "sub_title_text": f"{who}申请{label}延期 {format_duration(span)}：{reason}"[:160],
            "horizontal_content_list": [
                {"keyname": "原最迟", "value": show(due, True)},
                {"keyname": "延期后", "value": show(new_due, True)},
                {"keyname": "等级", "value": grade_name(item.grade)},
            ],
            "task_id": task_id,
            "button_list": [
                {"type": 0, "text": "同意", "style": 1, "key": f"ext:{ext_id}:yes"},
                {"type": 0, "text": "不同意", "style": 2, "key": f"ext:{ext_id}:no"},
            ],
        },
    }


def reminder_card(item: Item, title: str, text: str, task_id: str, clock_id: int) -> dict[str, Any]:
    """Return a first-report reminder with the 已口头汇报 button (oral reports count)."""
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "button_interaction",
            "source": {"desc": "瞭望 · 时限提醒"},
            "main_title": {"title": f"{title}：{item.title}"[:36], "desc": item.code},
            "sub_title_text": text[:160],
            "task_id": task_id,
            "button_list": [{"type": 0, "text": "已口头汇报", "style": 1, "key": f"oral:{clock_id}"}],
        },
    }
