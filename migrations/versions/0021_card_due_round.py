"""Escalation cards say which due of their clock they are about (cards.due_round), and the cards to pick an item
from have their own purpose (pick), so no card is told by its task id

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_ROUND = re.compile(r"^esc-\d+-x(\d+)-")  # how a 督办 card's task id carried the round before this column


def upgrade() -> None:
    """Add cards.due_round and fill it for the 督办 cards already sent; the pick cards already sent get purpose pick
    (the one time their task ids are read)."""
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("due_round", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, task_id FROM cards WHERE purpose = 'escalation'")).all()
    for card_id, task_id in rows:
        found = _ROUND.match(task_id or "")
        bind.execute(
            sa.text("UPDATE cards SET due_round = :r WHERE id = :id"),
            {"r": int(found.group(1)) if found else 0, "id": card_id},
        )
    bind.execute(sa.text("UPDATE cards SET purpose = 'pick' WHERE purpose = 'todo' AND task_id LIKE 'pick-%'"))


def downgrade() -> None:
    """Drop cards.due_round; pick cards are todo cards again."""
    op.execute("UPDATE cards SET purpose = 'todo' WHERE purpose = 'pick'")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("due_round")
