"""Each rule has one owner (issue 22): what an action does to the clocks is the clock table's and
`workflow.engine.clocks.on_action`'s, never a step's own clock call."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from core.policy import ClockKind
from models.clocktable import CLOCKS, ON_ALL, Effect, _check, effect_of, step_button
from models.procedure import Act
from tests.unit.codescan import calls, dotted

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ("procedure.py", "events.py", "state.py", "clocktable.py")
STEPS = [p for p in (ROOT / "workflow").rglob("*.py") if p.parent.name != "engine"]
OUTSIDE_ENGINE = STEPS + [p for pkg in ("handlers", "bot", "jobs", "cli") for p in (ROOT / pkg).rglob("*.py")]


CLOCK_CHANGES = ("satisfy", "start_for", "close_all", "close_at_archive", "regrade", "_waive", "_reschedule")


def test_no_step_changes_clocks_with_its_own_call() -> None:
    """Meeting, starting, waiving and rescheduling clocks happen in on_action (through procedure.apply) only."""
    offenders = [
        f"{path.relative_to(ROOT)}:{call.lineno}: {dotted(call.func)}"
        for path, call in calls(OUTSIDE_ENGINE)
        if dotted(call.func) in {f"clocks.{n}" for n in CLOCK_CHANGES}
    ]
    assert not offenders, offenders


def test_the_clock_table_declares_what_closing_archiving_and_regrading_do_to_every_clock() -> None:
    closing = effect_of(Act.close)
    assert closing is not None
    assert closing.effect == Effect.waive
    assert ON_ALL[Act.archive].effect == Effect.waive_in_row
    assert ON_ALL[Act.regrade].effect == Effect.reschedule
    assert effect_of(Act.first_report) is None


# --- names are spelled once: no string literal equal to a declared name where the name is meant -------------------

NAMED = [p for pkg in ("workflow", "handlers", "bot", "jobs", "cli", "wiring") for p in (ROOT / pkg).rglob("*.py")]
NAMED += [p for p in (ROOT / "models").rglob("*.py") if p.name not in DECLARATIONS]
# core too (its default clock durations are keyed by ClockKind); config_keys.py is generated from
# config.example.toml and lists config keys, where a clock's kind is a TOML table name
NAMED += [p for p in (ROOT / "core").rglob("*.py") if p.name != "config_keys.py"]
NOT_NAMES: dict[tuple[str, str], str] = {  # (path, literal) → why that string is not the declared name
    ("handlers/patrol.py", "report"): "the 巡查 card's button choice (zero/report), not the 上报 action",
    ("handlers/statement.py", "statement"): "a conversation step's field (the statement's id)",
    ("jobs/deliver.py", "upload"): "an outbox payload's field (the file to upload)",
    ("workflow/appraisal/bulletin.py", "upload"): "an outbox payload's field (the file to upload)",
    ("workflow/record/brief.py", "upload"): "an outbox payload's field (the file to upload)",
    ("workflow/record/brief.py", "statement"): "a document template's field (the 口径 paragraphs)",
    ("workflow/record/documents.py", "statement"): "a document template's field (the 口径 paragraphs)",
    ("core/backup.py", "archive"): "a backup's folder name (the archive packages), not the 归档 action",
    ("core/config.py", "archive"): "the [archive] config section",
    ("core/config.py", "brief"): "the [brief] config section",
    ("models/codes.py", "ack"): "a card key prefix (CARD_KEYS is their declaration)",
    ("models/codes.py", "brief"): "a card key prefix (CARD_KEYS is their declaration)",
    ("workflow/incident/progress.py", "report"): "an audit detail: the 签收 a 首报/续报 implied, not the 上报 action",
}


def _names() -> dict[str, str]:
    """Return every declared name's string form → how to spell it (the first enum that declares it)."""
    from models.events import Event
    from models.state import CardPurpose, OutboxKind
    from workflow.engine.outbox import Job

    found: dict[str, str] = {}
    for enum in (Act, Event, CardPurpose, ClockKind, Job, OutboxKind):
        for member in enum:
            found.setdefault(member.value, f"{enum.__name__}.{member.name}")
    return found


def _literals(node: ast.expr) -> list[ast.Constant]:
    """The string constants node is, or holds as a tuple/list/set element."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


NAMED_CALLS = ("record", "audit.record", "defer", "outbox.defer", "new_card", "cards.new_card")


def _named_uses(tree: ast.AST) -> list[ast.Constant]:
    """String constants used as a name: compared, passed to record/defer/new_card or as a keyword argument's value
    (step="dispatch", implied_by="written_report"), or a dict key."""
    found: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                found += _literals(side)
        elif isinstance(node, ast.Call):  # any keyword's value (a step, an audit detail); a name call's arguments
            named = dotted(node.func) in NAMED_CALLS
            for arg in (*(node.args if named else ()), *(k.value for k in node.keywords)):
                found += _literals(arg)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                found += _literals(key) if key is not None else []
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):  # a collection of names (GOOD = {"close", …})
            strings = _literals(node)
            if len(strings) >= 2 and len(strings) == len(node.elts) and all(c.value in NAMES for c in strings):
                found += strings
    return found


NAMES = _names()


def test_declared_names_are_spelled_through_their_enums_outside_their_declarations() -> None:
    """No string literal equal to an action, event, card purpose, clock kind, job or outbox kind is compared,
    recorded, deferred, used as a card's purpose, a dict key or in a collection of names: the enum member is
    (NOT_NAMES: why not)."""
    offenders = []
    for path in NAMED:
        rel = str(path.relative_to(ROOT))
        for c in _named_uses(ast.parse(path.read_text(encoding="utf-8"))):
            if c.value in NAMES and (rel, c.value) not in NOT_NAMES:
                offenders.append(f"{rel}:{c.lineno}: {c.value!r} → {NAMES[c.value]}")
    assert not offenders, offenders


def test_no_card_purpose_is_compared_with_a_string() -> None:
    for path in NAMED:
        text = path.read_text(encoding="utf-8")
        assert 'purpose == "' not in text, path.relative_to(ROOT)
        assert "purpose == '" not in text, path.relative_to(ROOT)


def test_the_exemptions_name_strings_that_are_still_there() -> None:
    for rel, literal in NOT_NAMES:
        assert repr(literal).replace("'", '"') in (ROOT / rel).read_text(encoding="utf-8"), (rel, literal)


def test_handlers_leave_marking_the_pressed_card_to_the_workflow() -> None:
    """Handlers parse and answer: finding the pressed card and updating it is workflow.engine.cards' business."""
    for path in [p for pkg in ("handlers", "bot") for p in (ROOT / pkg).rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        assert "Card.task_id" not in text, rel
        assert "select(Card)" not in text, rel
        assert "finish_cards" not in text, rel
        assert 'kind="update_card"' not in text, rel


def test_a_reminders_next_step_button_is_declared_on_the_clock_row_and_must_meet_the_clock() -> None:
    first = CLOCKS[ClockKind.first_report]
    assert step_button("写首报", Act.first_report) in first.buttons
    wrong = dataclasses.replace(first, buttons=(step_button("处置报告", Act.handling_report),))
    with pytest.raises(ValueError, match="must name a step that meets the clock"):
        _check(wrong)
