"""Searching the record by words (台账检索): one interface over SQLite FTS5 and PostgreSQL GIN (see models/search.py).

A query is split into words at spaces; an item matches when every word occurs, as a substring, in its 编号, title,
text, a link, a written report, a statement, an opinion, a step's text (首报, 续报 …), or the name of its reporter
or of one of its units. Letters are compared case-folded and full-width forms as half-width. How each word reaches
an index:

- 3 characters or more: SQLite's trigram FTS5 table (exact substring); PostgreSQL: the word's bigram lexemes in the
  GIN index, then strpos() on those candidates only;
- 1 or 2 characters: SQLite's bigram FTS5 table (a 2-character word is one lexeme, a 1-character word a prefix
  query on the 1-character prefix index); PostgreSQL as above ('字':* for one). For a word of letters and digits
  the index answers exactly; one with punctuation in it is checked with instr()/strpos() on the candidates.

A word with no letter or digit (only punctuation) is ignored. Names of people and units are matched in their own
small tables. No query scans items, reports or statements with LIKE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, column, select, text, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from models import Item, ItemUnit, Person, Unit
from models.search import KIND_NAMES, KINDS, normalize, query_grams, tsquery_literal

MAX_WORDS = 6
MAX_WORD_CHARS = 50
SNIPPET_CHARS = 24  # shown on each side of the first hit


def words(query: str) -> list[str]:
    """Return the query's words as they are searched: normalised, at most MAX_WORD_CHARS each, duplicates and words
    without a letter or digit dropped, at most MAX_WORDS."""
    out: list[str] = []
    for raw in normalize(query).split():
        word = raw[:MAX_WORD_CHARS]
        if any(c.isalnum() for c in word) and word not in out:
            out.append(word)
    return out[:MAX_WORDS]


def _fts_match(word: str, short: bool) -> str:
    """The FTS5 MATCH expression: the word as one trigram phrase, or its bigram lexemes (and prefix) for short words."""
    if not short:
        return '"' + word.replace('"', '""') + '"'
    exact, prefix = query_grams(word)
    return " AND ".join([f'"{g}"' for g in exact] + ([f'"{prefix}" *'] if prefix else []))


def _documents(dialect: str, word: str, n: int) -> Select[Any]:
    """SQL selecting the ids of items with a document that contains word (its parameters named after n)."""
    m, w = f"m{n}", f"w{n}"
    exact_by_index = len(word) <= 2 and word.isalnum()  # its lexemes say it all: no need to read the text
    if dialect == "postgresql":
        exact, prefix = query_grams(word)
        sql = f"SELECT d.item_id FROM search_docs d WHERE d.grams @@ CAST(:{m} AS tsquery)"
        sql += "" if exact_by_index else f" AND strpos(d.body, :{w}) > 0"
        params = {m: tsquery_literal(exact, prefix), w: word}
    elif len(word) >= 3:
        sql = (
            "SELECT d.item_id FROM search_docs d WHERE d.id IN "
            f"(SELECT rowid FROM search_fts WHERE search_fts MATCH :{m})"
        )
        params = {m: _fts_match(word, short=False)}
    else:
        sql = (
            "SELECT d.item_id FROM search_docs d WHERE d.id IN "
            f"(SELECT rowid FROM search_grams WHERE search_grams MATCH :{m})"
        )
        sql += "" if exact_by_index else f" AND instr(d.body, :{w}) > 0"
        params = {m: _fts_match(word, short=True), w: word}
    found = (
        text(sql).bindparams(**{k: v for k, v in params.items() if f":{k}" in sql}).columns(column("item_id", Integer))
    )
    return select(found.subquery().c.item_id)


def _named(word: str) -> tuple[Select[Any], Select[Any]]:
    """SQL selecting items whose reporter, or one of whose units, has word in its name (small tables)."""
    people = select(Person.id).where(Person.name.contains(word, autoescape=True))
    units = select(Unit.id).where(Unit.name.contains(word, autoescape=True))
    return (
        select(Item.id).where(Item.reporter_id.in_(people)),
        select(ItemUnit.item_id).where(ItemUnit.unit_id.in_(units)),
    )


def matching(dialect: str, word: str, n: int = 0) -> CompoundSelect:
    """SQL selecting the ids of every item that contains the normalised word anywhere it is searched."""
    return union(_documents(dialect, word, n), *_named(word))


def conditions(session: Session, query: str) -> list[ColumnElement[bool]]:
    """Return one condition on Item.id per word of query (all must hold); [] for an empty query."""
    dialect = session.get_bind().dialect.name
    return [Item.id.in_(matching(dialect, w, n)) for n, w in enumerate(words(query))]


def item_ids(session: Session, query: str, limit: int = 1000) -> list[int]:
    """Return the ids of items matching every word of query, newest first (at most limit)."""
    conds = conditions(session, query)
    if not conds:
        return []
    stmt = select(Item.id).where(*conds).order_by(Item.reported_at.desc(), Item.id.desc()).limit(limit)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Hit:
    """Where an item matched the first word: what kind of text, and a short excerpt around the first occurrence."""

    where: str
    excerpt: str


def hits(session: Session, ids: list[int], query: str) -> dict[int, Hit]:
    """Return, for the given items, where the first word of query occurs (for the result list); names are not shown."""
    found = words(query)
    if not ids or not found:
        return {}
    word = found[0]
    stmt = text("SELECT id, item_id, body FROM search_docs WHERE item_id IN :ids ORDER BY id % 8, id")
    rows = session.execute(stmt.bindparams(bindparam("ids", value=list(ids), expanding=True)))
    out: dict[int, Hit] = {}
    for key, item_id, body in rows:
        at = body.find(word)
        if at >= 0 and item_id not in out:  # the item's own words first, then links, reports …
            out[item_id] = Hit(KIND_NAMES.get(key % KINDS, ""), _excerpt(body, at, len(word)))
    return out


def _excerpt(body: str, at: int, size: int) -> str:
    lo, hi = max(0, at - SNIPPET_CHARS), min(len(body), at + size + SNIPPET_CHARS)
    one_line = " ".join(body[lo:hi].split())
    return ("…" if lo else "") + one_line + ("…" if hi < len(body) else "")
