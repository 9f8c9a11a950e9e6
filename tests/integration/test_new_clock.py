"""A new clock declared through configuration alone (issue 22 item 7): a 4 h 研判报告 owed by the lead unit, started
by 交办 and met by 书面报告, joins the clock table (models/clocktable.py) from its [policy.clocks.analysis_report]
section — no other code — and gets reminders, the final warning, an extension, escalation, the board, 查询 and the
bulletin's deduction through the WeCom emulator."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import clock
from core.clock import local
from models import clocktable
from models.procedure import Act
from tests.integration.flowkit import click, code_in
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack

ANALYSIS = {  # the whole clock: what it is (the clock table's row) and how long it runs (its durations)
    "label": "研判报告",
    "owner": "lead_unit",
    "started_by": ["dispatch"],
    "met_by": ["written_report"],
    "counts_from": "action",
    "next_step": "请发送“书面报告 {code} 研判意见”报送研判报告。",
    "deduction": "迟报",
    "all": {"due": "4h"},
}
OFF = {"enabled": False}  # the shipped clocks stay quiet, so every message here is the new clock's
POLICY = {
    "start": "dispatched",
    "escalate_after": "10m",
    "escalate_every": "30m",
    "escalate_max": 2,
    "clocks": {
        "analysis_report": ANALYSIS,
        **{k: OFF for k in ("first_report", "written_report", "handling_report", "public_response", "notify_units")},
    },
}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack whose only unit clock is the configured 研判报告 (withdrawn from the table afterwards)."""
    yield make_stack(pages=True, extra={"policy": POLICY})
    clocktable.withdraw("analysis_report")


def _about(st: Stack, userid: str, words: str) -> list[str]:
    return [t for t in st.texts(userid) if words in t]


def test_the_configured_clock_is_a_row_of_the_same_table(st: Stack) -> None:
    row = clocktable.row("analysis_report")
    assert row is not None
    assert row.label == "研判报告"
    assert row in clocktable.clocks_started_by(Act.dispatch)
    assert "analysis_report" in clocktable.clocks_met_by(Act.written_report)
    assert clocktable.deductions()["analysis_report"] == "迟报"
    assert "| 研判报告 | `analysis_report` | 主办单位 | 交办 | 报送书面报告 | — | 迟报 |" in clocktable.clock_doc()


def test_a_new_clock_reminds_warns_extends_escalates_shows_and_is_charged(st: Stack) -> None:
    st.say("zhangsan", "上报 网传某路段执法争议视频")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    due_words = "请发送“书面报告 " + code + " 研判意见”报送研判报告。"

    st.later(2 * 3600 + 1)  # half the 4 h span: the reminder, ending with the row's own next step
    nudge = _about(st, "wangwu", "【提醒】")
    assert len(nudge) == 1
    assert f"{code}《网传某路段执法争议视频》的研判报告" in nudge[0]
    assert due_words in nudge[0]

    st.later(72 * 60)  # 80 %: the final warning offers 申请延期
    warning = _about(st, "wangwu", "即将超时")
    assert len(warning) == 1
    assert "研判报告" in warning[0]
    assert due_words in warning[0]
    assert "申请延期" in warning[0]

    st.say("wangwu", f"申请延期 {code} 研判报告 30分钟 需要等待现场核查结果")
    assert "已提交分管领导审批" in st.last("wangwu")
    card = next(r for r in reversed(st.inbox("lisi")) if r["msgtype"] == "template_card")
    assert "研判报告" in str(card["body"]["template_card"])
    click(st, "lisi", card, "同意")
    assert "已同意延期" in st.reply("lisi")

    st.later(48 * 60 + 1)  # past the old due (4 h), not the extended one (4 h 30 min)
    assert not _about(st, "wangwu", "【已超时】"), "an approved extension is not a miss"
    st.later(30 * 60)  # past the extended due: the miss, and level 1 to the supervisor
    missed = _about(st, "wangwu", "【已超时】")
    assert len(missed) == 1
    assert "研判报告" in missed[0]
    assert "已报告分管领导李四" in missed[0]
    assert len(_about(st, "lisi", "【超时】研判报告")) == 1
    assert not _about(st, "liujiu", "【超时】研判报告")
    st.later(10 * 60 + 1)  # escalate_after: level 2 to the office and the leaders
    assert len(_about(st, "chenqi", "【超时】研判报告")) == 1
    assert len(_about(st, "liujiu", "【超时】研判报告")) == 1

    page = Browser(st).login("chenqi", "/h5/board")
    section = re.search(rf'<section class="item[^"]*" data-code="{code}".*?</section>', page.text, re.S)
    assert section is not None
    assert "研判报告" in section.group(0)
    assert "已超时" in section.group(0)

    st.say("chenqi", f"查询 {code}")
    assert "时限：研判报告" in st.last("chenqi")
    assert "已超时" in st.last("chenqi")

    st.say("wangwu", f"书面报告 {code} 研判意见：系误读政策，已联系发帖人说明")
    st.say("chenqi", f"查询 {code}")
    assert "时限：研判报告 最迟" in st.last("chenqi")
    assert "超时后完成" in st.last("chenqi"), "met late by 书面报告"

    due = clock.now() - timedelta(minutes=10, seconds=3)  # the extended due: 4 h 30 min after the 交办
    month = f"{local(due).year:04d}-{local(due).month:02d}"
    st.say("wangwu", f"考核 {month}")
    mine = st.last("wangwu")
    assert "迟报" in mine, mine
    assert "研判报告应于" in mine, mine
    assert "迟了" in mine, "met late: the fact says by how much"
    st.say("chenqi", f"考核 {month}")
    assert re.search(r"执法一队 99（1 项）", st.last("chenqi")), st.last("chenqi")
