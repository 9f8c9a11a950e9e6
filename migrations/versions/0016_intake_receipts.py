"""The intake API's receipts: one row per (source, the source's id), unique, naming the item it became or joined

Revision ID: 0016
Revises: 0014 (the lead chains it after 0015 at merge when both exist)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create intake_receipts."""
    op.create_table(
        "intake_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_intake_receipts_item_id_items"), nullable=False
        ),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_intake_receipts_source_external_id"),
    )
    op.create_index("ix_intake_receipts_item_id", "intake_receipts", ["item_id"])


def downgrade() -> None:
    """Drop intake_receipts."""
    op.drop_index("ix_intake_receipts_item_id", table_name="intake_receipts")
    op.drop_table("intake_receipts")
