"""The 看板 H5 page for the office and leaders: open items with live countdowns, filters by unit and grade."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import redirect, request
from werkzeug.wrappers import Response

from bot.h5.auth import AUTH_FAILED, current_person, login_from_code, rt, to_oauth
from bot.h5.web import bp, message, page
from core import clock
from models import GRADE_NAMES
from workflow.duty import patrol
from workflow.views import board

FILTER = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # unit keys and grade names
MINE_ONLY = (
    "您看到的是与您有关的条目（您上报的、交办给您所在单位的）；全局看板对领导小组办公室、领导小组和局办公室开放。"
)


def _context(partial: bool) -> dict[str, Any] | Response:
    """Return the board's template context for the logged-in viewer, or the response that refuses."""
    with rt().sessions() as s:
        person = current_person(s)
        if person is None:
            return message("请从企业微信里重新打开看板。", 403) if partial else to_oauth()
        everything = board.may_view(person)
        unit, grade = request.args.get("unit", ""), request.args.get("grade", "")
        unit = unit if FILTER.fullmatch(unit) else ""
        grade = grade if grade in {str(g) for g in GRADE_NAMES} else ""
        now = clock.now()
        rows = board.rows(s, now, unit, grade, mine=None if everything else person)
        return {
            "rows": rows,
            "now_ms": int(now.timestamp() * 1000),
            "unit": unit,
            "grade": grade,
            "units": board.unit_choices(s),
            "grades": [(str(k), v) for k, v in GRADE_NAMES.items()],
            "viewer": person.name,
            "mine_only": not everything,
            "mine_only_text": MINE_ONLY,
            "missed": sum(r.missed for r in rows),
            "escalated": sum(1 for r in rows for o in r.owed if o.level >= 2),
            "scale": getattr(rt().config.policy, "scale", 1),
            "patrol": patrol.coverage(s, now) if everything else None,
        }


@bp.get("/board")
def board_page() -> Response:
    """The whole board (OAuth login on first visit)."""
    returned, userid = login_from_code()
    if returned:
        return redirect(request.path + _filters(), code=302) if userid else message(AUTH_FAILED, 403)
    ctx = _context(partial=False)
    return ctx if isinstance(ctx, Response) else page("board.html", **ctx)


@bp.get("/board/rows")
def board_rows() -> Response:
    """Just the rows, for the page's periodic refresh."""
    ctx = _context(partial=True)
    return ctx if isinstance(ctx, Response) else page("_board_rows.html", **ctx)


def _filters() -> str:
    """Return the page's own filters for the redirect after login, encoded (anything else is dropped)."""
    kept = {k: v for k in ("unit", "grade") if (v := request.args.get(k, "")) and FILTER.fullmatch(v)}
    return ("?" + urlencode(kept)) if kept else ""
