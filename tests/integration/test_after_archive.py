"""After 归档 (issue 20 item 2): the same link reported again opens a new item linked to the archived one (关联 YQ-…),
the office is told with both 编号, and the archived item's record never changes: its 查询, its audit rows and its
package are byte-identical before and after."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, Item
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, code_in, item_of
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY, archived


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (as tests/integration/test_record.py)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _rows(st: Stack, code: str) -> list[tuple[Any, ...]]:
    with st.rt.sessions() as s:
        item_id = s.scalar(select(Item.id).where(Item.code == code))
        q = select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
        return [(e.id, e.action, e.actor, e.at, e.before, e.after, e.detail) for e in s.scalars(q)]


def test_a_report_of_an_archived_link_opens_a_new_linked_item_and_the_archive_never_changes(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = archived(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    first = liaowang(cfg, "archive", code, "--out", str(tmp_path / "before.zip"))
    assert first.returncode == 0, first.stderr
    st.say("chenqi", f"查询 {code}")
    shown, rows = st.last("chenqi"), _rows(st, code)
    office_before = len(st.inbox("chenqi"))

    st.say("sunshi", "上报 这条视频又被大量转发，评论激烈 https://www.weibo.com/7/7?utm_source=share")
    reply = st.last("sunshi")
    new = code_in(reply)
    assert new != code, reply
    assert f"关联 {code}" in reply, reply
    assert item_of(st, new).state == "reported"
    notices = [t for t in st.texts("chenqi", office_before) if new in t]
    assert notices, st.texts("chenqi", office_before)
    assert f"关联 {code}" in notices[0], "the office is told with both 编号"

    st.say("lisi", "上报 https://weibo.com/7/7")  # a further repeat joins the new, open item
    assert new in st.last("lisi"), st.last("lisi")
    assert "关联" not in st.last("lisi")

    st.say("chenqi", f"查询 {code}")
    assert st.last("chenqi") == shown, "the archived item's timeline is unchanged"
    assert _rows(st, code) == rows, "not one audit row was added to the archived item"
    second = liaowang(cfg, "archive", code, "--out", str(tmp_path / "after.zip"))
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "after.zip").read_bytes() == (tmp_path / "before.zip").read_bytes(), "the same package"


def _archived_with_a_fact(st: Stack) -> tuple[str, str]:
    """An item the office recorded a 漏报 against, taken through to 归档; return (编号, the fact's key)."""
    st.say("zhangsan", "上报 网传执法人员态度粗暴 https://weibo.com/8/8")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    st.say("chenqi", f"扣分 {code} 执法一队 漏报 主要 群众先于本单位发现")
    fact = re.findall(r"F\d+", st.last("chenqi"))[0]
    st.say("wangwu", f"申诉 {fact} 本单位先发现并已报告")
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    st.say("chenqi", f"办结 {code} 处置完毕")
    st.later(3601)
    st.say("chenqi", f"总结评估 {code} 处置及时，舆情平稳。")
    st.say("chenqi", f"归档 {code}")
    assert f"待审定的申诉 {fact}" in st.last("chenqi"), "a dispute decided after 归档 would change the record"
    assert item_of(st, code).state == "evaluated"
    st.say("chenqi", f"维持 {fact} 群众举报在先")
    st.say("chenqi", f"归档 {code}")
    assert item_of(st, code).state == "archived"
    return code, fact


def test_an_archived_item_refuses_every_change_in_a_clear_sentence(st: Stack) -> None:
    code, fact = _archived_with_a_fact(st)
    rows = _rows(st, code)
    for userid, text, words in [
        ("wangwu", f"申诉 {fact} 再次申诉", "已立卷归档"),
        ("wangwu", f"续报 {code} 又有新情况", "请重新上报"),
        ("wangwu", f"书面报告 {code} 补充材料", code),
        ("liujiu", f"批示 {code} 请继续关注", "已立卷归档"),
        ("chenqi", f"快报 {code}", "已立卷归档"),
    ]:
        st.say(userid, text)
        assert words in st.last(userid), (text, st.last(userid))
    assert _rows(st, code) == rows, "no refusal wrote to the archived item"
