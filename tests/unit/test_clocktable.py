"""The clock table (models/clocktable.py): one owner for what each clock is; config rows checked like code rows."""

from __future__ import annotations

from typing import Any

import pytest

from core.policy import ClockKind, parse_policy
from models import clocktable
from models.clocktable import check_policy, clocks_met_by, clocks_started_by, deductions, row_from_config
from models.procedure import ACTIONS, Act
from workflow.engine import periodic

NEW: dict[str, Any] = {
    "label": "研判报告",
    "owner": "lead_unit",
    "started_by": ["dispatch"],
    "met_by": ["written_report"],
    "next_step": "请发送“书面报告 {code} 研判意见”。",
    "deduction": "迟报",
}


def test_every_shipped_clock_is_started_met_and_scored_by_declared_actions() -> None:
    for r in clocktable.CLOCKS.values():
        assert r.started_by or r.rebound_restarts, r.kind
        assert r.met_by, r.kind
        assert all(a in ACTIONS for a in (*r.started_by, *r.met_by)), r.kind
    assert {r.kind for r in clocks_started_by(Act.dispatch)} == {
        ClockKind.first_report,
        ClockKind.written_report,
        ClockKind.handling_report,
        ClockKind.public_response,
    }
    assert {r.kind for r in clocks_started_by(Act.rebound)} == {ClockKind.first_report, ClockKind.written_report}
    assert set(clocks_met_by(Act.written_report)) == {ClockKind.first_report, ClockKind.written_report}
    assert set(clocks_met_by(Act.publish_statement)) == {ClockKind.public_response, ClockKind.public_update}


def test_the_deduction_of_a_miss_is_decided_once() -> None:
    assert deductions() == {
        ClockKind.first_report: "迟报",
        ClockKind.written_report: "迟报",
        ClockKind.handling_report: "处置未报",
    }, "the office's own clocks are not assessed"


def test_publishing_clocks_tell_the_office_the_real_command() -> None:
    for kind in (ClockKind.public_response, ClockKind.public_update):
        row = clocktable.row(kind)
        assert row is not None
        assert "发布 {code} <渠道>" in row.next_step
        assert "聊天中报送" not in row.next_step


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"met_by": ["publish"]}, "不是动作表"),
        ({"deduction": "迟交"}, "deduction"),
        ({"owner": "office"}, "only a unit's clock is charged"),
        ({"owner": "county"}, "owner 须是 lead_unit 或 office"),
        ({"next_step": "请尽快报送。"}, "{code}"),
        ({"buttons": [["已口头汇报", "ack"]]}, "button"),
    ],
)
def test_a_bad_config_row_is_refused_naming_the_key(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match="policy.clocks.analysis_report") as err:
        row_from_config("analysis_report", {**NEW, **change})
    assert words in str(err.value)


def test_a_config_row_must_say_its_deduction_even_when_none() -> None:
    raw = {k: v for k, v in NEW.items() if k != "deduction"}
    with pytest.raises(ValueError, match="deduction"):
        row_from_config("analysis_report", raw)
    assert row_from_config("analysis_report", {**NEW, "deduction": ""}).deduction is None


def test_config_and_table_must_agree_at_startup() -> None:
    check_policy(parse_policy({}))
    with pytest.raises(ValueError, match=r"\[policy.clocks.frist_report\] 不是时限表"):
        check_policy(parse_policy({"clocks": {"frist_report": {"all": {"due": "1h"}}}}))
    clocktable.rows_from_config({"analysis_report": NEW})
    try:
        with pytest.raises(ValueError, match="研判报告.*没有配置时长"):
            check_policy(parse_policy({}))
        check_policy(parse_policy({"clocks": {"analysis_report": {"enabled": False}}}))
        check_policy(parse_policy({"clocks": {"analysis_report": {**NEW, "all": {"due": "4h"}}}}))
        with pytest.raises(ValueError, match="declared twice"):
            clocktable.declare(row_from_config("analysis_report", NEW))
    finally:
        clocktable.rows_from_config({})  # a wiring without it withdraws it
    assert clocktable.row("analysis_report") is None
    with pytest.raises(ValueError, match="已在时限表里声明"):
        clocktable.rows_from_config({"first_report": NEW})


def test_the_lifecycle_page_carries_the_clock_table() -> None:
    doc = clocktable.clock_doc()
    assert "| 首报 | `first_report` | 主办单位 | 交办 | 首报、报送书面报告 | 是 | 迟报 |" in doc
    assert "| 留言答复 | `reply_source` | 领导小组办公室 | 上报 | 回复来源 | — | 不扣分 |" in doc


def test_the_sweep_runs_the_timers_their_modules_declare() -> None:
    names = [t.name for t in periodic.tasks()]
    assert names == [
        "workflow.duty.periods.announce",
        "workflow.duty.patrol.open_rounds",
        "workflow.duty.patrol.sweep_check_ins",
        "workflow.incident.guided.sweep_tasks",
        "workflow.duty.calendar_notice.remind",
        "workflow.incident.followup.sweep_watches",
    ]
