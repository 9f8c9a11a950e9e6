"""What the office reads names units and people, not roles or keys: 交办 in the timeline, a unit's 会商意见."""

from __future__ import annotations

from tests.integration.flowkit import buttons, click, dispatched
from tests.integration.harness import Stack


def test_the_timeline_says_the_grade_and_the_units_of_a_dispatch(stack: Stack) -> None:
    code = dispatched(stack, units="执法一队 法制处", grade="较大")
    stack.say("chenqi", f"查询 {code}")
    told = stack.reply("chenqi")
    assert "较大，主办 执法一队，协办 法制处" in told, told
    assert "team1" not in told, "unit names, not keys"


def test_a_units_opinion_names_the_unit_and_its_part(stack: Stack) -> None:
    code = dispatched(stack, units="执法一队 法制处")
    stack.say("wangwu", f"书面报告 {code} 经核实，已妥善处置，拟答复如下……")
    approval = [r for r in stack.inbox("lisi") if r["msgtype"] == "template_card" and "批准" in buttons(r)]
    click(stack, "lisi", approval[-1], "批准")
    stack.say("gaojing", f"会商意见 {code} 建议补充法律依据")
    told = [t for t in stack.texts("chenqi") if t.startswith("【会商意见】")]
    assert told, stack.texts("chenqi")
    assert "高静（法制处，协办单位）意见：建议补充法律依据" in told[-1], told[-1]
