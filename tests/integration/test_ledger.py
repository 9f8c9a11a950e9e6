"""The ledger (台账, issue 23 items 1–2): Chinese search over every text of the record, filters, counts, pages, who
sees what, CSV/xlsx of the current view, `liaowang items list`, and the index kept in the writer's transaction."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from core import clock
from models import Item
from sandbox.server import EmulatorServer
from tests.integration.flowkit import code_in, dispatched
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY, archived
from workflow.record import search


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (so an item can be taken to 归档)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def codes(html: str) -> list[str]:
    """The 编号 of the ledger's rows, in the order shown."""
    return re.findall(r'<a class="row[^"]*" href="/h5/item/([^"]+)"', html)


def ledger(browser: Browser, **args: str) -> str:
    """Open /h5/items with these parameters and return the page (200)."""
    query = "&".join(f"{k}={quote(v)}" for k, v in args.items())
    page = browser.get("/h5/items" + ("?" + query if query else ""))
    assert page.status_code == 200, page.text
    return page.text


def _three(st: Stack) -> tuple[str, str, str]:
    """A: 执法一队 with a written report; B: 城东区局 with a statement draft; C: only reported, by sunshi (城东区局)."""
    a = dispatched(st)  # 网传执法人员与商户发生冲突的视频, 张三, 执法一队 较大
    st.say("wangwu", f"书面报告 {a} 经核实，已约谈当事执法人员并向商户道歉。")
    b = dispatched(st, units="城东区局", grade="一般", reporter="wuyi")
    st.say("chenqi", f"口径 {b} 我局已关注到网民反映的夜市噪音扰民情况，正在依法依规调查处理。")
    st.say("sunshi", "上报 西山县某小区垃圾清运不及时，居民在留言板投诉 https://liuyan.example.cn/t/88")
    c = code_in(st.last("sunshi"))
    return a, b, c


def test_the_office_finds_chinese_words_in_titles_texts_reports_statements_links_names_and_codes(st: Stack) -> None:
    a, b, c = _three(st)
    office = Browser(st)
    office.login("chenqi", "/h5/items")
    found = {
        "约谈当事": [a],  # the written report
        "已关注到": [b],  # the statement
        "垃圾清运": [c],  # the item's text
        "约谈": [a],  # two characters
        "噪": [b],  # one character
        "张三": [a],  # the reporter's name
        "城东区局": [b],  # the unit's name
        "LIUYAN.EXAMPLE": [c],  # the link, case-folded
        "ｌｉｕｙａｎ": [c],  # full-width letters
        "冲突 道歉": [a],  # every word must occur (title and report)
        "约谈 噪音": [],
        a[-6:]: [a],  # part of the 编号
    }
    for words, want in found.items():
        html = ledger(office, q=words)
        assert codes(html) == want, (words, codes(html))
        if not want:
            assert f"没有找到含“{words}”的条目" in html
    html = ledger(office, q="约谈当事")
    assert "书面报告：" in html, "the row says where the words were found"
    assert "约谈当事执法人员" in html
    assert codes(ledger(office)) == [c, b, a], "no words: every item, newest first"


def test_filters_counts_sorting_and_pages(st: Stack) -> None:
    a, b, c = _three(st)
    old = archived(st)
    office = Browser(st)
    html = office.login("chenqi", "/h5/items").text
    assert set(codes(html)) == {a, b, c, old}
    for scope, n in (("all", 4), ("open", 3), ("closed", 0), ("archived", 1)):
        assert re.search(rf'data-scope="{scope}">[^<]* {n}</a>', html), (scope, html)
    assert codes(ledger(office, scope="archived")) == [old]
    assert codes(ledger(office, scope="open", sort="old")) == [a, b, c]
    assert codes(ledger(office, grade="general")) == [b]
    assert codes(ledger(office, unit="team1", scope="all")) == [old, a]
    assert codes(ledger(office, unit="team1", q="推搡")) == [old], "words and filters together"
    today = clock.local(clock.now()).date()
    assert codes(ledger(office, since=str(today + timedelta(days=1)))) == []
    assert set(codes(ledger(office, since=str(today - timedelta(days=1)), until=str(today + timedelta(days=1))))) == {
        a,
        b,
        c,
        old,
    }
    assert codes(ledger(office, source="discovery", q="西山县")) == [c]
    assert "共 <b>1</b> 条" in ledger(office, scope="archived")

    for n in range(19):
        st.say("liujiu", f"上报 第{n}号测试舆情 https://example.cn/p/{n}")
    first, second = ledger(office), ledger(office, page="2")
    assert len(codes(first)) == 20
    assert len(codes(second)) == 3
    assert not set(codes(first)) & set(codes(second))
    assert "第 2/2 页" in second
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert codes(ledger(office, page="99")) == codes(second), "a page past the end shows the last page"

    for bad, why in (
        ({"scope": "done"}, "状态只能是"),
        ({"since": "2026-13-01"}, "起始日期写成"),
        ({"since": "2026-11-30", "until": "2026-11-01"}, "早于起始日期"),
        ({"grade": "huge"}, "等级只能是"),
        ({"page": "-1"}, "页码应是正整数"),
    ):
        query = "&".join(f"{k}={v}" for k, v in bad.items())
        page = office.get("/h5/items?" + query)
        assert page.status_code == 400, bad
        assert why in page.text, (bad, page.text)


def test_a_commentator_sees_only_the_items_they_took_part_in_and_the_office_sees_all(st: Stack) -> None:
    a, b, c = _three(st)
    assert codes(Browser(st).login("chenqi", "/h5/items").text) == [c, b, a]
    assert codes(Browser(st).login("zhouba", "/h5/items").text) == [c, b, a], "a leader sees every item"
    zhangsan = Browser(st)
    html = zhangsan.login("zhangsan", "/h5/items").text
    assert codes(html) == [a], "reported by him"
    assert "您参与过的条目" in html
    assert codes(ledger(zhangsan, q="噪音")) == [], "another unit's statement is not found for him"
    wangwu = Browser(st)
    assert codes(wangwu.login("wangwu", "/h5/items").text) == [a], "his unit was assigned"
    wuyi = Browser(st)
    assert codes(wuyi.login("wuyi", "/h5/items").text) == [b]
    sunshi = Browser(st)
    assert codes(sunshi.login("sunshi", "/h5/items").text) == [c, b], "reported by him; his unit (城东区局) assigned"
    exported = zhangsan.get("/h5/items.csv")
    assert exported.status_code == 200
    assert a in exported.text
    assert b not in exported.text
    assert c not in exported.text
    assert Browser(st).get("/h5/items").status_code == 302, "no session: WeCom OAuth first"

    st.say("chenqi", f"跟帖 {b} 张三 说明我局已在调查")  # a card about b goes to zhangsan
    assert any("【跟帖】" in t for t in st.texts("zhangsan")), st.texts("zhangsan")
    assert codes(ledger(zhangsan)) == [b, a], "an item he was sent a card about"
    assert zhangsan.get(f"/h5/item/{b}").status_code == 200, "and its page opens for him"


def test_csv_and_xlsx_hold_the_current_view_and_a_formula_looking_title_stays_text(st: Stack) -> None:
    a, b, c = _three(st)
    st.say("liujiu", '上报 =HYPERLINK("http://evil.example","点我") 网传某执法队员收受好处 https://example.cn/x/1')
    evil = code_in(st.last("liujiu"))
    office = Browser(st)
    office.login("chenqi", "/h5/items")
    page = ledger(office, q="执法")
    assert set(codes(page)) == {a, b, evil}
    assert "/h5/items.csv?q=%E6%89%A7%E6%B3%95" in page

    got = office.get("/h5/items.csv?q=" + quote("执法"))
    assert got.status_code == 200
    assert got.headers["Content-Type"].startswith("text/csv")
    disposition = got.headers["Content-Disposition"]
    assert "attachment" in disposition
    assert quote("舆情台账") in disposition
    assert ".csv" in disposition
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "标题", "状态", "等级"]
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {a, b, evil}, "the current view: only what the words select"
    assert by_code[evil][1].startswith("'=HYPERLINK"), by_code[evil][1]
    assert by_code[a][7] == "执法一队"

    got = office.get("/h5/items.xlsx?scope=open")
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    values = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(values) == {a, b, c, evil}
    title = values[evil][1]
    assert title.data_type == "s", "kept as text, not a formula"
    assert str(title.value).startswith("'=HYPERLINK")
    assert office.get("/h5/items.exe").status_code == 404


def test_the_board_rows_and_the_ledger_rows_open_the_case_file(st: Stack) -> None:
    a = dispatched(st)
    office = Browser(st)
    board = office.login("chenqi", "/h5/board").text
    assert f'href="/h5/item/{a}"' in board, "a board row is a link to the case file"
    assert 'href="/h5/items"' in board, "the board leads to the ledger"
    assert codes(ledger(office)) == [a]
    assert office.get(f"/h5/item/{a}").status_code == 200


def test_the_index_follows_every_write_in_the_same_transaction(st: Stack) -> None:
    a = dispatched(st)
    with st.rt.sessions() as s:
        assert search.item_ids(s, "冲突的视频") != []
    with st.rt.sessions() as s, s.begin():
        item = s.scalar(select(Item).where(Item.code == a))
        assert item is not None
        item.title = "改过的标题：桥洞积水"
        s.flush()
        assert search.item_ids(s, "桥洞积水") == [item.id], "seen inside the transaction"
        s.rollback()
    with st.rt.sessions() as s:
        assert search.item_ids(s, "桥洞积水") == [], "rolled back together with the write"
        assert search.item_ids(s, "冲突的视频") != []
        docs = s.execute(text("SELECT count(*) FROM search_docs")).scalar()
        assert (docs or 0) >= 2, "the item and its link"


def test_items_list_at_the_command_line(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    a, b, c = _three(st)
    old = archived(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "items", "list", "--json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert [r["code"] for r in listed] == [c, b, a], "default: the open items, newest first"
    first = next(r for r in listed if r["code"] == a)
    assert {"code", "title", "state", "grade", "unit", "reported_at", "source"} <= set(first)
    assert first["state"] == "written_reported"
    assert first["grade"] == "significant"
    assert first["unit"] == "team1"
    assert first["source"] == "discovery"
    assert first["reported_at"].endswith("+08:00")
    assert next(r for r in listed if r["code"] == c)["unit"] is None

    out = liaowang(cfg, "items", "list", "--json", "--state", "all", "--q", "约谈")
    assert [r["code"] for r in json.loads(out.stdout)] == [old, a]
    out = liaowang(cfg, "items", "list", "--state", "archived")
    assert out.returncode == 0
    assert old in out.stdout
    assert a not in out.stdout
    assert "共 1 条（已归档）" in out.stderr
    today = clock.local(clock.now()).date()
    out = liaowang(cfg, "items", "list", "--json", "--unit", "chengdong", "--grade", "general", "--until", str(today))
    assert [r["code"] for r in json.loads(out.stdout)] == [b]

    for args, why in (
        (("--state", "finished"), "状态只能是"),
        (("--since", "2026/11/01"), "起始日期写成 2026-11-01"),
        (("--since", "2026-11-30", "--until", "2026-11-01"), "早于起始日期"),
        (("--unit", "nowhere"), "没有 key 为“nowhere”的单位"),
    ):
        bad = liaowang(cfg, "items", "list", *args)
        assert bad.returncode == 2, (args, bad.stdout)
        assert why in bad.stderr, (args, bad.stderr)
        assert bad.stdout == ""


def test_a_word_is_looked_up_in_an_index_never_by_scanning_the_texts(st: Stack) -> None:
    dispatched(st)
    with st.rt.sessions() as s:
        dialect = s.get_bind().dialect.name
        if dialect == "postgresql":
            s.execute(text("SET LOCAL enable_seqscan = off"))  # a test database is tiny: ask for the plan at scale
        for word in ("冲突的视频", "冲突", "冲"):
            stmt = select(Item.id).where(Item.id.in_(search.matching(dialect, word)))
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            verb = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(r[-1]) for r in s.execute(text(verb + sql)))
            if dialect == "postgresql":
                assert "ix_search_items_grams" in plan, plan  # one row per item (migration 0017)
                assert "Seq Scan on search_items" not in plan, plan
            else:
                table = "search_fts" if len(word) >= 3 else "search_grams"
                assert f"SCAN {table} VIRTUAL TABLE INDEX" in plan, plan
                assert "SCAN search_docs" not in plan, plan
            assert "submissions" not in plan, plan
