"""Assessment: facts the office records, disputes (申诉) of any fact, monthly bulletins; clocks by due for scoring

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create facts, disputes and bulletins; index clocks by (state, due_at) and items by reported_at."""
    op.create_table(
        "facts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_facts_item_id_items"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_facts_unit_id_units"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column(
            "attachment_id",
            sa.Integer(),
            sa.ForeignKey("attachments.id", name="fk_facts_attachment_id_attachments"),
            nullable=True,
        ),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_facts_item_id", "facts", ["item_id"])
    op.create_index("ix_facts_unit_id", "facts", ["unit_id"])
    op.create_index("ix_facts_at", "facts", ["at"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fact_key", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_disputes_item_id_items"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_disputes_unit_id_units"), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_disputes_fact_key", "disputes", ["fact_key"], unique=True)  # one dispute per fact
    op.create_table(
        "bulletins",
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_clocks_state_due", "clocks", ["state", "due_at"])
    op.create_index("ix_items_reported_at", "items", ["reported_at"])  # the month's items


def downgrade() -> None:
    """Drop them (recorded facts and disputes are lost: export them first)."""
    op.drop_index("ix_items_reported_at", table_name="items")
    op.drop_index("ix_clocks_state_due", table_name="clocks")
    op.drop_table("bulletins")
    op.drop_table("disputes")
    op.drop_table("facts")
