"""attachments.content_type holds Word's 71-character MIME type

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen attachments.content_type from 64 to 128 characters."""
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column(
            "content_type", type_=sa.String(length=128), existing_type=sa.String(length=64), existing_nullable=True
        )


def downgrade() -> None:
    """Narrow attachments.content_type back to 64 characters."""
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.alter_column(
            "content_type", type_=sa.String(length=64), existing_type=sa.String(length=128), existing_nullable=True
        )
