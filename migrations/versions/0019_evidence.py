"""Evidence captured on arrival (网页取证): evidence_captures (one per link of an item) and evidence_files (PNG, HTML,
PDF with sha256 and fetch time)

Revision ID: 0019
Revises: 0018 (the lead chains it at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create evidence_captures and evidence_files."""
    op.create_table(
        "evidence_captures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", name="fk_evidence_captures_item_id_items"),
            nullable=False,
        ),
        sa.Column(
            "link_id",
            sa.Integer(),
            sa.ForeignKey("item_links.id", name="fk_evidence_captures_link_id_item_links"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("page_title", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.UniqueConstraint("item_id", "link_id", name="uq_evidence_captures_item_id"),
    )
    op.create_index("ix_evidence_captures_item_id", "evidence_captures", ["item_id"])
    op.create_index("ix_evidence_captures_state", "evidence_captures", ["state"])
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "capture_id",
            sa.Integer(),
            sa.ForeignKey("evidence_captures.id", name="fk_evidence_files_capture_id_evidence_captures"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("capture_id", "kind", name="uq_evidence_files_capture_id"),
    )
    op.create_index("ix_evidence_files_capture_id", "evidence_files", ["capture_id"])


def downgrade() -> None:
    """Drop evidence_files and evidence_captures."""
    op.drop_index("ix_evidence_files_capture_id", table_name="evidence_files")
    op.drop_table("evidence_files")
    op.drop_index("ix_evidence_captures_state", table_name="evidence_captures")
    op.drop_index("ix_evidence_captures_item_id", table_name="evidence_captures")
    op.drop_table("evidence_captures")
