"""The item state machine: legal moves work, illegal ones raise and leave the item unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import IllegalTransition, Item, ItemState, check_transition
from models.state import TRANSITIONS

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("reported", "dispatched"),
        ("dispatched", "acknowledged"),
        ("acknowledged", "first_reported"),
        ("first_reported", "written_reported"),
        ("written_reported", "returned"),
        ("returned", "written_reported"),
        ("written_reported", "approved"),
        ("approved", "replied"),
        ("replied", "closed"),
        ("closed", "follow_up"),
        ("follow_up", "evaluated"),
        ("evaluated", "archived"),
    ],
)
def test_lifecycle_moves_are_allowed(current: str, target: str) -> None:
    assert check_transition(current, target) == ItemState(target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("reported", "acknowledged"),
        ("dispatched", "closed"),
        ("acknowledged", "dispatched"),
        ("archived", "reported"),
        ("closed", "reported"),
        ("reported", "archived"),
        ("written_reported", "closed"),
        ("reported", "closed"),
        ("approved", "closed"),
    ],
)
def test_illegal_moves_raise(current: str, target: str) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_item_move_to_refuses_skipping_acknowledgement_and_keeps_state() -> None:
    item = Item(
        code="YQ-20261126-001", title="t", text="t", state="dispatched", reporter_id=1, reported_at=NOW, updated_at=NOW
    )
    with pytest.raises(IllegalTransition):
        item.move_to(ItemState.closed, NOW)
    assert item.state == "dispatched"
    assert item.move_to(ItemState.acknowledged, NOW) == ("dispatched", "acknowledged")


def test_archived_is_terminal_and_every_state_is_declared() -> None:
    assert set(TRANSITIONS) == set(ItemState)
    assert TRANSITIONS[ItemState.archived] == frozenset()
