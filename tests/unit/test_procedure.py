"""The declared procedure is the one owner of item states: the table, its diagram, and nothing else deciding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.procedure import ACTIONS, WHO_NAMES, lifecycle_doc, moves
from models.state import TRANSITIONS, ItemState

ROOT = Path(__file__).resolve().parents[2]


def test_the_lifecycle_page_is_drawn_from_the_table() -> None:
    page = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    assert page == lifecycle_doc(), "the table changed: run python3 dev.py lifecycle --write docs/lifecycle.md"


def test_every_state_but_the_first_is_reached_by_an_action_and_every_edge_is_an_action() -> None:
    reached = {a.to for a in ACTIONS.values() for s in a.states if moves(a, s)} | {ItemState.reported}
    assert reached == set(ItemState)
    taken = {(s, a.to) for a in ACTIONS.values() for s in a.states if moves(a, s)}
    declared = {(s, t) for s, targets in TRANSITIONS.items() for t in targets}
    assert declared == taken, "a transition nobody takes, or an action the state machine forbids"


def test_every_action_names_who_may_take_it_in_words_people_read() -> None:
    for action in ACTIONS.values():
        assert action.who, action.name
        assert all(w in WHO_NAMES for w in action.who), action.name


@pytest.mark.parametrize("package", ["workflow", "handlers", "bot", "jobs"])
def test_no_module_but_workflow_procedure_checks_or_moves_an_items_state(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        if path == ROOT / "workflow" / "engine" / "procedure.py":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"\bitem\.state\s*(==|!=|\bin\b|\bnot in\b)", r"\.move_to\("):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not offenders, offenders


def test_card_keys_and_threshold_names_round_trip_through_their_one_codec() -> None:
    from models.codes import CARD_KEYS, Threshold, card_key, parse_card_key

    for prefix, fields in CARD_KEYS.items():
        values = [f"v{i}" for i in range(len(fields))]
        assert parse_card_key(card_key(prefix, *values)) == (prefix, values)
    assert parse_card_key("appr:1") is None, "a key with a missing field is not ours"
    assert parse_card_key("nope:1:2") is None
    with pytest.raises(ValueError):
        card_key("appr", 1)
    for t in (Threshold("nudge"), Threshold("warn", 0, 2), Threshold("due"), Threshold("level", 3, 1)):
        assert Threshold.parse(t.name) == t
    assert Threshold("level", 3, 1).name == "level3@1"
    with pytest.raises(ValueError):
        Threshold.parse("later")


def test_a_state_column_stores_plain_values_reads_enums_and_refuses_unknown_ones(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import StatementError
    from sqlalchemy.orm import Session

    from models import Base, InboxState, ProcessedCallback

    engine = create_engine(f"sqlite:///{tmp_path / 'states.db'}")
    Base.metadata.create_all(engine)
    at = datetime(2026, 11, 27, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add(ProcessedCallback(key="k1", userid="u", payload={}, received_at=at))
    with Session(engine) as s:
        assert s.execute(text("SELECT state FROM processed_callbacks")).scalar() == "pending"
        row = s.query(ProcessedCallback).one()
        assert row.state is InboxState.pending
    with pytest.raises(StatementError), Session(engine) as s, s.begin():
        s.add(ProcessedCallback(key="k2", userid="u", payload={}, received_at=at, state="finished"))


def test_every_relation_an_action_names_is_decided_and_has_a_name() -> None:
    source = (ROOT / "workflow" / "engine" / "relations.py").read_text(encoding="utf-8")
    for action in ACTIONS.values():
        for who in action.who:
            assert who in WHO_NAMES, who
            assert who in ("system", "member") or f'"{who}"' in source, (
                f"workflow/engine/relations.py never grants {who}"
            )
