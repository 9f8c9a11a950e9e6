"""查看全文 of a 快报 / 专报 awaiting approval: the document as Word will print it (the same template and data), for
the leaders who approve it, the office and the people involved in its item."""

from __future__ import annotations

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.h5.auth import logged_in
from bot.h5.web import bp, message, page
from core.runtime import runtime
from models import Brief, Item, Person
from workflow.record import brief, documents
from workflow.views.query import involved

NO_BRIEF = "没有找到这份快报或专报。请从企业微信里的审批卡片打开。"
NOT_YOURS = "这份上报材料不是送您审批的，无权查看。"


@bp.get("/brief/<int:brief_id>")
def brief_preview(brief_id: int) -> Response:
    """The whole 快报 / 专报 as a page: 红头, 期号, title, sections, 版记 (rendered from the Word template)."""
    return logged_in(lambda s, person: _preview(s, person, brief_id))


def _preview(s: Session, person: Person, brief_id: int) -> Response:
    """The preview of brief brief_id, as person may see it."""
    b = s.get(Brief, brief_id)
    if b is None:
        return message(NO_BRIEF, 404)
    item = s.get_one(Item, b.item_id)
    if person.userid not in (b.deciders or []) and person.userid != b.requested_by and not involved(s, person, item):
        return message(NOT_YOURS, 403)
    data = brief.preview_docx(s, runtime().config, b)
    state = {"pending": "待审批", "approved": "已同意", "returned": "已退回"}.get(b.state, b.state)
    return page("brief.html", 200, kind=b.kind, state=state, code=item.code, paras=documents.preview(data))
