"""The working calendar the office enters on its page: one row per year (holidays, 调休 workdays, the notice pasted)

Revision ID: 0014
Revises: the highest revision below 0014 in this directory (0011 on its own branch; 0013 once 0012 and 0013 are merged)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create calendar_years."""
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop calendar_years."""
    op.drop_table("calendar_years")
