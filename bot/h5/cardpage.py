"""The 查看详情 page of a card: the whole text of a template card whose phone view is cut (WeCom's display limits)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.h5.auth import logged_in
from bot.h5.web import bp, message, page
from models import Item, OutboxMessage, Person
from models.state import OutboxKind
from workflow.views.query import involved

NO_CARD = "没有找到这张卡片。请从企业微信里的消息卡片打开。"
NOT_YOURS = "这张卡片不是发给您的，无权查看。"


@bp.get("/card/<task_id>")
def card_detail(task_id: str) -> Response:
    """The card's source, title, whole text and rows, for its recipients and people involved in its item."""
    return logged_in(lambda s, person: _card_page(s, person, task_id))


def _card_page(s: Session, person: Person, task_id: str) -> Response:
    """The page of the card task_id, as person may see it."""
    row = s.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.card_task_id == task_id, OutboxMessage.kind == OutboxKind.send)
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if row is None or row.msgtype != "template_card":
        return message(NO_CARD, 404)
    item = s.get(Item, row.item_id) if row.item_id else None
    if not _may_see(s, person, row, item):
        return message(NOT_YOURS, 403)
    viewer = url_for("h5.viewer", code=item.code) if item and involved(s, person, item) else ""
    return page("card.html", 200, card=card_context(row.payload), code=item.code if item else "", viewer=viewer)


def _may_see(s: Session, person: Person, row: OutboxMessage, item: Item | None) -> bool:
    """Tell whether person received the card or is involved in its item."""
    recipients = (row.sent_to or row.touser or "").split("|")
    return person.userid in recipients or (item is not None and involved(s, person, item))


def card_context(payload: dict[str, Any]) -> dict[str, Any]:
    """Return what the page shows of a card body: its whole texts (kept in "detail") and its buttons' names."""
    card = payload.get("template_card") or {}
    detail = payload.get("detail") or {}
    rows = detail.get("fields") or [
        (r.get("keyname", ""), r.get("value", "")) for r in card.get("horizontal_content_list") or []
    ]
    return {
        "source": detail.get("source") or (card.get("source") or {}).get("desc", ""),
        "title": detail.get("title") or (card.get("main_title") or {}).get("title", ""),
        "desc": detail.get("desc") or (card.get("main_title") or {}).get("desc", ""),
        "text": detail.get("text") or card.get("sub_title_text", ""),
        "fields": [(str(k), str(v)) for k, v in rows],
        "buttons": [b.get("text", "") for b in card.get("button_list") or [] if b.get("type", 0) == 0],
    }
