"""Public statements (统一口径 / 信息发布): numbered versions, their approval, confirmation and publication

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create statements."""
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_statements_item_id_items"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("drafted_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deciders", sa.JSON(), nullable=False),
        sa.Column("confirm_units", sa.JSON(), nullable=False),
        sa.Column("confirmed_units", sa.JSON(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("published_where", sa.String(length=128), nullable=True),
        sa.Column("published_url", sa.Text(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("item_id", "version", name="uq_statements_item_id"),
    )
    op.create_index("ix_statements_item_id", "statements", ["item_id"])


def downgrade() -> None:
    """Drop it (statements are lost: export them first)."""
    op.drop_table("statements")
