"""The commentator team's duty: patrol check-ins and guided-reply tasks

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create patrols, guided_tasks and guided_assignments."""
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_patrols_unit_id_units"), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("remind_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("how", sa.String(length=16), nullable=True),
        sa.Column("item_code", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("userid", "day", "round", name="uq_patrols_userid"),
    )
    op.create_index("ix_patrols_state_due", "patrols", ["state", "due_at"])
    op.create_index("ix_patrols_day", "patrols", ["day"])
    op.create_table(
        "guided_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", name="fk_guided_tasks_item_id_items"), nullable=False
        ),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_guided_tasks_item_id", "guided_tasks", ["item_id"])
    op.create_table(
        "guided_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_id",
            sa.Integer(),
            sa.ForeignKey("guided_tasks.id", name="fk_guided_assignments_task_id_guided_tasks"),
            nullable=False,
        ),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column(
            "unit_id",
            sa.Integer(),
            sa.ForeignKey("units.id", name="fk_guided_assignments_unit_id_units"),
            nullable=True,
        ),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("warn_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("proof_url", sa.Text(), nullable=True),
        sa.Column("proof_media", sa.String(length=256), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("card_task_id", sa.String(length=128), nullable=True),
        sa.UniqueConstraint("task_id", "userid", name="uq_guided_assignments_task_id"),
    )
    op.create_index("ix_guided_assignments_task_id", "guided_assignments", ["task_id"])
    op.create_index("ix_guided_assignments_state_due", "guided_assignments", ["state", "due_at"])


def downgrade() -> None:
    """Drop them (the duty record is lost: export it first)."""
    op.drop_table("guided_assignments")
    op.drop_table("guided_tasks")
    op.drop_table("patrols")
