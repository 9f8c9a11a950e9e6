"""Trends on the statistics page: month-over-month figures per unit, items by source and platform, step times in the
unit that fits, and a clear empty state; figures from the read model, charts as SVG with their values written."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.clock import local
from models import Unit
from models.clock import Clock
from models.state import ClockState
from tests.integration.flowkit import cards, click, code_in
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_casefile import section, text_of
from tests.integration.test_deadlines import POLICY
from workflow.views import trends

DAY = 86400


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """H5 pages, clocks of seconds (首报 due 30 s for 较大) on a clock the test moves."""
    return make_stack(pages=True, extra={"policy": POLICY})


def report(st: Stack, text: str) -> str:
    """张三 reports text; the office dispatches it to 执法一队 as 较大; return its 编号."""
    st.say("zhangsan", f"上报 {text}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    return code


def misses_by_month(st: Stack) -> Counter[str]:
    """执法一队's clocks that passed their due (missed or met late), by the Beijing month of the due."""
    with st.rt.sessions() as s:
        team = s.scalars(select(Unit).where(Unit.key == "team1")).one()
        rows = s.scalars(
            select(Clock).where(
                Clock.owner_unit_id == team.id,
                Clock.state.in_((ClockState.missed, ClockState.met_late)),
                Clock.charged.is_(None),
            )
        )
        return Counter(local(c.due_at).strftime("%Y-%m") for c in rows)


def test_scores_misses_sources_and_platforms_month_over_month(st: Stack) -> None:
    first_month = local(clock.now()).strftime("%Y-%m")
    code = report(st, "微博网友称执法人员态度粗暴 https://weibo.com/1/2")
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "签收")
    st.later(31)  # the 首报 is late: 迟报
    late_month = local(clock.now() - timedelta(seconds=1)).strftime("%Y-%m")  # the month of its due
    st.say("wangwu", f"首报 {code} 已核实")
    st.later(40 * DAY)
    second_month = local(clock.now()).strftime("%Y-%m")
    report(st, "抖音视频称占道经营无人管 https://www.douyin.com/video/9")

    with st.rt.sessions() as s:
        tr = trends.build(s, st.rt.config, clock.now())
    keys = tr["keys"]
    assert len(keys) == 12
    assert keys[-1] == second_month
    a, b = keys.index(first_month), keys.index(second_month)
    assert tr["total"][a] == 1
    assert tr["total"][b] == 1
    by_platform = {r["name"]: r["values"] for r in tr["by_platform"]}
    assert by_platform["微博"][a] == 1
    assert by_platform["抖音"][b] == 1
    assert {r["name"]: r["total"] for r in tr["by_source"]} == {"主动发现": 2}
    team = next(u for u in tr["units"] if u["name"] == "执法一队")
    east = next(u for u in tr["units"] if u["name"] == "城东区局")
    expected = misses_by_month(st)
    assert expected[late_month] >= 1, "the late 首报"
    assert team["misses"] == [expected.get(k, 0) for k in keys]
    late = keys.index(late_month)
    assert team["scores"][late] is not None
    assert team["scores"][late] < 100
    assert east["scores"][a] == 100, "a month with items scores every unit"
    assert east["scores"][b] == 100
    quiet = [i for i, k in enumerate(keys) if not tr["total"][i] and not expected.get(k)]
    assert quiet, "some months had nothing"
    assert all(team["scores"][i] is None for i in quiet), "a month without data has no score, not 100"
    assert all(east["scores"][i] is None for i in quiet)

    with st.rt.sessions() as s:
        east_only = trends.build(s, st.rt.config, clock.now(), "chengdong")
    assert [u["name"] for u in east_only["units"]] == ["城东区局"]
    assert not any(east_only["total"]), "one unit's trends count that unit's items only"

    page = text_of(Browser(st).login("chenqi", "/h5/stats").text)
    shown = section(page, "近 12 个月趋势", "通报用图（PNG，适合电脑查看或打印）")
    assert "各单位每月得分" in shown
    assert "微博 1" in shown, "the legend names each platform with its count"
    assert "抖音 1" in shown
    assert "主动发现 2" in shown
    assert "—" in shown, "empty months are marked"


def test_step_times_are_in_minutes_or_hours_as_fits(st: Stack) -> None:
    quick = report(st, "网传某商户被罚款 https://weibo.com/3/4")
    st.later(5 * 60)
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "签收")
    st.later(12 * 60)
    st.say("wangwu", f"首报 {quick} 已核实")
    today = local(clock.now() - timedelta(minutes=17)).date().isoformat()
    now = local(clock.now()).date().isoformat()
    office = Browser(st)
    office.login("chenqi", "/h5/stats")
    page = text_of(office.get(f"/h5/stats?from={today}&to={now}").text)
    steps = section(page, "各环节用时（分钟）", "近 12 个月趋势")
    assert re.search(r"交办→签收\n5分钟\n5分钟\n1\n", steps), steps
    assert re.search(r"交办→首报\n17分钟\n17分钟\n1\n", steps), steps
    assert "0.0" not in steps
    assert "小时" not in steps

    st.later(2 * DAY)
    slow = report(st, "网传某工地夜间施工扰民 https://weibo.com/5/6")
    st.later(3 * 3600)
    click(st, "wangwu", cards(st, "wangwu", "舆情交办")[-1], "签收")
    day = local(clock.now()).date().isoformat()
    start = (local(clock.now()) - timedelta(hours=3)).date().isoformat()
    page = text_of(office.get(f"/h5/stats?from={start}&to={day}").text)
    steps = section(page, "各环节用时（小时）", "近 12 个月趋势")
    assert re.search(r"交办→签收\n3小时\n3小时\n1", steps), steps
    assert slow


def test_an_empty_period_says_so_instead_of_every_unit_at_full_marks(st: Stack) -> None:
    report(st, "网传某路段井盖缺失 https://weibo.com/7/8")
    long_ago = local(clock.now() - timedelta(days=400)).date()
    office = Browser(st)
    office.login("chenqi", "/h5/stats")
    got = office.get(f"/h5/stats?from={long_ago.isoformat()}&to={long_ago.isoformat()}")
    assert got.status_code == 200
    page = text_of(got.text)
    units = section(page, "单位得分", "各环节用时（分钟）")
    assert trends.EMPTY in units
    assert "100" not in units, "no unit shown at full marks for a period without data"
    assert trends.EMPTY in section(page, "各环节用时（分钟）", "近 12 个月趋势")
    assert trends.EMPTY in section(page, "近 12 个月趋势", "条目")
    assert "<svg" not in got.text.split("近 12 个月趋势", 1)[1], "no empty chart"
    assert "chart.png" not in got.text, "nor the bulletin's empty picture"


def test_figures_read_as_people_read_them() -> None:
    assert trends.scale([30.0, 18 * 60.0, None]) == ("分钟", 60.0)
    assert trends.scale([30.0, 5 * 3600.0]) == ("小时", 3600.0)
    assert trends.scale([4 * 86400.0]) == ("天", 86400.0)
    assert [trends.number(v) for v in (0, 0.004, 0.25, 3.5, 12.4, 98.5, 100)] == [
        "0", "<0.1", "0.2", "3.5", "12.4", "98.5", "100"
    ]  # fmt: skip
    assert trends.platform("https://m.weibo.cn/status/1") == "微博"
    assert trends.platform("https://www.douyin.com/video/9") == "抖音"
    assert trends.platform("weibo.com.evil.example/x") == trends.OTHER
    labels = trends.months(datetime(2027, 2, 10, 12, tzinfo=UTC))
    assert [m.label for m in labels][:2] == ["3月", "4月"]
    assert [m.year for m in labels if m.year] == ["2026年", "2027年"], "the year under the first month and January"
    assert labels[-1].key == "2027-02"
    december = trends.months(datetime(2027, 1, 5, tzinfo=UTC))
    assert december[0].label == "2月"
    assert trends.months(datetime(2027, 11, 5, 1, tzinfo=UTC))[0].year == "", "a December followed by January"
