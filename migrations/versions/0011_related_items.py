"""After 归档: a new report of an archived item's link opens a new item linked to it (items.related_item_id); a link
may therefore belong to several items (unique per item, no longer across items)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add items.related_item_id; item_links.normalized: unique per item, indexed for the lookup."""
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("related_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_items_related_item_id_items", "items", ["related_item_id"], ["id"])
    with op.batch_alter_table("item_links") as batch_op:
        batch_op.drop_constraint("uq_item_links_normalized", type_="unique")
        batch_op.create_unique_constraint("uq_item_links_item_id", ["item_id", "normalized"])
        batch_op.create_index("ix_item_links_normalized", ["normalized"], unique=False)


def downgrade() -> None:
    """Drop them again (refused by the database if a link now belongs to two items)."""
    with op.batch_alter_table("item_links") as batch_op:
        batch_op.drop_index("ix_item_links_normalized")
        batch_op.drop_constraint("uq_item_links_item_id", type_="unique")
        batch_op.create_unique_constraint("uq_item_links_normalized", ["normalized"])
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_constraint("fk_items_related_item_id_items", type_="foreignkey")
        batch_op.drop_column("related_item_id")
