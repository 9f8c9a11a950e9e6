"""The 统计 H5 page (office and leaders): the bulletin's figures for any period and unit, its chart, the exports."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from bot.h5.auth import AUTH_FAILED, current_person, login_from_code, rt, to_oauth
from bot.h5.web import bp, message, page
from core import clock
from core.clock import local, show
from core.safename import safe_name
from core.scoring import parse_scoring
from models import Role
from workflow.appraisal import assessment, bulletin, bulletin_files
from workflow.engine.errors import Refusal
from workflow.incident.files import content_disposition
from workflow.record import export
from workflow.views import charts, trends

KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
VIEWERS = (Role.office, Role.leader)
ONLY = "统计页面对领导小组办公室和领导小组开放。单位负责人可在聊天中发送“考核”查看本单位情况。"


def _period() -> tuple[str, str, str]:
    """Return (from, to, month) from the query: a month (default this one) or from/to dates."""
    now = local(clock.now())
    month = request.args.get("month", "")
    start, end = request.args.get("from", ""), request.args.get("to", "")
    if not start and not end:
        month = month or show(now, form="month")
        lo, hi = assessment.month_range(month, clock.now())
        return local(lo).date().isoformat(), (local(hi).date() - timedelta(days=1)).isoformat(), month
    if not start or not end:
        raise Refusal("请同时给出开始和结束日期。")
    return start, end, ""


def _figures() -> tuple[dict[str, Any], dict[str, str]] | BaseResponse:
    """Return the figures and the query for the logged-in viewer, or the response that refuses."""
    with rt().sessions() as s:
        person = current_person(s)
        if person is None:
            return to_oauth()
        if not any(person.has(r) for r in VIEWERS):
            return message(ONLY, 403)
        unit = request.args.get("unit", "")
        if unit and not KEY.fullmatch(unit):
            return message("没有这个单位。", 400)
        try:
            start, end, month = _period()
            lo, hi = export.period(start, end)
            if local(lo).date() > local(clock.now()).date():
                raise Refusal("这段时间还没有到。")
            sets = bulletin.rule_sets(s, rt().config, month) if month else parse_scoring(rt().config.raw.get("scoring"))
            fig = bulletin.period_figures(s, sets, lo, hi, unit or None)
        except Refusal as exc:
            return message(str(exc), 400)
        fig["month"] = month or f"{start}至{end}"
        query = {"from": start, "to": end, **({"unit": unit} if unit else {})}
        fig["units_all"] = bulletin.scored_units(s)
        return fig, query


@bp.get("/stats")
def stats_page() -> BaseResponse:
    """The statistics page (OAuth login on first visit)."""
    returned, userid = login_from_code()
    if returned:
        kept = {k: v for k in ("month", "from", "to", "unit") if (v := request.args.get(k, "")) and KEY.fullmatch(v)}
        return (
            redirect(request.path + ("?" + urlencode(kept) if kept else ""), code=302)
            if userid
            else message(AUTH_FAILED, 403)
        )
    got = _figures()
    if isinstance(got, BaseResponse):
        return got
    fig, query = got
    return page(
        "stats.html",
        fig=fig,
        **_charts(fig, query),
        q=query,
        qs=urlencode(query),
        unit=query.get("unit", ""),
        span=bulletin_files.span,
        points=bulletin_files.points,
        roles={"main": "主要", "indirect": "间接"},
        states={"upheld": "认定", "disputed": "申诉中", "withdrawn": "已撤销"},
        today=local(clock.now()).date().isoformat(),
    )


def _empty(fig: dict[str, Any]) -> bool:
    """No item reported and no deduction in the period: nothing to score (not every unit at full marks)."""
    return not fig["items"]["total"] and not any(u["deductions"] for u in fig["units"])


def _charts(fig: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """The page's SVG charts: step times in the unit that fits, deductions, and the 12 months to the period's end."""
    steps = trends.step_times(fig["times"])
    unit = steps["unit"]
    shown = [r for r in steps["rows"] if r["n"]]
    lost = [(u["name"], [-sum(d["points"] for d in u["deductions"])]) for u in fig["units"] if u["deductions"]]
    end = min(clock.now(), export.period(query["from"], query["to"])[1] - timedelta(seconds=1))
    with rt().sessions() as s:
        tr = trends.build(s, rt().config, end, query.get("unit") or None)
    months, years = tr["months"], tr["years"]

    def scores(u: dict[str, Any]) -> Markup:
        got = [v for v in u["scores"] if v is not None]
        lo = min([*got, fig["base"]]) if got else fig["base"]
        return Markup(
            charts.line(f"{u['name']}每月得分", months, years, u["scores"], trends.number, lo - 1, fig["base"])
        )

    missed = [(u["name"], u["misses"]) for u in tr["units"] if any(u["misses"])]
    return {
        "empty": _empty(fig),
        "empty_words": trends.EMPTY,
        "steps": steps,
        "steps_svg": Markup(
            charts.bars(
                f"各环节用时（{unit}）",
                [(r["label"], [r["median"], r["p90"]]) for r in shown],
                ["中位数", "90%"],
                lambda v: f"{trends.number(v)}{unit}",
            )
        ) if shown else None,
        "lost_svg": Markup(charts.bars("本期各单位扣分", lost, ["扣分"], trends.number)) if lost else None,
        "trend": tr,
        "score_svgs": [(u["name"], scores(u)) for u in tr["units"]] if not tr["empty"] else [],
        "miss_svg": Markup(charts.stacked("每月时限超时次数", months, years, missed)) if missed else None,
        "source_svg": Markup(charts.stacked("每月条目（按来源）", months, years, _pairs(tr["by_source"]))),
        "platform_svg": Markup(charts.stacked("每月条目（按平台）", months, years, _pairs(tr["by_platform"]))),
        "number": trends.number,
    }  # fmt: skip


def _pairs(series: list[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    return [(r["name"], r["values"]) for r in series]


@bp.get("/stats/chart.png")
def stats_chart() -> BaseResponse:
    """The chart of the same figures, rendered on the server."""
    got = _figures()
    if isinstance(got, BaseResponse):
        return got
    return Response(bulletin_files.png(got[0]), mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/stats/export.<fmt>")
def stats_export(fmt: str) -> BaseResponse:
    """Downloads: the bulletin as xlsx, the items of the period as csv or xlsx."""
    got = _figures()
    if isinstance(got, BaseResponse):
        return got
    fig, query = got
    if fmt == "bulletin.xlsx":
        data = bulletin_files.xlsx(fig, bulletin.workbook_title(rt().config, fig, clock.now()))
        name = f"考核通报 {fig['month']}.xlsx"
    elif fmt in ("items.csv", "items.xlsx"):
        lo, hi = export.period(query["from"], query["to"])
        with rt().sessions() as s:
            table = export.rows(s, rt().config, lo, hi, clock.now())
        office = str(rt().config.raw.get("brief", {}).get("sender", "舆情工作领导小组办公室"))
        heading = export.title(query["from"], query["to"], office, clock.now())
        data = export.to_csv(table) if fmt == "items.csv" else export.to_xlsx(table, heading)
        name = f"条目 {query['from']}至{query['to']}.{fmt.split('.')[1]}"
    else:
        return message("没有这种导出格式。", 404)
    kind = "text/csv" if name.endswith(".csv") else bulletin.XLSX
    return Response(data, mimetype=kind, headers={"Content-Disposition": content_disposition(safe_name(name), False)})
