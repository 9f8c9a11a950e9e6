"""The search index, narrower on PostgreSQL: each text's bigram tsvector stored out of line (TOAST), its body in the
row, and the index rebuilt so that every row is stored so (see models/search.py POSTGRES_NARROW); SQLite's FTS5
tables are already narrow and are left as they are

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

from models import search

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Set the narrow storage and rewrite every index row (PostgreSQL only)."""
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for stmt in search.POSTGRES_NARROW:
        op.execute(stmt)
    search.rebuild(conn)


def downgrade() -> None:
    """Go back to the default storage (rows keep their layout until rewritten; results are the same)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in search.POSTGRES_WIDE:
        op.execute(stmt)
