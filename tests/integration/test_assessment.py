"""Assessment through the WeCom protocol: late reports from the clocks, recorded facts, disputes, the bulletin."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from PIL import Image

from core import clock
from core.clock import local
from sandbox.server import EmulatorServer
from tests.integration.flowkit import buttons, cards, click, code_in
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config

POLICY = {
    "start": "dispatched",
    "escalate_after": "1h",
    "escalate_every": "1h",
    "escalate_max": 2,
    "clocks": {
        "first_report": {g: {"due": "60s"} for g in ("major", "significant", "general")},
        # 90 days: even their reminders (at half the span) come after any month end, whatever the test's date
        "written_report": {g: {"due": "90d"} for g in ("major", "significant", "general")},
        "handling_report": {"all": {"due": "90d"}},
    },
}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages whose first-report clock is a minute long and the others outlast the month."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _item(st: Stack, title: str) -> str:
    st.say("zhangsan", f"上报 {title}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    return code


def _facts(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"[CF]\d+", text)))


def _month_end(st: Stack) -> None:
    """Move the clock to the 1st of next month at 09:00 Beijing time (the bulletin's default time)."""
    now = local(clock.now())
    first = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    st.later((first - now).total_seconds())


def test_a_month_of_misses_extensions_waivers_facts_and_disputes_makes_the_right_bulletin(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    month = f"{local(clock.now()).year:04d}-{local(clock.now()).month:02d}"
    late, extended, waived = _item(st, "迟报的条目"), _item(st, "延期的条目"), _item(st, "免除的条目")
    st.say("chenqi", f"免除时限 {waived} 首报 经核实为重复条目")
    st.later(40)
    st.say("wangwu", f"申请延期 {extended} 首报 50s 需要补充现场核查")
    click(st, "lisi", cards(st, "lisi", "延期")[-1], "同意")
    st.later(30)  # the first item's first report is now late
    st.say("wangwu", f"首报 {late} 已核实，系商户纠纷")
    st.say("wangwu", f"首报 {extended} 已核实")

    st.say("chenqi", f"扣分 {late} 城东区局 漏报 主要 没有参与的单位")
    assert "没有参与" in st.last("chenqi"), "a fact for a unit that had no part in the item"
    st.say("zhangsan", f"扣分 {late} 执法一队 漏报 主要 冒名记录")
    assert "只有领导小组办公室" in st.last("zhangsan")
    st.say("chenqi", f"扣分 {late} 执法一队 漏报 主要 群众先于本单位发现并扩散 https://weibo.com/1/2")
    recorded = _facts(st.last("chenqi"))[0]
    assert recorded.startswith("F")
    assert f"申诉 {recorded}" in st.last("wangwu"), "the unit is told and how to dispute"

    st.say("wangwu", "考核")
    mine = st.last("wangwu")
    derived = [k for k in _facts(mine) if k.startswith("C")]
    assert len(derived) == 1, f"only the late first report is a 迟报 (extension and waiver are not): {mine}"
    assert late in mine
    assert extended not in mine
    assert waived not in mine
    assert recorded in mine

    st.say("zhangsan", f"申诉 {recorded} 不是我们的责任")
    assert "只有该单位负责人可以申诉" in st.last("zhangsan")
    st.say("wangwu", f"申诉 {recorded} 本单位已于当天电话报告")
    assert "已提交" in st.last("wangwu")
    st.say("wangwu", f"申诉 {recorded} 再申诉一次")
    assert "已经申诉过了" in st.last("wangwu"), "a second dispute"
    card = cards(st, "chenqi", "考核申诉")[-1]
    assert set(buttons(card)) == {"维持", "撤销"}
    click(st, "chenqi", card, "撤销")
    assert "撤销" in st.last("wangwu")
    st.say("wangwu", f"申诉 {derived[0]} 系统故障未能报送")
    st.say("chenqi", f"维持 {derived[0]} 未见故障记录")
    assert "维持" in st.last("wangwu")
    st.say("chenqi", f"维持 {derived[0]}")
    assert "已经审定过了" in st.last("chenqi"), "a decision is taken once"

    before = {u: len(st.inbox(u)) for u in ("liujiu", "chenqi", "wangwu")}
    _month_end(st)
    for userid in ("liujiu", "chenqi"):
        new = st.inbox(userid)[before[userid] :]
        kinds = [r["msgtype"] for r in new]
        assert kinds.count("markdown") == 1, kinds
        assert kinds.count("image") == 1, kinds
        assert kinds.count("file") == 2, kinds  # the xlsx and the 通报 (.docx)
    assert len(st.inbox("wangwu")) == before["wangwu"], "units are not sent the leaders' bulletin"
    summary = next(r for r in st.inbox("liujiu") if r["msgtype"] == "markdown")["body"]["markdown"]["content"]
    assert "执法一队" in summary
    assert len(summary.encode()) <= 2048

    sent = {u: len(st.inbox(u)) for u in ("liujiu", "chenqi")}
    st.later(3600)
    assert {u: len(st.inbox(u)) for u in ("liujiu", "chenqi")} == sent, "the bulletin is sent once"

    xlsx = next(r for r in st.inbox("liujiu") if r["msgtype"] == "file")["body"]["file"]["media_id"]
    book = load_workbook(io.BytesIO(requests.get(f"{emulator.url}/sandbox/media/{xlsx}", timeout=10).content))
    ranking = {row[1]: row[2] for row in book["得分排名"].iter_rows(min_row=3, values_only=True)}
    assert ranking["执法一队"] == 99, "−1 for the general item's 迟报 (upheld); the withdrawn 漏报 is not counted"
    assert ranking["城东区局"] == 100
    detail = list(book["扣分明细"].iter_rows(min_row=3, values_only=True))
    assert {(r[0], r[3], r[6]) for r in detail} == {(derived[0], "迟报", "认定"), (recorded, "漏报", "已撤销")}
    png = next(r for r in st.inbox("liujiu") if r["msgtype"] == "image")["body"]["image"]["media_id"]
    image = Image.open(io.BytesIO(requests.get(f"{emulator.url}/sandbox/media/{png}", timeout=10).content))
    assert image.format == "PNG"
    assert image.size[0] >= 800

    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "bulletin", "--month", month, "--format", "json")
    assert out.returncode == 0, out.stderr
    fig = json.loads(out.stdout)
    assert fig["month"] == month
    unit = next(u for u in fig["units"] if u["key"] == "team1")
    assert unit["score"] == 99
    assert {(d["item"], d["fact"], d["role"], d["points"], d["state"]) for d in unit["deductions"]} == {
        (late, "迟报", "main", -1, "upheld"),
        (late, "漏报", "main", 0, "withdrawn"),
    }
    assert fig["items"]["total"] == 3
    assert fig["times"]["report_to_dispatch"]["n"] == 3
    again = liaowang(cfg, "bulletin", "--month", month, "--send")
    assert again.returncode == 0
    assert "没有重复发送" in again.stderr


@pytest.mark.parametrize(
    ("month", "words"),
    [("2026-13", "不是月份"), ("abc", "不是月份"), ("2099-01", "还没有到")],
)
def test_bad_months_are_refused_in_chinese(st: Stack, month: str, words: str) -> None:
    st.say("wangwu", f"考核 {month}")
    assert words in st.last("wangwu")


def test_the_bulletin_command_line_refuses_a_bad_month_and_an_unknown_format(
    tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str, st: Stack
) -> None:
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "bulletin", "--month", "2099-01")
    assert out.returncode == 2
    assert "还没有到" in out.stderr
    out = liaowang(cfg, "bulletin", "--month", "2026-11", "--format", "xlsx")
    assert out.returncode == 2
    assert "--out" in out.stderr


def test_a_month_before_liaowang_was_in_use_gets_no_bulletin(make_stack) -> None:  # type: ignore[no-untyped-def]
    now = local(clock.now())
    first = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=10, minute=0)
    clock.advance(first - now)  # installed on the 1st, after the bulletin's time: last month has no record
    st = make_stack(extra={"policy": POLICY})
    st.say("zhangsan", "上报 安装当天的第一条")
    st.later(3600)
    assert not [r for r in st.inbox("liujiu") if r["msgtype"] in ("markdown", "file")]
    st.later(31 * 86400)  # a month later the month Liaowang was used in is reported
    assert [r for r in st.inbox("liujiu") if r["msgtype"] == "file"]


def test_the_office_sees_every_unit_and_a_commentator_is_refused(st: Stack) -> None:
    st.say("chenqi", "考核")
    assert "执法一队" in st.last("chenqi")
    assert "城东区局" in st.last("chenqi")
    st.say("zhangsan", "考核")
    assert "由单位负责人查看" in st.last("zhangsan")


def test_the_statistics_page_shows_the_office_the_figures_chart_and_downloads(st: Stack) -> None:
    from tests.integration.h5kit import Browser

    late = _item(st, "统计页面的条目")
    st.later(70)
    st.say("wangwu", f"首报 {late} 已核实")
    office = Browser(st)
    page = office.login("chenqi", "/h5/stats")
    assert page.status_code == 200
    assert "考核与统计" in page.text
    assert "执法一队" in page.text
    assert "迟报" in page.text
    chart = office.get(re.search(r'src="([^"]*chart\.png[^"]*)"', page.text).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]
    assert chart.headers["Content-Type"] == "image/png", chart.text[-1500:]
    assert Image.open(io.BytesIO(chart.content)).size[0] >= 800
    link = re.search(r'href="([^"]*export\.items\.xlsx[^"]*)"', page.text).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    book = load_workbook(io.BytesIO(office.get(link).content))
    rows = list(book["条目与时限"].iter_rows(min_row=3, values_only=True))
    assert any(r[0] == late and r[7] == "首报" and r[10] == "超时后完成" for r in rows)
    one = office.get("/h5/stats?from=2099-01-01&to=2099-01-31")
    assert one.status_code == 400
    assert "还没有到" in one.text
    lead = Browser(st)
    refused = lead.login("wangwu", "/h5/stats")
    assert refused.status_code == 403
    assert "考核" in refused.text


def test_the_office_records_a_fact_with_evidence_on_the_item_page(st: Stack) -> None:
    from tests.integration.h5kit import Browser

    code = _item(st, "页面记录扣分的条目")
    office = Browser(st)
    page = office.login("chenqi", f"/h5/item/{code}")
    assert "考核扣分" in page.text
    token = office.csrf(page)
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(png, format="PNG")
    form = {"csrf": token, "unit": "chengdong", "kind": "漏报", "role": "main", "reason": "没有参与的单位"}
    refused = office.http.post(f"{st.app_url}/h5/item/{code}/fact", data=form, allow_redirects=False, timeout=30)
    assert refused.status_code == 400
    assert "没有参与" in refused.text
    form = {**form, "unit": "team1", "reason": "群众先于本单位发现", "evidence": "https://weibo.com/3/4"}
    done = office.http.post(
        f"{st.app_url}/h5/item/{code}/fact",
        data=form,
        files=[("evidence_file", ("截图.png", png.getvalue(), "image/png"))],
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 200
    key = re.search(r"已记录 (F\d+)", done.text).group(1)  # type: ignore[union-attr]
    st.drain()
    assert f"申诉 {key}" in st.last("wangwu")
    again = office.get(f"/h5/item/{code}")
    assert f"{key} 执法一队 漏报（主要责任）-2 · 认定" in again.text
    lead = Browser(st)
    assert "考核扣分" not in lead.login("wangwu", f"/h5/item/{code}").text, "only the office records facts"
    forged = lead.http.post(
        f"{st.app_url}/h5/item/{code}/fact",
        data={**form, "csrf": lead.csrf(lead.get(f"/h5/upload/{code}"))},
        timeout=30,
    )
    assert forged.status_code == 400
    assert "只有领导小组办公室" in forged.text


def test_bad_fact_records_and_disputes_are_refused_and_change_nothing(st: Stack) -> None:
    code = _item(st, "错误输入的条目")
    for text, words in [
        (f"扣分 {code} 不存在的单位 漏报 主要 理由", "没有找到单位"),
        (f"扣分 {code} 执法一队 迟报 主要 理由", "由时限自动认定"),
        (f"扣分 {code} 执法一队 漏报 全部 理由", "主要”或“间接"),
        (f"扣分 {code} 执法一队 漏报 主要", "请写明理由"),
        ("扣分 YQ-20990101-001 执法一队 漏报 主要 理由", "YQ-20990101-001"),
    ]:
        st.say("chenqi", text)
        assert words in st.last("chenqi"), text
    for text, words in [("申诉 X9 理由", "不是扣分事项编号"), ("申诉 F999 理由", "没有扣分事项"), ("申诉", "格式")]:
        st.say("wangwu", text)
        assert words in st.last("wangwu"), text
    st.say("chenqi", "维持 F999")
    assert "没有待审定的申诉" in st.last("chenqi")
    st.say("wangwu", "考核")
    assert "没有扣分" in st.last("wangwu"), "nothing was recorded by the refused commands"


def test_a_unit_lead_disputes_without_typing_the_fact_key(st: Stack) -> None:
    """One undisputed deduction: `申诉 <理由>` is enough; several: a list to choose from, or the 编号 of the item."""
    first, second, third = _item(st, "只有一项的条目"), _item(st, "第二项的条目"), _item(st, "第三项的条目")
    st.say("chenqi", f"扣分 {first} 执法一队 漏报 主要 群众先于本单位发现")
    only = _facts(st.last("chenqi"))[0]
    st.say("zhangsan", "申诉 不是我们的责任")
    assert "只有单位负责人" in st.last("zhangsan")
    st.say("wangwu", "申诉 本单位已于当天电话报告")
    assert f"已提交对 {only}" in st.last("wangwu")
    assert cards(st, "chenqi", "考核申诉"), "the office gets the dispute card"
    st.say("wangwu", "申诉 再申诉一次")
    assert "没有可以申诉的扣分" in st.last("wangwu"), "a disputed fact is not offered again"

    two = []
    for code, fact in ((second, "瞒报 间接 未按规定报告"), (third, "处置不当 主要 回复不当")):
        st.say("chenqi", f"扣分 {code} 执法一队 {fact}")
        two.append(_facts(st.last("chenqi"))[0])
    st.say("wangwu", "申诉 我们按时报告了")
    listed = st.last("wangwu")
    assert "2 项扣分可以申诉" in listed
    assert all(k in listed for k in two), listed
    assert len(cards(st, "chenqi", "考核申诉")) == 1, "nothing filed while the lead has not said which"
    st.say("wangwu", f"申诉 {third} 当时的回复经办公室同意")
    assert f"（{third} 处置不当）" in st.last("wangwu")
    st.say("wangwu", "申诉 G20峰会期间我们全程在岗")
    assert "已提交" in st.last("wangwu"), "prose that starts like a key is the reason for the one left"
    assert len(cards(st, "chenqi", "考核申诉")) == 3
