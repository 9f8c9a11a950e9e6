"""Conversations and per-person inbox leases move from Redis into the database; outbox.sent_to; clocks.charged

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create conversations and inbox_leases; add outbox.sent_to (recipients fixed at the first attempt)."""
    op.create_table(
        "conversations",
        sa.Column("userid", sa.String(length=64), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "inbox_leases",
        sa.Column("userid", sa.String(length=64), primary_key=True),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("sent_to", sa.Text(), nullable=True))
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])  # rebuilding the send budget after a Redis loss
    with op.batch_alter_table("clocks") as batch_op:  # a clock started overdue: the miss is the office's
        batch_op.add_column(sa.Column("charged", sa.String(length=16), nullable=True))
    with op.batch_alter_table("cards") as batch_op:  # reminder and escalation cards close when their clock is met
        batch_op.add_column(sa.Column("clock_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_cards_clock_id_clocks", "clocks", ["clock_id"], ["id"])
        batch_op.create_index("ix_cards_clock_id", ["clock_id"])


def downgrade() -> None:
    """Drop them (drafts in progress are lost; leases are only ever a few seconds old)."""
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_index("ix_cards_clock_id")
        batch_op.drop_constraint("fk_cards_clock_id_clocks", type_="foreignkey")
        batch_op.drop_column("clock_id")
    with op.batch_alter_table("clocks") as batch_op:
        batch_op.drop_column("charged")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("sent_to")
    op.drop_table("inbox_leases")
    op.drop_table("conversations")
