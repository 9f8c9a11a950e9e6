"""Pure message and card builders (WeCom JSON bodies without touser/agentid)."""

from __future__ import annotations

from typing import Any

from core.clock import show
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
