"""A card row names its subject (cards.subject, cards.subject_id: the item, the unit's part, the clock, the
submission, statement, brief, dispute, extension or 善后 watch it is about); cards are found by subject and purpose,
never again by matching task ids. Existing rows are filled from their purpose, clock, unit and task id.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# purpose → (subject, where its id comes from): a column of the card, or the number after the task id's prefix
BY_PURPOSE: dict[str, tuple[str, str]] = {
    "reminder": ("clock", "clock_id"),
    "escalation": ("clock", "clock_id"),
    "ack": ("unit", "unit_id"),
    "upload": ("unit", "unit_id"),
    "opinion": ("item", "item_id"),
    "approval": ("submission", "appr"),
    "watch": ("watch", "fu"),
    "statement": ("statement", "stmt"),
    "statement_confirm": ("statement", "stmtc"),
    "brief": ("brief", "brief"),
    "dispute": ("dispute", "dsp"),
    "extension": ("extension", "ext"),
}

cards = sa.table(
    "cards",
    sa.column("id", sa.Integer),
    sa.column("task_id", sa.String),
    sa.column("purpose", sa.String),
    sa.column("item_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("clock_id", sa.Integer),
    sa.column("subject", sa.String),
    sa.column("subject_id", sa.Integer),
)
extensions = sa.table("extensions", sa.column("id", sa.Integer), sa.column("task_id", sa.String))


def _subject(conn: sa.Connection, row: sa.Row[tuple[object, ...]]) -> tuple[str, int]:
    """Return (subject, id) of one existing card; an unknown shape falls back to the item itself."""
    kind, source = BY_PURPOSE.get(str(row.purpose), ("item", "item_id"))
    if kind == "extension":
        ext = conn.scalar(sa.select(extensions.c.id).where(extensions.c.task_id == row.task_id))
        return ("extension", int(ext)) if ext is not None else ("item", int(row.item_id))
    if source.endswith("_id"):
        value = getattr(row, source)
        return (kind, int(value)) if value is not None else ("item", int(row.item_id))
    m = re.match(rf"{re.escape(source)}-(\d+)-", str(row.task_id))
    return (kind, int(m.group(1))) if m else ("item", int(row.item_id))


def upgrade() -> None:
    """Add the subject columns, fill them for every card already sent, then require them."""
    with op.batch_alter_table("cards") as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(cards.c.id, cards.c.task_id, cards.c.purpose, cards.c.item_id, cards.c.unit_id, cards.c.clock_id)
    ).all()
    for row in rows:
        kind, ident = _subject(conn, row)
        conn.execute(sa.update(cards).where(cards.c.id == row.id).values(subject=kind, subject_id=ident))
    with op.batch_alter_table("cards") as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(16), nullable=False)
        batch_op.alter_column("subject_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_cards_subject", ["subject", "subject_id", "purpose"], unique=False)


def downgrade() -> None:
    """Drop the subject columns (cards are then found by their task ids again, as before 0012)."""
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_index("ix_cards_subject")
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject")
