"""Searching the record by words (台账检索): one interface over SQLite FTS5 and PostgreSQL GIN (see models/search.py).

A query is split into words at spaces; an item matches when every word occurs, as a substring, in its 编号, title,
text, a link, a written report, a statement, an opinion, a step's text (首报, 续报 …), or the name of its reporter
or of one of its units. Letters are compared case-folded and full-width forms as half-width. How each word reaches
an index:

- SQLite, 3 characters or more: the trigram FTS5 table (exact substring); 1 or 2 characters: the bigram FTS5 table
  (a 2-character word is one lexeme, a 1-character word a prefix query on the 1-character prefix index);
- PostgreSQL: one row per item (search_items, migration 0017: the item's texts joined, the union of their bigram
  lexemes, a GIN index). All the words' lexemes are intersected inside that index in one statement ('字':* for a
  1-character word), then each word is checked with strpos() on the candidate's one row — unless a word also occurs
  in a person's or unit's name, when each word's items (texts or names) are found apart and intersected.

For a word of letters and digits of 1 or 2 characters the index answers exactly; a longer one, or one with
punctuation in it, is checked with instr()/strpos() on the candidates.

A word with no letter or digit (only punctuation) is ignored. Names of people and units are matched in their own
small tables. No query scans items, reports or statements with LIKE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from models import Item, ItemUnit, Person, Unit
from models.search import ITEM_SHIFT, KIND_NAMES, kind_of, normalize, query_grams, tsquery_literal

MAX_WORDS = 6
MAX_WORD_CHARS = 50
SNIPPET_CHARS = 24  # shown on each side of the first hit
DENSE = 20000  # from this many listed items on, SQLite filters while walking an index (see _listed)
SAMPLE = 200  # the newest items a query's words are tried on first, to tell a common word from a rare one
COMMON_SHARE = 0.06  # a word in at least this share of them is common: checked item by item, not fetched from the index
# PostgreSQL fetches from its one row per item more cheaply than it checks item by item (each check reads an item's
# joined texts out of line), so a word is common there only from twice that share (bench/search.py: p95 103 → 72 ms)
COMMON_SHARE_PG = 0.12
FETCH_SHARE = 0.15  # SQLite, words rare together: each word below this share is fetched too (cheaper than checking)
SMALL_RECORD = 2000  # up to this many items every word is fetched from the index (nothing is costly at that size)
DOCS = table("search_docs", column("item_id", Integer), column("body"))
ITEMS = table("search_items", column("item_id", Integer), column("body"))  # PostgreSQL: one row per item (0017)


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


def _documents(dialect: str, word: str, n: int) -> tuple[str, dict[str, str]]:
    """SQL selecting (as item_id) the items with a document that contains word, and its parameters (named after n)."""
    m, w = f"m{n}", f"w{n}"
    exact_by_index = len(word) <= 2 and word.isalnum()  # its lexemes say it all: no need to read the text
    if dialect == "postgresql":  # one row per item (migration 0017): its texts' lexemes, its texts joined
        sql = f"SELECT s.item_id FROM search_items s WHERE s.grams @@ CAST(:{m} AS tsquery)"
        if not exact_by_index:
            return sql + f" AND strpos(s.body, :{w}) > 0", {m: _tsquery(word), w: word}
        return sql, {m: _tsquery(word)}
    shift = f"{ITEM_SHIFT}"
    if len(word) >= 3:
        return f"SELECT rowid >> {shift} AS item_id FROM search_fts WHERE search_fts MATCH :{m}", {
            m: _fts_match(word, False)
        }
    if exact_by_index:
        return f"SELECT rowid >> {shift} AS item_id FROM search_grams WHERE search_grams MATCH :{m}", {
            m: _fts_match(word, True)
        }
    sql = (
        f"SELECT d.id >> {shift} AS item_id FROM search_docs d WHERE d.id IN "
        f"(SELECT rowid FROM search_grams WHERE search_grams MATCH :{m}) AND instr(d.body, :{w}) > 0"
    )
    return sql, {m: _fts_match(word, True), w: word}


def _tsquery(word: str) -> str:
    """The PostgreSQL tsquery literal of the lexemes every text holding word has."""
    exact, prefix = query_grams(word)
    return tsquery_literal(exact, prefix)


def _word_sql(dialect: str, word: str, n: int) -> tuple[str, dict[str, str]]:
    """SQL selecting (as item_id) every item that contains word: in a document, or in its reporter's or a unit's name
    (people and units are small tables)."""
    docs, params = _documents(dialect, word, n)
    like = f"l{n}"
    params[like] = _like(word)
    names = (  # joined from the small table, so the items and item_units are reached through their indexes
        f"SELECT i.id AS item_id FROM people p JOIN items i ON i.reporter_id = p.id "
        f"WHERE lower(p.name) LIKE :{like} ESCAPE '\\' "
        f"UNION SELECT iu.item_id FROM units u JOIN item_units iu ON iu.unit_id = u.id "
        f"WHERE lower(u.name) LIKE :{like} ESCAPE '\\'"
    )
    return f"{docs} UNION {names}", params


def matching(dialect: str, word: str, n: int = 0) -> Any:
    """SQL selecting the ids of every item that contains the normalised word anywhere it is searched."""
    sql, params = _word_sql(dialect, word, n)
    return text(sql).bindparams(**params).columns(column("item_id", Integer))


def _lookup(session: Session, found: list[str]) -> tuple[int, Any]:
    """Return (how many items contain every word, their ids as the database hands them back in one value: a JSON
    array on SQLite, an array on PostgreSQL) — one statement, no row per match through Python."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and not _in_names(session, found):
        return _lookup_items(session, found)
    parts, params = [], {}
    for n, word in enumerate(found):
        sql, more = _word_sql(dialect, word, n)
        parts.append(f"SELECT item_id FROM ({sql}) AS w{n}")
        params.update(more)
    both = " INTERSECT ".join(parts)
    agg = "coalesce(array_agg(item_id), '{}')" if dialect == "postgresql" else "json_group_array(item_id)"
    count, ids = session.execute(text(f"SELECT count(*), {agg} FROM ({both}) AS m"), params).one()
    return int(count), ids


def _like(word: str) -> str:
    """The LIKE pattern of a name holding word (its wildcards escaped with a backslash)."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in_names(session: Session, found: list[str]) -> bool:
    """Whether any word occurs in the name of a person or of a unit (small tables: one statement)."""
    hits = []
    for word in found:
        pattern = _like(word)
        hits.append(select(Person.id).where(func.lower(Person.name).like(pattern, escape="\\")).exists())
        hits.append(select(Unit.id).where(func.lower(Unit.name).like(pattern, escape="\\")).exists())
    return bool(session.scalar(select(or_(*hits))))


def _lookup_items(session: Session, found: list[str]) -> tuple[int, Any]:
    """PostgreSQL, no word in a name: every word's lexemes intersected inside the one GIN index of search_items, then
    each word longer than its lexemes say checked with strpos() on the candidate's one row."""
    params: dict[str, str] = {"q": " & ".join(f"({_tsquery(w)})" for w in found)}
    checks = ""
    for n, word in enumerate(found):
        if not (len(word) <= 2 and word.isalnum()):
            checks += f" AND strpos(s.body, :w{n}) > 0"
            params[f"w{n}"] = word
    sql = (
        "SELECT count(*), coalesce(array_agg(s.item_id), '{}') FROM search_items s "
        f"WHERE s.grams @@ CAST(:q AS tsquery){checks}"
    )
    count, ids = session.execute(text(sql), params).one()
    return int(count), ids


def contains(dialect: str, word: str) -> ColumnElement[bool]:
    """The exact condition on Item that it contains the normalised word (in a text or a name), checked on that item's
    own few rows of search_docs (through their item_id index; PostgreSQL: its one row of search_items, by its key) —
    for walking items one by one, never for finding them."""
    pattern = _like(word)
    people = select(Person.id).where(func.lower(Person.name).like(pattern, escape="\\"))
    # Scalar subqueries, not EXISTS or IN: PostgreSQL would turn those into one hashed scan of every text or every
    # assignment (the very scan this avoids); a scalar subquery stays a probe of this item's own rows (PostgreSQL: its
    # one row of search_items).
    if dialect == "postgresql":
        found = func.strpos(ITEMS.c.body, word)
        text_has = select(literal(1)).where(ITEMS.c.item_id == Item.id, found > 0).scalar_subquery()
    else:
        found = func.instr(DOCS.c.body, word)
        text_has = select(literal(1)).where(DOCS.c.item_id == Item.id, found > 0).limit(1).scalar_subquery()
    unit_has = select(literal(1)).select_from(ItemUnit).join(Unit, Unit.id == ItemUnit.unit_id)
    unit_has = unit_has.where(ItemUnit.item_id == Item.id, func.lower(Unit.name).like(pattern, escape="\\"))
    return or_(text_has.is_not(None), Item.reporter_id.in_(people), unit_has.limit(1).scalar_subquery().is_not(None))


@dataclass(frozen=True)
class Found:
    """What a query's words ask of Item: the conditions, and whether they are all common words (dense: no list of
    matches was fetched; each item is checked as the list is walked, so a caller should stop early and cap counts)."""

    conds: list[ColumnElement[bool]]
    dense: bool = False


def shares(session: Session, found: list[str]) -> list[float]:
    """Return the share of the SAMPLE newest items that contain each word, then the share that contain them all."""
    dialect = session.get_bind().dialect.name
    newest = select(Item.id).order_by(Item.id.desc()).limit(SAMPLE).subquery()
    each = [contains(dialect, w) for w in found]
    cols = [func.count()] + [func.sum(case((c, 1), else_=0)) for c in [*each, and_(*each)]]
    stmt = select(*cols).select_from(Item).where(Item.id.in_(select(newest.c.id)))
    total, *hit = session.execute(stmt).one()
    return [int(h or 0) / max(1, int(total)) for h in hit]


def find(session: Session, query: str, walkable: bool = True) -> Found:
    """Return the conditions query's words set on Item. Rare words are looked up in the index once (their matches
    become one list, as before); common words (in COMMON_SHARE of the newest items or more, COMMON_SHARE_PG on
    PostgreSQL) are not fetched — tens of thousands of matches — but checked item by item (contains) when walkable
    (the caller walks items in an indexed order and stops early). If the items holding every word are common too,
    the result is dense (nothing fetched); else every word under FETCH_SHARE is fetched (at least the rarest) and
    the others checked — on PostgreSQL every word, when none is in a name (intersecting them inside the one index of
    items costs less than checking)."""
    found = words(query)
    if not found:
        return Found([])
    dialect = session.get_bind().dialect.name
    common: list[str] = []
    if walkable and (session.scalar(select(func.max(Item.id))) or 0) > SMALL_RECORD:
        *each, together = shares(session, found)
        common_share = COMMON_SHARE_PG if dialect == "postgresql" else COMMON_SHARE
        if together >= common_share:
            return Found([contains(dialect, w) for w in found], dense=True)
        if dialect == "postgresql" and not _in_names(session, found):  # one row per item: intersect all in the index
            return Found(_listed(session, found))
        fetch = FETCH_SHARE if dialect == "sqlite" else common_share
        common = [w for w, share in zip(found, each, strict=True) if share >= fetch]
        if len(common) == len(found):  # very common words, rare together: fetch the rarest (the longest of equals)
            rarest = min(zip(each, (-len(w) for w in found), found, strict=True))[2]
            common.remove(rarest)
    rare = [w for w in found if w not in common]
    return Found(_listed(session, rare) + [contains(dialect, w) for w in common])


def _listed(session: Session, found: list[str]) -> list[ColumnElement[bool]]:
    """The condition that Item is among the items holding every word, fetched from the index in one statement."""
    count, ids = _lookup(session, found)
    if not count:
        return [false()]
    if session.get_bind().dialect.name == "postgresql":
        listed = text("SELECT unnest(CAST(:ids AS integer[]))").bindparams(ids=list(ids))
        return [Item.id.in_(listed.columns(column("value", Integer)))]
    listed = text("SELECT value FROM json_each(:ids)").bindparams(ids=ids)
    # Many matches: let SQLite walk the index the page is ordered or counted by (reported_at, state) and test each
    # row against the set, rather than fetch every matching row by its id and sort them all (Item.id + 0 is not the
    # primary key to its planner).
    target = Item.id + 0 if count > DENSE else Item.id
    return [target.in_(listed.columns(column("value", Integer)))]


def item_set(session: Session, query: str) -> list[int] | None:
    """Return the ids of the items that contain every word of query; None for a query without words."""
    found = words(query)
    if not found:
        return None
    _count, ids = _lookup(session, found)
    return sorted(json.loads(ids) if isinstance(ids, str) else ids)


def conditions(session: Session, query: str) -> list[ColumnElement[bool]]:
    """Return the condition on Item.id that query's words set, every word fetched from the index (for lists that are
    read to the end: the export, the command line); [] for an empty query."""
    return find(session, query, walkable=False).conds


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
    stmt = text("SELECT id, item_id, body FROM search_docs WHERE item_id IN :ids ORDER BY id")
    rows = session.execute(stmt.bindparams(bindparam("ids", value=list(ids), expanding=True)))
    out: dict[int, Hit] = {}
    for key, item_id, body in sorted(rows, key=lambda r: (kind_of(r[0]), r[0])):  # the item's own words first
        at = body.find(word)
        if at >= 0 and item_id not in out:
            out[item_id] = Hit(KIND_NAMES.get(kind_of(key), ""), _excerpt(body, at, len(word)))
    return out


def _excerpt(body: str, at: int, size: int) -> str:
    lo, hi = max(0, at - SNIPPET_CHARS), min(len(body), at + size + SNIPPET_CHARS)
    one_line = " ".join(body[lo:hi].split())
    return ("…" if lo else "") + one_line + ("…" if hi < len(body) else "")
