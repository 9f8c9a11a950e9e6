"""The search index of the record (台账检索): search_docs with FTS5 trigram + bigram tables on SQLite, a GIN index over
a bigram tsvector on PostgreSQL (see models/search.py), filled from every item, link, written report, statement,
opinion and step text already recorded

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

from alembic import op

from models import search

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index tables and index everything already recorded."""
    conn = op.get_bind()
    op.create_index("ix_items_reporter_id", "items", ["reporter_id"])  # items by a reporter's name
    search.create(conn)
    search.rebuild(conn)


def downgrade() -> None:
    """Drop the index tables (the record itself is untouched)."""
    for stmt in search.DROP:
        op.execute(stmt)
    op.drop_index("ix_items_reporter_id", "items")
