"""Each rule has one owner (issue 22): what an action does to the clocks is the clock table's and
`workflow.engine.clocks.on_action`'s, never a step's own clock call."""

from __future__ import annotations

import ast
from pathlib import Path

from models.clocktable import ON_ALL, Effect, effect_of
from models.procedure import Act

ROOT = Path(__file__).resolve().parents[2]
STEPS = [p for p in (ROOT / "workflow").rglob("*.py") if p.parent.name != "engine"]
OUTSIDE_ENGINE = STEPS + [p for pkg in ("handlers", "bot", "jobs", "cli") for p in (ROOT / pkg).rglob("*.py")]


def _calls(paths: list[Path]) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [(path, node) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return found


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}"
    return func.id if isinstance(func, ast.Name) else ""


CLOCK_CHANGES = ("satisfy", "start_for", "close_all", "close_at_archive", "regrade", "_waive", "_reschedule")


def test_no_step_changes_clocks_with_its_own_call() -> None:
    """Meeting, starting, waiving and rescheduling clocks happen in on_action (through procedure.apply) only."""
    offenders = [
        f"{path.relative_to(ROOT)}:{call.lineno}: {_name(call.func)}"
        for path, call in _calls(OUTSIDE_ENGINE)
        if _name(call.func) in {f"clocks.{n}" for n in CLOCK_CHANGES}
    ]
    assert not offenders, offenders


def test_the_clock_table_declares_what_closing_archiving_and_regrading_do_to_every_clock() -> None:
    assert effect_of(Act.close) is not None and effect_of(Act.close).effect == Effect.waive  # type: ignore[union-attr]
    assert ON_ALL[Act.archive].effect == Effect.waive_in_row
    assert ON_ALL[Act.regrade].effect == Effect.reschedule
    assert effect_of(Act.first_report) is None
