"""PostgreSQL's one index row per item (search_items, migration 0017): it holds every text of the item, follows every
write in the writer's transaction (insert, update, delete, rollback), loses no words when two writers add texts to
one item at once, and a query's words are intersected inside its GIN index."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import Engine, select, text

from models import Item
from models import search as index
from tests.integration.flowkit import dispatched
from tests.integration.harness import Stack
from workflow.record import search

pytestmark = pytest.mark.skipif(not os.environ.get("LIAOWANG_TEST_DATABASE_URL"), reason="PostgreSQL only")
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack on PostgreSQL (the emulator, Redis, the workers)."""
    return make_stack()


def body_of(st: Stack, item_id: int) -> str | None:
    """The item's row of search_items (its texts joined), None without one."""
    with st.rt.sessions() as s:
        return s.scalar(text("SELECT body FROM search_items WHERE item_id = :i"), {"i": item_id})


def item_of(st: Stack, code: str) -> int:
    """The id of the item with this 编号."""
    with st.rt.sessions() as s:
        found = s.scalar(select(Item.id).where(Item.code == code))
        assert found is not None
        return found


def test_one_row_per_item_holds_every_text_and_follows_every_write(st: Stack) -> None:
    code = dispatched(st)  # 网传执法人员与商户发生冲突的视频, 执法一队
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员并向商户道歉。")
    item_id = item_of(st, code)
    body = body_of(st, item_id) or ""
    assert "冲突的视频" in body, body
    assert "向商户道歉" in body, body
    with st.rt.sessions() as s:
        assert search.item_ids(s, "冲突的视频 商户道歉") == [item_id], "words of two texts, one item"
        assert search.item_ids(s, "视频道歉") == [], "the texts are not run together"

    with st.rt.sessions() as s, s.begin():
        item = s.get(Item, item_id)
        assert item is not None
        item.title = "改过的标题：桥洞积水"
        s.flush()
        assert search.item_ids(s, "桥洞积水 商户道歉") == [item_id], "seen inside the writer's transaction"
        s.rollback()
    assert "桥洞积水" not in (body_of(st, item_id) or ""), "rolled back with the write"

    with st.rt.sessions() as s, s.begin():
        item = s.get(Item, item_id)
        assert item is not None
        item.title = "桥洞积水"
    with st.rt.sessions() as s:
        assert search.item_ids(s, "桥洞积水") == [item_id]
        assert "桥洞积水" in (body_of(st, item_id) or "")

    with st.rt.sessions() as s, s.begin():
        s.execute(text("DELETE FROM search_docs WHERE item_id = :i"), {"i": item_id})
    assert body_of(st, item_id) is None, "an item without texts has no row"


def test_two_writers_adding_texts_to_one_item_at_once_lose_no_words(st: Stack) -> None:
    item_id = item_of(st, dispatched(st))
    with st.rt.sessions() as s:
        engine = s.get_bind()
    assert isinstance(engine, Engine)
    first = engine.connect()
    first.begin()
    index.put(first, index.doc_key(item_id, 900001, index.KIND_STEP), item_id, "第一位写入者：桥洞积水")
    failed: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as c:
                index.put(c, index.doc_key(item_id, 900002, index.KIND_STEP), item_id, "第二位写入者：路灯不亮")
        except BaseException as e:  # noqa: BLE001 (reported by the test)
            failed.append(e)

    other = threading.Thread(target=second)
    other.start()
    with engine.connect() as watch:  # wait until the second writer waits for the first one's lock
        waiting = 0
        while not waiting and other.is_alive():
            waiting = watch.scalar(text(WAITING))
            watch.rollback()
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not failed, failed
    body = body_of(st, item_id) or ""
    assert "桥洞积水" in body, body
    assert "路灯不亮" in body, body
    with st.rt.sessions() as s:
        assert search.item_ids(s, "桥洞积水 路灯不亮") == [item_id]


def test_the_words_are_intersected_inside_the_item_index(st: Stack) -> None:
    item_id = item_of(st, dispatched(st))
    with st.rt.sessions() as s:
        assert search.item_ids(s, "执法人员 冲突的视频") == [item_id]
        assert search.item_ids(s, "执法一队 冲突的视频") == [item_id], "a unit's name and a text"
        assert search.item_ids(s, "执法一队 龘靐") == []
        s.execute(text("SET LOCAL enable_seqscan = off"))  # a test database is tiny: ask for the plan at scale
        q = "(" + search._tsquery("执法人员") + ") & (" + search._tsquery("冲突的视频") + ")"
        plan = "\n".join(
            r[0]
            for r in s.execute(
                text("EXPLAIN SELECT item_id FROM search_items s WHERE s.grams @@ CAST(:q AS tsquery)"), {"q": q}
            )
        )
    assert "ix_search_items_grams" in plan, plan
    assert "search_docs" not in plan, plan
