"""The search index, one row per item on PostgreSQL: search_items holds each item's texts joined by a line break and
the union of their bigram lexemes, with a GIN index over it, kept current by statement triggers on search_docs (in the
writer's own transaction); a query's words are intersected inside that one index and checked with strpos() on the
item's one row, instead of joined text by text. SQLite is left as it is (its FTS5 tables answer there).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Every statement that writes search_docs re-derives the rows of the items it touched, in one pass: the rows are made
# to exist and locked in item order first, so that the next statement (a fresh snapshot under READ COMMITTED) sees
# what a concurrent writer of the same item committed meanwhile, and no item's words are lost to a race.
REFRESH = """
CREATE FUNCTION search_items_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  touched integer[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT item_id) INTO touched FROM new_docs;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT item_id) INTO touched FROM old_docs;
  ELSE
    SELECT array_agg(DISTINCT item_id) INTO touched
      FROM (SELECT item_id FROM new_docs UNION SELECT item_id FROM old_docs) AS both_sides;
  END IF;
  IF touched IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO search_items (item_id, body, grams)
    SELECT t, '', ''::tsvector FROM unnest(touched) AS t ORDER BY t
    ON CONFLICT (item_id) DO NOTHING;
  PERFORM 1 FROM search_items WHERE item_id = ANY (touched) ORDER BY item_id FOR UPDATE;
  UPDATE search_items s SET body = agg.body, grams = agg.grams
    FROM (SELECT d.item_id, string_agg(d.body, E'\\n' ORDER BY d.id) AS body, search_grams_union(d.grams) AS grams
            FROM search_docs d WHERE d.item_id = ANY (touched) GROUP BY d.item_id) AS agg
    WHERE s.item_id = agg.item_id;
  DELETE FROM search_items s WHERE s.item_id = ANY (touched)
    AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.item_id = s.item_id);
  RETURN NULL;
END
$$
"""
UP = (
    "CREATE AGGREGATE search_grams_union(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '')",
    "CREATE TABLE search_items (item_id INTEGER PRIMARY KEY, body TEXT NOT NULL, grams TSVECTOR NOT NULL)",
    # both out of line: a match found in the index reads a row of a few bytes; strpos() reads the one body it checks
    "ALTER TABLE search_items ALTER COLUMN grams SET STORAGE EXTERNAL",
    "ALTER TABLE search_items ALTER COLUMN body SET STORAGE EXTERNAL",
    "ALTER TABLE search_items SET (toast_tuple_target = 128)",
    "INSERT INTO search_items (item_id, body, grams) SELECT item_id, string_agg(body, E'\\n' ORDER BY id), "
    "search_grams_union(grams) FROM search_docs GROUP BY item_id",
    "CREATE INDEX ix_search_items_grams ON search_items USING gin (grams)",
    REFRESH,
    "CREATE TRIGGER search_items_on_insert AFTER INSERT ON search_docs REFERENCING NEW TABLE AS new_docs "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_items_refresh()",
    "CREATE TRIGGER search_items_on_update AFTER UPDATE ON search_docs REFERENCING OLD TABLE AS old_docs "
    "NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION search_items_refresh()",
    "CREATE TRIGGER search_items_on_delete AFTER DELETE ON search_docs REFERENCING OLD TABLE AS old_docs "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_items_refresh()",
    "ANALYZE search_items",
)
DOWN = (
    "DROP TRIGGER IF EXISTS search_items_on_delete ON search_docs",
    "DROP TRIGGER IF EXISTS search_items_on_update ON search_docs",
    "DROP TRIGGER IF EXISTS search_items_on_insert ON search_docs",
    "DROP FUNCTION IF EXISTS search_items_refresh()",
    "DROP TABLE IF EXISTS search_items",
    "DROP AGGREGATE IF EXISTS search_grams_union(tsvector)",
)


def upgrade() -> None:
    """Create search_items from what search_docs holds, its GIN index and the triggers (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in UP:
        op.execute(stmt)


def downgrade() -> None:
    """Drop the per-item index and its triggers (search_docs, and the record, are untouched)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in DOWN:
        op.execute(stmt)
