"""The same event recognised: item signatures, the gram index and counts, the office's decisions on pairs

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core import clock
from models import similar
from models.base import UTCDateTime
from models.procedure import MERGEABLE

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _item(name: str, table: str, primary: bool = False) -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("items.id", name=f"fk_{table}_{name}_items"), primary_key=primary,
        nullable=False,
    )  # fmt: skip


def upgrade() -> None:
    """Create similar_signatures, similar_postings, similar_grams and same_events; index the items open now."""
    op.create_table(
        "similar_signatures",
        _item("item_id", "similar_signatures", primary=True),
        sa.Column("grams", sa.Text(), nullable=False),
        sa.Column("indexed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "similar_postings",
        sa.Column("gram", sa.String(length=8), primary_key=True),
        _item("item_id", "similar_postings", primary=True),
    )
    op.create_index("ix_similar_postings_item_id", "similar_postings", ["item_id"])
    op.create_table(
        "similar_grams",
        sa.Column("gram", sa.String(length=8), primary_key=True),
        sa.Column("items", sa.Integer(), nullable=False),
    )
    op.create_table(
        "same_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _item("item_id", "same_events"),
        _item("other_id", "same_events"),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("item_id", "other_id", name="uq_same_events_item_id_other_id"),
    )
    op.create_index("ix_same_events_item_id", "same_events", ["item_id"])
    op.create_index("ix_same_events_other_id", "same_events", ["other_id"])
    similar.rebuild(op.get_bind(), sorted(str(s) for s in MERGEABLE), clock.now())


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_index("ix_same_events_other_id", table_name="same_events")
    op.drop_index("ix_same_events_item_id", table_name="same_events")
    op.drop_table("same_events")
    op.drop_table("similar_grams")
    op.drop_index("ix_similar_postings_item_id", table_name="similar_postings")
    op.drop_table("similar_postings")
    op.drop_table("similar_signatures")
