"""The action table and the code agree: every action is applied through workflow.engine.procedure.apply by some step,
no step writes an action's audit row itself or decides who may act by hand, cards are found by subject, every card
purpose is closed by a declared action, and every refusal reads well from every state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from models.events import Event
from models.procedure import ACTIONS, CARDS, CLOCK_CARDS, Act, awkward, closers
from models.state import NEXT_STEP, STATE_NAMES, CardPurpose, ItemState
from tests.unit.codescan import calls, dotted

ROOT = Path(__file__).resolve().parents[2]
STEPS = [p for p in (ROOT / "workflow").rglob("*.py") if p.parent.name != "engine" or p.name != "procedure.py"]
CODE = [p for pkg in ("workflow", "handlers", "bot", "jobs", "cli") for p in (ROOT / pkg).rglob("*.py")]


def _act(arg: ast.expr) -> str:
    """Return X of an `Act.X` argument ("" for anything else)."""
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "Act":
        return arg.attr
    return ""


def test_every_action_of_the_table_is_applied_through_the_one_entry_point_by_some_step() -> None:
    applied = {
        _act(call.args[2])
        for _p, call in calls(STEPS)
        if dotted(call.func) == "procedure.apply" and len(call.args) >= 3
    }
    missing = {a.name for a in Act} - applied
    assert not missing, f"actions no step applies through procedure.apply: {sorted(missing)}"


def test_no_step_writes_an_actions_audit_row_itself() -> None:
    written_by_actions = {str(n) for a in ACTIONS.values() for n in a.writes()}
    offenders = []
    for path, call in calls(STEPS):
        if dotted(call.func) not in ("record", "audit.record") or len(call.args) < 4:
            continue
        what = call.args[3]
        name = what.value if isinstance(what, ast.Constant) else what.attr if isinstance(what, ast.Attribute) else ""
        if name in written_by_actions or dotted(what).startswith("Act."):
            offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}: {name} is an action's row")
    assert not offenders, offenders


def test_who_may_act_is_decided_by_the_table_through_relations_only() -> None:
    """No step checks an actor's role to refuse an action by hand: procedure.permit/allowed/apply decide."""
    offenders = []
    for path, call in calls(CODE):
        name = dotted(call.func)
        if name in ("procedure.authorise", "procedure.take") or name.endswith(".authorise"):
            offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}: {name}")
    assert not offenders, offenders
    for step in ("dispatch.py", "approval.py", "brief.py", "assessment.py"):
        text = next(p for p in STEPS if p.name == step).read_text(encoding="utf-8")
        assert "if not actor.has(Role.office)" not in text, step


def test_no_card_is_found_by_matching_task_ids() -> None:
    for path in CODE:
        text = path.read_text(encoding="utf-8")
        assert "task_id.like(" not in text, path.relative_to(ROOT)
        assert "task_id.startswith(" not in text, path.relative_to(ROOT)  # a card's round is its due_round
        assert 'Card.purpose == "' not in text, path.relative_to(ROOT)


def test_every_card_purpose_is_declared_and_closed_by_an_action_or_its_clock() -> None:
    assert set(CARDS) == set(CardPurpose)
    for purpose in CardPurpose:
        assert purpose in CLOCK_CARDS or closers(purpose) or CARDS[purpose].standing, purpose
    standing = [p for p in CardPurpose if CARDS[p].standing]
    assert standing == [CardPurpose.todo, CardPurpose.pick], "only 我的待办 and 选择舆情 stand open"
    ack = {a.name for a in closers(CardPurpose.ack)}
    assert ack == {Act.acknowledge, Act.merge}, "签收 cards close with the 签收 step, or when their item is merged"
    assert Act.regrade in {a.name for a in closers(CardPurpose.approval)}, "升级为重大 closes the approval card"


def test_the_supervisor_may_regrade_as_the_table_says() -> None:
    assert set(ACTIONS[Act.regrade].who) == {"office", "supervisor"}


@pytest.mark.parametrize("act", list(Act))
def test_every_refusal_reads_well_from_every_state(act: Act) -> None:
    action = ACTIONS[act]
    for state in ItemState:
        if state in action.states:
            continue
        text = action.refuse("YQ-20270615-001", state)
        assert not awkward(text), (act, state, text)
        assert "YQ-20270615-001" in text
        assert text.count(STATE_NAMES[state]) <= 1, (act, state, text)
    denied = action.deny("YQ-20270615-001", "执法一队")
    assert not awkward(denied), denied
    assert denied.endswith("。"), denied


def test_audit_names_are_spelled_once() -> None:
    actions = {a.value for a in Act}
    events = {e.value for e in Event}
    assert not actions & events, "an audit name is both an action and an event"
    for action in ACTIONS.values():
        assert all(isinstance(e, Event) for e in action.events)


def test_the_next_step_of_each_state_is_declared_once_and_read_by_the_state_names() -> None:
    for state, step in NEXT_STEP.items():
        assert step.who in ("office", "lead_unit", "decider"), state
        if "待" in STATE_NAMES[state] and state != ItemState.approved:
            assert STATE_NAMES[state].endswith(f"待{step.step}"), state
    for path in (ROOT / "workflow" / "views" / "board.py", ROOT / "workflow" / "views" / "todos_more.py"):
        text = path.read_text(encoding="utf-8")
        for literal in ("待定级交办", "待签收：", "待办结（", "待总结评估（"):
            assert literal not in text, (path.name, literal)
