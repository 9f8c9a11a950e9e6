"""Hostile or careless input through the WeCom protocol and the H5 pages never corrupts an export, a document, the
monthly bulletin or an archive: formula cells, pasted control characters, names that look like paths, absurd dates."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from cli.demo import DEMO_CONTACTS
from core import clock
from core.clock import local
from models import AuditEvent, Bulletin, Submission
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, code_in, dispatched
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_assessment import POLICY, _month_end
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY as RECORD_POLICY
from tests.integration.test_record import archived

PASTED = "经核查，网帖所述情况不实。\x0b已约谈当事人。\x0c处置完毕\x01\x1b[0m"
FORMULA = '=HYPERLINK(" "&A1,"详情")'


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with the H5 pages and a first-report clock that ends within the test."""
    return make_stack(pages=True, extra={"policy": POLICY})


def media(emulator: EmulatorServer, record: dict[str, Any]) -> bytes:
    """The bytes of a file or image message as WeCom stored them."""
    kind = record["msgtype"]
    return requests.get(f"{emulator.url}/sandbox/media/{record['body'][kind]['media_id']}", timeout=10).content


def _h5_report(st: Stack, code: str, text: str) -> None:
    """wangwu sends the written report of code as text on the H5 upload page; lisi approves it on the card."""
    wangwu = Browser(st)
    token = wangwu.csrf(wangwu.login("wangwu", f"/h5/upload/{code}"))
    assert wangwu.post(f"/h5/upload/{code}", {"csrf": token, "text": text}).status_code == 200
    st.drain()
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")


def _fact(st: Stack, code: str, reason: str) -> None:
    """The office records a 漏报 against 执法一队 on the item page with reason as typed."""
    office = Browser(st)
    token = office.csrf(office.login("chenqi", f"/h5/item/{code}"))
    form = {"csrf": token, "unit": "team1", "kind": "漏报", "role": "main", "reason": reason}
    assert office.http.post(f"{st.app_url}/h5/item/{code}/fact", data=form, timeout=30).status_code == 200
    st.drain()


def test_a_report_pasted_from_word_with_control_characters_still_makes_the_quick_report(
    st: Stack, emulator: EmulatorServer
) -> None:
    code = dispatched(st)
    _h5_report(st, code, PASTED)
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    assert "已同意" in st.reply("liujiu")
    assert "出错" not in " ".join(st.texts("liujiu"))
    word = [r for r in st.inbox("chenqi") if r["msgtype"] == "file"]
    assert len(word) == 1, "the office gets the Word file"
    text = "\n".join(p.text for p in Document(io.BytesIO(media(emulator, word[0]))).paragraphs)
    assert "已约谈当事人。" in text
    assert "\x0b" not in text
    with st.rt.sessions() as s:
        assert s.scalar(select(Submission.text)) == "经核查，网帖所述情况不实。\n已约谈当事人。\n处置完毕[0m", (
            "cleaned once"
        )


def test_formulas_and_control_characters_reach_no_export_and_the_month_is_sent_once(
    st: Stack, emulator: EmulatorServer, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    st.say("zhangsan", f"上报 {FORMULA}")
    code = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {code} 执法一队 一般")
    _fact(st, code, "@SUM(1+1)" + PASTED)
    office = Browser(st)
    assert office.login("chenqi", "/h5/stats").status_code == 200
    for fmt in ("bulletin.xlsx", "items.xlsx"):
        got = office.get(f"/h5/stats/export.{fmt}")
        assert got.status_code == 200, got.text
        for ws in load_workbook(io.BytesIO(got.content)).worksheets:
            cells = [c for row in ws.iter_rows() for c in row]
            assert not [c.value for c in cells if c.data_type == "f"], f"no formula in {fmt} {ws.title}"
    rows = list(csv.reader(io.StringIO(office.get("/h5/stats/export.items.csv").content.decode("utf-8-sig"))))
    titled = [r for r in rows if r[0] == code]
    assert titled[0][1].startswith("'="), titled[0]
    assert "attachment;" in office.get("/h5/stats/export.items.csv").headers["Content-Disposition"]

    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    month = f"{local(clock.now()).year:04d}-{local(clock.now()).month:02d}"
    out = liaowang(cfg, "bulletin", "--month", month, "--format", "xlsx", "--out", str(tmp_path / "b.xlsx"))
    assert out.returncode == 0, out.stderr
    reasons = [r[7] for r in load_workbook(tmp_path / "b.xlsx")["扣分明细"].iter_rows(min_row=3, values_only=True)]
    assert any(str(r).startswith("'@SUM") for r in reasons), reasons
    out = liaowang(
        cfg,
        "export",
        "items",
        "--from",
        f"{month}-01",
        "--to",
        local(clock.now()).date().isoformat(),
        "--out",
        str(tmp_path / "i.csv"),
    )
    assert out.returncode == 0, out.stderr
    assert f"'{FORMULA}".replace('"', '""') in (tmp_path / "i.csv").read_text(encoding="utf-8-sig")

    _month_end(st)
    files = [r for r in st.inbox("chenqi") if r["msgtype"] == "file"]
    assert len(files) == 2, "the month's bulletin is sent: the xlsx and the 通报 (.docx)"
    book = load_workbook(io.BytesIO(media(emulator, files[0])))
    assert not [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    st.later(60)
    assert len([r for r in st.inbox("chenqi") if r["msgtype"] == "file"]) == 2, "once"


def test_a_bulletin_that_cannot_be_built_is_reported_once_and_sent_from_the_command_line(
    st: Stack, emulator: EmulatorServer, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    code = dispatched(st)
    before = local(clock.now())
    month = f"{before.year:04d}-{before.month:02d}"
    with st.rt.sessions() as s, s.begin():  # a damaged record: the month's stored rules cannot be read
        s.add(Bulletin(month=month, rules={"sets": [{"since": "损坏"}]}, created_at=clock.now(), sends=0))
    _month_end(st)
    told = [t for t in st.texts("chenqi") if "考核通报没能自动生成" in t]
    assert len(told) == 1, "the office is told once"
    assert f"liaowang bulletin --month {month} --send" in told[0]
    for _ in range(3):
        st.later(5)
    st.say("wangwu", f"签收 {code}")
    assert "签收" in st.reply("wangwu"), "the rest proceeds"
    with st.rt.sessions() as s:
        failures = s.scalar(select(func.count()).where(AuditEvent.action == "bulletin_failed"))
    assert failures == 1, "recorded once, never retried in a loop"
    assert len([t for t in st.texts("chenqi") if "考核通报没能自动生成" in t]) == 1

    with st.rt.sessions() as s, s.begin():  # the administrator repairs the record …
        s.delete(s.get_one(Bulletin, month))
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "bulletin", "--month", month, "--send")  # … and sends the month from the command line
    assert out.returncode == 0, out.stderr
    assert "已发送" in out.stderr
    st.later(5)
    assert [r for r in st.inbox("chenqi") if r["msgtype"] == "file"], "the bulletin arrives"


def test_out_of_range_dates_are_refused_in_chinese_on_every_page_and_command(
    st: Stack, emulator: EmulatorServer, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    office = Browser(st)
    assert office.login("chenqi", "/h5/stats").status_code == 200
    for query in ("from=0001-01-01&to=9999-12-31", "from=2026-01-01&to=9999-12-31", "month=9999-12"):
        for path in ("/h5/stats", "/h5/stats/export.items.csv", "/h5/stats/chart.png"):
            got = office.get(f"{path}?{query}")
            assert got.status_code == 400, (path, query, got.status_code)
            assert "超出了可以查询的范围（2000-01-01 至 2099-12-31）" in got.text, got.text
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "export", "items", "--from", "0001-01-01", "--to", "9999-12-31", "--out", str(tmp_path / "x"))
    assert out.returncode == 2
    assert "超出了可以查询的范围" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "x").exists()
    out = liaowang(cfg, "bulletin", "--month", "9999-12")
    assert out.returncode == 2
    assert "超出了可以查询的范围" in out.stderr
    assert "Traceback" not in out.stderr
    out = liaowang(cfg, "calendar", "check", "--days", "99999999")
    assert out.returncode == 2
    assert "--days 应在 1 到 3650 之间" in out.stderr
    st.say("chenqi", "重要节点 千年 2026-12-01 9999-12-31")
    assert "超出了可以查询的范围" in st.reply("chenqi")


@pytest.fixture()
def synced(make_stack: Any, tmp_path: Path) -> Stack:
    """A stack with H5 pages whose organisation follows the WeCom contact book (the demo mapping)."""
    mapping = tmp_path / "contacts.toml"
    mapping.write_text(DEMO_CONTACTS.read_text(encoding="utf-8"), encoding="utf-8")
    stack: Stack = make_stack(pages=True, extra={"policy": RECORD_POLICY, "contacts": {"mapping": str(mapping)}})
    return stack


def naive_extract(archive: Path, into: Path) -> None:
    """Extract as a careless script does: join each entry's name to the folder and write it."""
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            target = os.path.join(into, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(zf.read(name))


def test_a_department_renamed_like_a_path_stays_inside_the_archive_folder(
    synced: Stack, emulator: EmulatorServer, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    code = archived(synced)
    synced.emu.contact("update_party", id=4, name="../../../../x/pwn")  # WeCom allows any department name
    synced.drain()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "archive", code, "--out", str(tmp_path / "a.zip"))
    assert out.returncode == 0, out.stderr
    sandbox = tmp_path / "s1" / "s2" / "s3" / "s4" / "out"
    sandbox.mkdir(parents=True)
    naive_extract(tmp_path / "a.zip", sandbox)
    outside = [p for p in (tmp_path / "s1").rglob("*") if p.is_file() and sandbox not in p.parents]
    assert not outside, outside
    names = zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert any(n.startswith("书面报告/") and "x_pwn" in n for n in names), names
    assert all(".." not in n and not n.startswith("/") for n in names), names
