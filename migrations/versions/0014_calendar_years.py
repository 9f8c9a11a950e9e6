"""The working calendar the office enters on its page: one row per year (holidays, 调休 workdays, the notice pasted)

Revision ID: 0014
Revises: the highest revision below 0014 in this directory (0011 on its own branch; 0013 once 0012 and 0013 are merged)
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0014"
# numbers 0012 and 0013 are given to work done in parallel: follow whichever of them is present, so the chain
# stays one line before and after the merge
down_revision = max(p.name[:4] for p in Path(__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py") if p.name[:4] < "0014")
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
