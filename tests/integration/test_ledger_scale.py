"""The ledger's search at scale (issue 23 item 2): a very common word is not counted to the end — the page and the
command line say “500+” — yet every item that holds it is listed as one pages on, and only such items; a rare word
with a common one is counted exactly."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import insert, select

from core import clock
from models import Item, Person
from models import search as index
from sandbox.server import EmulatorServer
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from workflow.views import ledger

ITEMS = 2400  # more than search.SMALL_RECORD, so common words are checked item by item
STATES = ("reported", "closed", "archived")


def common(i: int) -> bool:
    """Item i's title says 网传 (one item in three: a very common word)."""
    return i % 3 == 0


def rare(i: int) -> bool:
    """Item i's text says 桥洞积水 (one item in two hundred)."""
    return i % 200 == 7


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and ITEMS items written straight into the record, then indexed as migration 0013 does."""
    stack: Stack = make_stack(pages=True)
    start = clock.now() - timedelta(days=30)
    with stack.rt.sessions() as s:
        reporter = s.scalars(select(Person.id).order_by(Person.id)).first()
        rows = [
            {
                "code": f"YQ-20260101-{i:04d}",
                "title": ("网传" if common(i) else "市民反映") + f"第{i}号事项",
                "text": "道路" + ("桥洞积水" if rare(i) else "路面破损") + "，请核实。",
                "source": "discovery",
                "grade": "general",
                "state": STATES[i % 3 if i % 2 else (i // 2) % 3],
                "reporter_id": reporter,
                "reported_at": start + timedelta(minutes=i),
                "updated_at": start + timedelta(minutes=i),
                "version": 1,
            }
            for i in range(ITEMS)
        ]
        s.execute(insert(Item), rows)
        index.rebuild(s.connection())
        s.commit()
    return stack


def newest_first(which: object) -> list[str]:
    """The codes of the items which(i) holds, newest first (what paging through the ledger must give)."""
    assert callable(which)
    return [f"YQ-20260101-{i:04d}" for i in reversed(range(ITEMS)) if which(i)]


def test_a_very_common_word_is_counted_to_500_plus_and_paging_still_finds_every_match(st: Stack) -> None:
    want = newest_first(common)
    assert len(want) == 800
    with st.rt.sessions() as s:
        first = ledger.page(s, ledger.Query(q="网"), None)
        assert first.capped
        assert first.counts[ledger.Scope.all] == ledger.COUNT_CAP == 500
        assert first.total == 500
        assert first.more
        assert [r.code for r in first.rows] == want[:20]
        assert all("网" in r.title for r in first.rows), "a listed item really holds the word"
        seen: list[str] = []
        at = 1
        while True:
            shown = ledger.page(s, ledger.Query(q="网", page=at), None)
            seen += [r.code for r in shown.rows]
            if not shown.more:
                break
            at += 1
        assert seen == want, "paging on lists every item that holds the word, once, in order"
        assert at == 40
        past = ledger.page(s, ledger.Query(q="网", page=999), None)
        assert not past.capped, "past the end the list is counted to the end, to show the last page"
        assert past.total == 800
        assert [r.code for r in past.rows] == want[-20:]

    office = Browser(st)
    office.login("chenqi", "/h5/items")
    html = office.get("/h5/items?q=" + quote("网传")).text
    assert re.search(r'data-scope="all">[^<]* 500\+</a>', html), html
    assert "<b>500+</b> 条" in html
    assert "只数了最新的 500 条" in html
    assert 'rel="next"' in html
    assert "第 1 页" in html


def test_a_common_word_per_state_and_with_filters_pages_through_every_match(st: Stack) -> None:
    with st.rt.sessions() as s:
        for scope, states in ledger.SCOPE_STATES.items():
            names = {str(x) for x in states}
            want = [
                f"YQ-20260101-{i:04d}"
                for i in reversed(range(ITEMS))
                if common(i) and STATES[i % 3 if i % 2 else (i // 2) % 3] in names
            ]
            seen: list[str] = []
            at = 1
            while True:
                shown = ledger.page(s, ledger.Query(q="网传", scope=scope, page=at), None)
                seen += [r.code for r in shown.rows]
                if not shown.more:
                    break
                at += 1
            assert seen == want, scope
        old = ledger.page(s, ledger.Query(q="网传", sort=ledger.Sort.old), None)
        assert [r.code for r in old.rows] == newest_first(common)[::-1][:20], "oldest first walks the other way"
        by_grade = ledger.page(s, ledger.Query(q="网传", sort=ledger.Sort.grade), None)
        assert not by_grade.capped, "an order no index follows: the matches are fetched and counted exactly"
        assert by_grade.total == 800


def test_a_rare_word_is_counted_exactly_even_with_a_common_one(st: Stack) -> None:
    with st.rt.sessions() as s:
        for q, which in (("桥洞积水", rare), ("桥洞 网传", lambda i: rare(i) and common(i)), ("积水 市民", None)):
            want = newest_first(which or (lambda i: rare(i) and not common(i)))
            found = ledger.page(s, ledger.Query(q=q), None)
            assert not found.capped, q
            assert found.total == len(want), q
            assert [r.code for r in found.rows] == want[:20], q
        assert ledger.page(s, ledger.Query(q="龘靐"), None).total == 0
        apart = ledger.page(s, ledger.Query(q="网传 市民"), None)
        assert (apart.total, apart.capped, apart.rows) == (0, False, []), "two common words never together"
        together = ledger.page(s, ledger.Query(q="网传 路面"), None)
        assert together.capped, "two common words that are common together are counted to 500+"
        want = newest_first(lambda i: common(i) and not rare(i))
        assert [r.code for r in together.rows] == want[:20]


def test_the_command_line_says_when_a_common_word_was_not_counted_to_the_end(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "items", "list", "--state", "all", "--q", "网传", "--limit", "10", "--json")
    assert out.returncode == 0, out.stderr
    assert [r["code"] for r in json.loads(out.stdout)] == newest_first(common)[:10]
    assert "共 500+ 条，列出前 10 条（这个词很常见，没有全部数完）（全部）" in out.stderr
    out = liaowang(cfg, "items", "list", "--state", "all", "--q", "网传", "--json")
    assert [r["code"] for r in json.loads(out.stdout)] == newest_first(common), "every match up to --limit"
    assert "共 800 条（全部）" in out.stderr
