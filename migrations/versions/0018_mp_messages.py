"""The 公众号's messages: one row per WeChat message (MsgId unique), naming the item it became or joined

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create mp_messages."""
    op.create_table(
        "mp_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_mp_messages_item_id_items"), nullable=True
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.UniqueConstraint("key", name="uq_mp_messages_key"),
    )
    op.create_index("ix_mp_messages_openid", "mp_messages", ["openid"])
    op.create_index("ix_mp_messages_item_id", "mp_messages", ["item_id"])


def downgrade() -> None:
    """Drop mp_messages."""
    op.drop_index("ix_mp_messages_item_id", table_name="mp_messages")
    op.drop_index("ix_mp_messages_openid", table_name="mp_messages")
    op.drop_table("mp_messages")
