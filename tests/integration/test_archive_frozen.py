"""An archived item's record never changes again (issue 20 item 2), through the WeCom protocol: every step on it is
refused in one plain sentence, none of its clocks fires, exporting its package writes nothing to it, a 书面报告 is
refused before anything is typed, and the package shows Beijing time and people's names."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, Item
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, dispatched, item_of
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY

LINE = "统一口径"
FROZEN = "已立卷归档，不能再"
ONLY_VIEW = "案卷只能查看和下载"


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (as tests/integration/test_record.py)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _rows(st: Stack, code: str) -> list[tuple[Any, ...]]:
    with st.rt.sessions() as s:
        item_id = s.scalar(select(Item.id).where(Item.code == code))
        q = select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
        return [(e.id, e.action, e.actor, e.at, e.before, e.after, e.detail) for e in s.scalars(q)]


def _approved_line(st: Stack, code: str, text: str) -> None:
    """The office drafts a public line and the lead unit's supervisor agrees: it is frozen (approved)."""
    st.say("chenqi", f"口径 {code} {text}")
    click(st, "lisi", cards(st, "lisi", LINE)[-1], "同意")
    assert any("【口径定稿】" in t for t in st.texts("chenqi")), st.texts("chenqi")[-3:]


def _archived_after_publishing(st: Stack) -> str:
    """An item whose approved line was published during the follow-up watch (so a 滚动发布 clock is still owed),
    then evaluated and archived; return its 编号."""
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    _approved_line(st, code, "我局已关注到网民反映的情况，正在依法依规调查处理。")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    st.say("chenqi", f"办结 {code} 处置完毕")
    st.say("chenqi", f"发布 {code} 官方微博 https://weibo.com/gov/1")
    assert "已登记" in st.last("chenqi"), st.last("chenqi")
    st.say("chenqi", f"查询 {code}")
    assert "滚动发布" in st.last("chenqi"), "publishing during the watch owes a rolling update"
    st.later(3601)
    st.say("chenqi", f"总结评估 {code} 处置及时，舆情平稳。")
    st.say("chenqi", f"归档 {code}")
    assert item_of(st, code).state == "archived", st.last("chenqi")
    return code


def _export(cfg: Path, code: str, out: Path) -> bytes:
    done = liaowang(cfg, "archive", code, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_archiving_closes_every_clock_in_its_own_step_and_none_fires_afterwards(st: Stack) -> None:
    code = _archived_after_publishing(st)
    st.say("chenqi", f"查询 {code}")
    shown = st.last("chenqi")
    assert "进行中" not in shown, shown
    archive_line = next(line for line in shown.splitlines() if "立卷归档" in line and "滚动发布" in line)
    assert "结束未完成的时限" in archive_line, shown
    rows = _rows(st, code)
    assert rows[-1][1] == "archive", "no clock step is recorded after the 归档"
    since = st.emu.cursor()
    for _ in range(6):
        st.later(24 * 3600)
    for userid in ("chenqi", "liujiu", "lisi", "wangwu"):
        fired = [t for t in st.texts(userid, since) if code in t]
        assert fired == [], (userid, fired)
    st.say("chenqi", f"查询 {code}")
    assert st.last("chenqi") == shown, "the archived item's timeline is unchanged"
    assert _rows(st, code) == rows


def test_publishing_and_every_duty_step_is_refused_after_archiving(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = _archived_after_publishing(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    before = _export(cfg, code, tmp_path / "before.zip")
    st.say("chenqi", f"查询 {code}")
    shown, rows = st.last("chenqi"), _rows(st, code)
    for userid, text, label in [
        ("chenqi", f"发布 {code} 官方微博", "登记口径发布"),
        ("chenqi", f"发布 {code} 官方微博 https://weibo.com/gov/2", "登记口径发布"),
        ("chenqi", f"口径 {code} 新的口径", "拟定对外口径"),
        ("chenqi", f"报送 {code} 县委宣传部", "报送舆情快报或专报"),
        ("chenqi", f"快报 {code}", "报送舆情快报或专报"),
        ("chenqi", f"跟帖 {code} 张三 说明情况", "组织跟帖"),
        ("chenqi", f"扣分 {code} 执法一队 漏报 主要 群众先于本单位发现", "记录考核扣分"),
        ("liujiu", f"批示 {code} 请继续关注", "批示"),
    ]:
        st.say(userid, text)
        reply = st.last(userid)
        assert f"{code} {FROZEN}{label}；{ONLY_VIEW}" in reply, (text, reply)
    st.later(2 * 24 * 3600)
    st.say("chenqi", f"查询 {code}")
    assert st.last("chenqi") == shown, "the archived item's timeline is unchanged"
    assert _rows(st, code) == rows, "no refusal wrote to the archived item"
    assert _export(cfg, code, tmp_path / "after.zip") == before, "the same package"


def test_a_statement_card_left_open_is_refused_after_archiving(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    st.say("chenqi", f"办结 {code} 处置完毕")
    st.say("chenqi", f"口径 {code} 一份没来得及审核的口径")
    pending = cards(st, "lisi", LINE)[-1]
    st.later(3601)
    st.say("chenqi", f"总结评估 {code} 处置及时，舆情平稳。")
    st.say("chenqi", f"归档 {code}")
    assert item_of(st, code).state == "archived"
    rows = _rows(st, code)
    click(st, "lisi", pending, "同意")
    assert f"{code} {FROZEN}审批或确认对外口径；{ONLY_VIEW}" in st.last("lisi"), st.last("lisi")
    assert _rows(st, code) == rows


def test_exporting_an_archived_package_writes_nothing_to_its_record(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = _archived_after_publishing(st)
    st.drain()
    st.say("chenqi", f"查询 {code}")
    shown, rows = st.last("chenqi"), _rows(st, code)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    first = _export(cfg, code, tmp_path / "a.zip")
    second = _export(cfg, code, tmp_path / "b.zip")
    assert first == second
    st.say("chenqi", f"查询 {code}")
    assert st.last("chenqi") == shown, "no 生成案卷 line in the archived timeline"
    assert "cli" not in st.last("chenqi")
    assert _rows(st, code) == rows
    with st.rt.sessions() as s:
        q = select(AuditEvent).where(AuditEvent.action == "archive_packaged", AuditEvent.item_id.is_(None))
        logged = [(e.actor, e.detail["code"]) for e in s.scalars(q)]
    assert ("命令行", code) in logged, "the export is audited outside the record, by a readable name"


def test_a_written_report_is_refused_before_anything_is_typed(st: Stack) -> None:
    code = _archived_after_publishing(st)
    rows = _rows(st, code)
    st.say("wangwu", f"书面报告 {code}")
    reply = st.last("wangwu")
    assert "开始填写" not in reply, reply
    assert f"{code} {FROZEN}报送书面报告；{ONLY_VIEW}" in reply, reply
    st.say("wangwu", "经核实，当事人已受到处理。")
    assert "已记下" not in st.last("wangwu"), "no draft was opened to take paragraphs"
    assert _rows(st, code) == rows

    approved = dispatched(st)
    st.say("wangwu", f"书面报告 {approved} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    assert item_of(st, approved).state == "approved"
    st.say("wangwu", f"书面报告 {approved}")
    reply = st.last("wangwu")
    assert "开始填写" not in reply, reply
    assert "书面报告已审核通过" in reply, reply
    assert f"续报 {approved}" in reply, reply


def test_the_package_shows_beijing_time_and_names(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = _archived_after_publishing(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    _export(cfg, code, tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        records = json.loads(zf.read("记录/审批_口径_报送_扣分.json"))
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["archived_at"].endswith("+08:00"), manifest["archived_at"]
    report = records["written_reports"][0]
    assert report["created_at"].endswith("+08:00"), report
    assert report["decided_by"] == "李四（lisi）", report
    assert report["author"] == "王五（wangwu）", report
    line = records["statements"][0]
    assert line["approved_by"] == "李四（lisi）", line
    assert line["published_by"] == "陈七（chenqi）", line
    assert line["published_at"].endswith("+08:00"), line
    assert line["approved_at"].endswith("+08:00"), line
    text = json.dumps(records, ensure_ascii=False)
    assert "+00:00" not in text, text
