"""The search index of the record (台账检索), kept current in the writer's own transaction.

Every piece of text an item carries is one row of `search_docs` (its key: the item's id, the source row's id and
the kind, see doc_key):
the item itself (编号, 标题, 正文), each link, each written-report version, each statement version, each 会商意见 and
each step's text in the audit trail (首报, 续报 …). The text is stored normalised (see normalize) and indexed:

- SQLite: an FTS5 table with the trigram tokenizer over `body` (substrings of 3 characters or more) and a contentless
  FTS5 table of the body's bigrams (`grams`, with a 1-character prefix index) for words of 1 or 2 characters;
- PostgreSQL: a GIN index over a tsvector of the body's bigrams (built here, not by a text-search parser, so it does
  not depend on the database's locale); the exact substring is then checked with strpos() on the few candidates.

The mapper events below write the index rows on the same connection, inside the same flush, as the row they index,
so a search never sees an item without its words and a rolled-back write leaves no words behind. Queries live in
workflow/record/search.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, event, inspect, text

from models.duty import Statement
from models.item import Item, ItemLink
from models.records import AuditEvent
from models.submission import Opinion, Submission

KIND_ITEM, KIND_LINK, KIND_REPORT, KIND_STATEMENT, KIND_OPINION, KIND_STEP = range(6)
KIND_NAMES = {
    KIND_ITEM: "标题或正文",
    KIND_LINK: "链接",
    KIND_REPORT: "书面报告",
    KIND_STATEMENT: "口径",
    KIND_OPINION: "会商意见",
    KIND_STEP: "首报、续报等",
}
KINDS = 8
ITEM_SHIFT = 32  # a document's key: item id << 32 | source id × 8 + kind, so a match names its item without a lookup


def doc_key(item_id: int, source_id: int, kind: int) -> int:
    """Return the key of a source row's document (item ids and source ids below 2³¹ and 2²⁹)."""
    return (item_id << ITEM_SHIFT) | (source_id * KINDS + kind)


def kind_of(key: int) -> int:
    """Return the kind of text a document key stands for."""
    return key % KINDS


_WIDE = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B) if chr(c).isalnum()} | {0x3000: 0x20}


def normalize(value: str) -> str:
    """Return text as indexed and searched: full-width letters and digits as half-width, the ideographic space as a
    space, case-folded (Chinese punctuation is kept, so excerpts read as written)."""
    return value.translate(_WIDE).casefold()


def grams(body: str) -> list[str]:
    """Return the distinct lexemes of a normalised body: each letter or digit with the next one when that is a letter
    or digit too, else alone (so every letter or digit begins at least one lexeme)."""
    out: dict[str, None] = {}
    for i, c in enumerate(body):
        if c.isalnum():
            nxt = body[i + 1 : i + 2]
            out[c + nxt if nxt.isalnum() else c] = None
    return list(out)


def query_grams(word: str) -> tuple[list[str], str | None]:
    """Return (lexemes every body that contains word must have, a prefix one of its lexemes must start with) for a
    normalised word; ([], None) when it has no letter or digit."""
    exact: list[str] = []
    prefix = None
    for i, c in enumerate(word):
        if not c.isalnum():
            continue
        if i + 1 < len(word):
            nxt = word[i + 1]
            exact.append(c + nxt if nxt.isalnum() else c)
        elif i == 0 or not word[i - 1].isalnum():
            prefix = c
    return list(dict.fromkeys(exact)), prefix


def tsvector_literal(lexemes: Iterable[str]) -> str:
    """Return lexemes as a PostgreSQL tsvector literal (each quoted)."""
    return " ".join(_quote(x) for x in lexemes)


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_literal(exact: list[str], prefix: str | None) -> str:
    """Return the PostgreSQL tsquery literal: every exact lexeme AND a lexeme starting with prefix."""
    parts = [_quote(x) for x in exact] + ([_quote(prefix) + ":*"] if prefix else [])
    return " & ".join(parts)


# ---- what is indexed, per source row -------------------------------------------------------------------------------


def _item_doc(item: Item) -> tuple[int | None, str]:
    return item.id, "\n".join(x for x in (item.code, item.title, item.text) if x)


def _step_doc(ev: AuditEvent) -> tuple[int | None, str]:
    said = (ev.detail or {}).get("text") if isinstance(ev.detail, dict) else None
    return ev.item_id, said if isinstance(said, str) else ""


Doc = Callable[[Any], tuple[int | None, str]]
SOURCES: dict[type, tuple[int, tuple[str, ...], Doc]] = {
    Item: (KIND_ITEM, ("code", "title", "text"), _item_doc),
    ItemLink: (KIND_LINK, ("url",), lambda x: (x.item_id, x.url or "")),
    Submission: (KIND_REPORT, ("text",), lambda x: (x.item_id, x.text or "")),
    Statement: (KIND_STATEMENT, ("text",), lambda x: (x.item_id, x.text or "")),
    Opinion: (KIND_OPINION, ("text",), lambda x: (x.item_id, x.text or "")),
    AuditEvent: (KIND_STEP, (), _step_doc),
}


# ---- writing the index ---------------------------------------------------------------------------------------------


def put(conn: Connection, key: int, item_id: int, raw: str) -> None:
    """Index raw (not yet normalised) text under key for item_id, replacing what key had; empty text drops it."""
    body = normalize(raw).strip()
    if not body:
        drop(conn, key)
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "INSERT INTO search_docs (id, item_id, body, grams) VALUES (:k, :i, :b, CAST(:g AS tsvector)) "
                "ON CONFLICT (id) DO UPDATE SET item_id = excluded.item_id, body = excluded.body, "
                "grams = excluded.grams"
            ),
            {"k": key, "i": item_id, "b": body, "g": tsvector_literal(grams(body))},
        )
        return
    old = conn.execute(text("SELECT body FROM search_docs WHERE id = :k"), {"k": key}).scalar()
    if old == body:
        return
    if old is not None:
        _sqlite_unindex(conn, key, old)
        conn.execute(
            text("UPDATE search_docs SET item_id = :i, body = :b WHERE id = :k"), {"k": key, "i": item_id, "b": body}
        )
    else:
        conn.execute(
            text("INSERT INTO search_docs (id, item_id, body) VALUES (:k, :i, :b)"), {"k": key, "i": item_id, "b": body}
        )
    conn.execute(text("INSERT INTO search_fts (rowid, body) VALUES (:k, :b)"), {"k": key, "b": body})
    conn.execute(
        text("INSERT INTO search_grams (rowid, grams) VALUES (:k, :g)"), {"k": key, "g": " ".join(grams(body))}
    )


def drop(conn: Connection, key: int) -> None:
    """Remove key from the index (nothing if it is not there)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DELETE FROM search_docs WHERE id = :k"), {"k": key})
        return
    old = conn.execute(text("SELECT body FROM search_docs WHERE id = :k"), {"k": key}).scalar()
    if old is not None:
        _sqlite_unindex(conn, key, old)
        conn.execute(text("DELETE FROM search_docs WHERE id = :k"), {"k": key})


def _sqlite_unindex(conn: Connection, key: int, old: str) -> None:
    """Take key's old body out of both FTS5 tables (external content and contentless need the old values)."""
    conn.execute(
        text("INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', :k, :b)"), {"k": key, "b": old}
    )
    conn.execute(
        text("INSERT INTO search_grams (search_grams, rowid, grams) VALUES ('delete', :k, :g)"),
        {"k": key, "g": " ".join(grams(old))},
    )


def _on_write(_mapper: Any, conn: Connection, target: Any) -> None:
    kind, fields, doc = SOURCES[type(target)]
    if not _changed(target, fields):
        return
    item_id, raw = doc(target)
    if item_id is not None:
        put(conn, doc_key(item_id, target.id, kind), item_id, raw)


def _on_insert(_mapper: Any, conn: Connection, target: Any) -> None:
    kind, _fields, doc = SOURCES[type(target)]
    item_id, raw = doc(target)
    if item_id is not None and raw.strip():
        put(conn, doc_key(item_id, target.id, kind), item_id, raw)


def _changed(target: Any, fields: tuple[str, ...]) -> bool:
    attrs = inspect(target).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _on_delete(_mapper: Any, conn: Connection, target: Any) -> None:
    kind, _fields, doc = SOURCES[type(target)]
    item_id, _raw = doc(target)
    if item_id is not None:
        drop(conn, doc_key(item_id, target.id, kind))


for _cls, (_kind, _fields, _doc) in SOURCES.items():
    event.listen(_cls, "after_insert", _on_insert)
    if _fields:
        event.listen(_cls, "after_update", _on_write)
    event.listen(_cls, "after_delete", _on_delete)


# ---- creating and filling the index (migration 0013, the benchmark) -------------------------------------------------

SQLITE_DDL = (
    "CREATE TABLE search_docs (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX ix_search_docs_item_id ON search_docs (item_id)",
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_docs', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE search_grams USING fts5(grams, content='', tokenize='unicode61 remove_diacritics 0', "
    "prefix='1', detail='none')",
)
POSTGRES_DDL = (
    "CREATE TABLE search_docs (id BIGINT PRIMARY KEY, item_id INTEGER NOT NULL, body TEXT NOT NULL, "
    "grams TSVECTOR NOT NULL)",
    "CREATE INDEX ix_search_docs_item_id ON search_docs (item_id)",
    "CREATE INDEX ix_search_docs_grams ON search_docs USING gin (grams)",
)
# PostgreSQL, migration 0015: a narrow heap. The bigram tsvector (about 1 KB a text) goes to the TOAST table, the body
# stays in the row; a match found by the GIN index then reads a row of ~0.4 KB for its item id (no recheck needs the
# tsvector), and checking an item's few texts one by one reads little. Rows written from now on are stored so.
POSTGRES_NARROW = (
    "ALTER TABLE search_docs ALTER COLUMN grams SET STORAGE EXTERNAL",
    "ALTER TABLE search_docs ALTER COLUMN body SET STORAGE MAIN",
    "ALTER TABLE search_docs SET (toast_tuple_target = 128)",
)
POSTGRES_WIDE = (
    "ALTER TABLE search_docs ALTER COLUMN grams SET STORAGE EXTENDED",
    "ALTER TABLE search_docs ALTER COLUMN body SET STORAGE EXTENDED",
    "ALTER TABLE search_docs RESET (toast_tuple_target)",
)
DROP = ("DROP TABLE IF EXISTS search_grams", "DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS search_docs")


def create(conn: Connection) -> None:
    """Create the index tables for the connection's database."""
    for stmt in POSTGRES_DDL if conn.dialect.name == "postgresql" else SQLITE_DDL:
        conn.execute(text(stmt))


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return ""
    said = detail.get("text") if isinstance(detail, dict) else None
    return said if isinstance(said, str) else ""


def source_rows(conn: Connection) -> Iterator[tuple[int, int, str]]:
    """Yield (key, item id, raw text) for every piece of text the record holds, read with plain SQL."""
    for row in conn.execute(text("SELECT id, code, title, text FROM items")):
        yield doc_key(row[0], row[0], KIND_ITEM), row[0], "\n".join(x for x in row[1:] if x)
    simple = (
        ("item_links", "url", KIND_LINK),
        ("submissions", "text", KIND_REPORT),
        ("statements", "text", KIND_STATEMENT),
        ("opinions", "text", KIND_OPINION),
    )
    for table, column, kind in simple:
        for row in conn.execute(text(f"SELECT id, item_id, {column} FROM {table}")):  # noqa: S608 (constant names)
            yield doc_key(row[1], row[0], kind), row[1], row[2] or ""
    steps = "SELECT id, item_id, detail FROM audit_events WHERE item_id IS NOT NULL"
    for row in conn.execute(text(steps)):
        said = _detail_text(row[2])
        if said:
            yield doc_key(row[1], row[0], KIND_STEP), row[1], said


# PostgreSQL's one row per item (migration 0017), filled from search_docs in one statement after a rebuild
FILL_ITEMS = (
    "INSERT INTO search_items (item_id, body, grams) SELECT item_id, string_agg(body, E'\\n' ORDER BY id), "
    "search_grams_union(grams) FROM search_docs GROUP BY item_id"
)


def rebuild(conn: Connection, batch: int = 5000) -> int:
    """Empty the index and fill it from every source row; return how many documents it now holds.

    On PostgreSQL with the per-item rows (0017) their triggers are off meanwhile (within this transaction) and the
    rows are filled once at the end: row by row, each insert would re-aggregate its item's every document."""
    pg = conn.dialect.name == "postgresql"
    per_item = pg and conn.scalar(text("SELECT to_regclass('search_items')")) is not None
    if per_item:
        conn.execute(text("ALTER TABLE search_docs DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM search_items"))
    conn.execute(text("DELETE FROM search_docs"))
    if not pg:
        conn.execute(text("INSERT INTO search_grams (search_grams) VALUES ('delete-all')"))
    rows: list[dict[str, Any]] = []
    count = 0
    for key, item_id, raw in source_rows(conn):
        body = normalize(raw).strip()
        if body:
            rows.append({"k": key, "i": item_id, "b": body, "g": _gram_value(pg, body)})
        if len(rows) >= batch:
            count += _insert(conn, pg, rows)
            rows = []
    count += _insert(conn, pg, rows)
    if not pg:
        conn.execute(text("INSERT INTO search_fts (search_fts) VALUES ('rebuild')"))
    if per_item:
        conn.execute(text(FILL_ITEMS))
        conn.execute(text("ALTER TABLE search_docs ENABLE TRIGGER USER"))
        conn.execute(text("ANALYZE search_items"))
    return count


def _gram_value(pg: bool, body: str) -> str:
    g = grams(body)
    return tsvector_literal(g) if pg else " ".join(g)


def _insert(conn: Connection, pg: bool, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    if pg:
        stmt = "INSERT INTO search_docs (id, item_id, body, grams) VALUES (:k, :i, :b, CAST(:g AS tsvector))"
        conn.execute(text(stmt), rows)
        return len(rows)
    conn.execute(text("INSERT INTO search_docs (id, item_id, body) VALUES (:k, :i, :b)"), rows)
    conn.execute(text("INSERT INTO search_grams (rowid, grams) VALUES (:k, :g)"), rows)
    return len(rows)
