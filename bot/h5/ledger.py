"""The 台账 H5 page /h5/items: every item the viewer may see, searched, filtered, sorted, paged, exported."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.h5.auth import logged_in
from bot.h5.web import bp, message, page
from core import clock
from core.safename import safe_name
from models import Person
from workflow.engine.errors import Refusal
from workflow.incident.files import content_disposition
from workflow.views import ledger

MINE_ONLY = "您看到的是您参与过的条目（您上报的、交办给您所在单位的、请您提意见或发卡片给您的）。"
EXPORTS = {
    "csv": ("text/csv; charset=utf-8", ledger.to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ledger.to_xlsx),
}


def _query() -> ledger.Query:
    """The page's query from the URL (refused in Chinese when a value is wrong)."""
    return ledger.parse(request.args)


def _refused(r: Refusal) -> Response:
    return message(r.message, 400, title="台账", link=("重新查询", url_for("h5.ledger_page")))


@bp.get("/items")
def ledger_page() -> Response:
    """The ledger for the logged-in person (OAuth login on first visit)."""
    return logged_in(_page)


def _page(s: Session, person: Person) -> Response:
    try:
        query = _query()
    except Refusal as r:
        return _refused(r)
    found = ledger.page(s, query, person)
    shown = query if query.page <= found.pages else replace(query, page=found.pages)

    def link(**change: object) -> str:
        args = shown.args(**change)
        return url_for("h5.ledger_page") + ("?" + urlencode(args) if args else "")

    def export(kind: str) -> str:
        args = shown.args(page=1)
        return url_for("h5.ledger_export", kind=kind) + ("?" + urlencode(args) if args else "")

    return page(
        "items.html",
        found=found,
        query=shown,
        page_no=shown.page,
        link=link,
        export=export,
        scope_link=lambda scope: link(scope=ledger.Scope(scope), page=1),
        choices=ledger.choices(s),
        described=ledger.describe(query, s),
        viewer=person.name,
        cap=ledger.COUNT_CAP,
        mine_only=MINE_ONLY if not ledger.sees_everything(person) else "",
    )


@bp.get("/items.<kind>")
def ledger_export(kind: str) -> Response:
    """The current view (every page of it) as CSV or xlsx."""
    if kind not in EXPORTS:
        return message("只能导出 CSV 或 xlsx。", 404, title="台账")

    def view(s: Session, person: Person) -> Response:
        try:
            query = _query()
        except Refusal as r:
            return _refused(r)
        mimetype, write = EXPORTS[kind]
        data = write(ledger.rows(s, query, person))
        day = clock.show(clock.now(), form="day")
        name = safe_name(f"舆情台账 {ledger.describe(query, s)} {day}.{kind}")
        resp = Response(data, mimetype=mimetype)
        resp.headers["Content-Disposition"] = content_disposition(name, inline=False)
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    return logged_in(view)
