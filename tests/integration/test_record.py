"""The record through the WeCom protocol: the archive package (案卷), read back file by file."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import requests
from PIL import Image
from pypdf import PdfReader

from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, dispatched, item_of
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config

POLICY = {"follow_up_period": "1h", "follow_up_every": "1h"}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 40), "blue").save(out, format="PNG")
    return out.getvalue()


def archived(st: Stack, report: str = "网传某商户被执法人员推搡 https://weibo.com/7/7") -> str:
    """Take an item reported with this text, a screenshot and a written report through to 归档; return its 编号."""
    st.say("zhangsan", "上报")
    st.say("zhangsan", report)
    st.emu.image("zhangsan", _png())
    st.drain()
    st.say("zhangsan", "跳过")
    st.say("zhangsan", "跳过")
    st.say("zhangsan", "提交")
    code = re.search(r"YQ-\d{8}-\d{3}", st.last("zhangsan")).group(0)  # type: ignore[union-attr]
    st.say("chenqi", f"交办 {code} 执法一队 较大")
    st.say("wangwu", f"书面报告 {code} 经核实，已约谈当事执法人员。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 经核查，已依法处理。")
    st.say("chenqi", f"办结 {code} 处置完毕")
    st.later(3601)
    st.say("chenqi", f"总结评估 {code} 处置及时，舆情平稳。")
    st.say("chenqi", f"归档 {code}")
    assert item_of(st, code).state == "archived"
    return code


def test_archiving_writes_a_package_whose_manifest_and_timeline_read_back(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = archived(st)
    assert any("【案卷】" in t and "已立卷归档" in t for t in st.texts("chenqi")), "the office is told"
    from tests.integration.h5kit import Browser

    office = Browser(st)
    page = office.login("chenqi", f"/h5/item/{code}")
    assert "下载案卷" in page.text
    got = office.get(f"/h5/item/{code}/archive.zip")
    assert got.status_code == 200
    package = zipfile.ZipFile(io.BytesIO(got.content))
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["item"] == code
    assert not manifest["missing"]
    for entry in manifest["files"]:
        if "sha256" in entry:
            assert hashlib.sha256(package.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
    origins = {e["origin"] for e in manifest["files"]}
    assert {"封面与处置经过", "上报材料", "书面报告正文", "审批、口径、上报与扣分记录"} <= origins
    shots = [e for e in manifest["files"] if e["path"].startswith("附件/") and "sha256" in e]
    assert shots, "the screenshot as it was received"
    assert package.read(shots[0]["path"]) == _png()
    pdf = package.read("案卷封面与经过.pdf")
    text = (
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\x00", "")
    )
    for words in (code, "舆情处置案卷", "定级交办", "批准书面报告", "回复来源", "立卷归档", "执法一队"):
        assert words in text, words
    image = pdfium.PdfDocument(pdf)[0].render(scale=1).to_pil().convert("L")
    assert image.getextrema()[0] < 100, "the cover page has ink (the CJK font is embedded, not tofu boxes)"

    st.say("chenqi", f"查询 {code}")
    digest = hashlib.sha256(package.read("manifest.json")).hexdigest()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "archive", code, "--out", str(tmp_path / "a.zip"))
    assert out.returncode == 0, out.stderr
    assert "sha256" in out.stdout
    with st.rt.sessions() as s:
        from sqlalchemy import select

        from models import AuditEvent

        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "archive_packaged"))
        recorded = [e.detail["manifest_sha256"] for e in events]
    assert digest in recorded, "the manifest's hash is in the audit trail"
    assert len(recorded) == 2, "the command line's package is recorded too"


def test_an_archived_item_is_read_only_and_an_open_one_has_no_package(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    open_code = dispatched(st)
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "archive", open_code, "--out", str(tmp_path / "x.zip"))
    assert out.returncode == 2
    assert "还没有立卷归档" in out.stderr
    assert not (tmp_path / "x.zip").exists()
    code = archived(st)
    for userid, text, words in [
        ("chenqi", f"扣分 {code} 执法一队 漏报 主要 理由", "只能查看和下载"),
        ("wangwu", f"续报 {code} 新情况", "请重新上报"),
        ("chenqi", f"跟帖 {code} 张三 说明情况", "不能再组织跟帖"),
        ("chenqi", f"口径 {code} 新口径", "不能再拟定"),
    ]:
        st.say(userid, text)
        assert words in st.last(userid), text


def test_the_summary_evaluation_is_a_form_in_the_chat(st: Stack) -> None:
    code = dispatched(st)
    st.say("wangwu", f"书面报告 {code} 经核实，已处理。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {code} 已处理。")
    st.say("chenqi", f"办结 {code}")
    st.say("chenqi", f"总结评估 {code}")
    assert "观察期满后" in st.last("chenqi"), "not during the watch"
    st.later(3601)
    st.say("chenqi", f"总结评估 {code}")
    assert "1/4 经验" in st.reply("chenqi")
    st.say("chenqi", "第一时间核实，主动回应")
    assert "2/4 问题" in st.reply("chenqi")
    st.say("chenqi", f"查询 {code}")
    assert "还没有完成" in st.reply("chenqi"), "a command mid-form runs; the form stays open"
    st.say("chenqi", "书面报告晚了十分钟")
    st.say("chenqi", "书面报告模板提前备好")
    assert "4/4 态势" in st.reply("chenqi")
    st.say("chenqi", "3")
    assert "请回复 1" in st.reply("chenqi")
    st.say("chenqi", "1")
    assert "已记录" in st.reply("chenqi")
    assert item_of(st, code).state == "evaluated"
    st.say("chenqi", f"查询 {code}")
    assert "经验：第一时间核实" in st.last("chenqi")
    assert "问题：书面报告晚了十分钟" in st.last("chenqi")
    assert "改进措施：书面报告模板" in st.last("chenqi")


def test_upward_reports_are_approved_sent_as_word_files_and_recorded(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    from docx import Document

    code = dispatched(st)
    st.say("zhangsan", f"快报 {code}")
    assert "只有领导小组办公室" in st.last("zhangsan"), "快报 by a non-office person"
    st.say("chenqi", f"快报 {code}")
    assert "送领导审批" in st.last("chenqi")
    card = cards(st, "liujiu", "上报审批")[-1]
    click(st, "liujiu", card, "同意")
    assert "已同意" in st.reply("liujiu")
    files = [r for r in st.inbox("chenqi") if r["msgtype"] == "file"]
    assert len(files) == 1
    data = requests.get(f"{emulator.url}/sandbox/media/{files[0]['body']['file']['media_id']}", timeout=10).content
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    for words in (
        "舆情快报",
        "舆情工作领导小组办公室",
        "（二）主要内容",
        "（三）网上态势",
        "（一）核查情况",
        "（二）处置情况",
        "三、下一步工作",
        code,
    ):
        assert words in text, words
    st.say("chenqi", f"报送 {code} 县委宣传部、县网信办")
    assert "已登记" in st.last("chenqi")
    st.say("wangwu", f"批示 {code} 请尽快处理")
    assert "只有领导小组可以批示" in st.last("wangwu"), "a 批示 by someone who is not a leader"
    st.say("liujiu", f"批示 {code} 请尽快核实，依法处理，及时回应。")
    assert any("【领导批示】" in t and "依法处理" in t for t in st.texts("wangwu")), "passed on to the unit"
    st.say("chenqi", f"查询 {code}")
    assert "报送上级" in st.last("chenqi")
    assert "领导批示" in st.last("chenqi")
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "brief", code, "--kind", "专报", "--out", str(tmp_path / "b.docx"))
    assert out.returncode == 0, out.stderr
    assert "舆情专报" in "\n".join(p.text for p in Document(str(tmp_path / "b.docx")).paragraphs)


def test_a_file_missing_from_storage_is_listed_in_the_manifest_and_the_office_is_told(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    from sqlalchemy import select

    from models import Attachment

    code = archived(st)
    with st.rt.sessions() as s:
        stored = s.scalars(select(Attachment.stored_name).where(Attachment.stored_name.is_not(None))).all()
    assert stored
    for name in stored:
        (st.rt.config.storage_dir / str(name)).unlink()
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "archive", code, "--out", str(tmp_path / "m.zip"))
    assert out.returncode == 0, out.stderr
    assert "缺" in out.stdout
    manifest = json.loads(zipfile.ZipFile(tmp_path / "m.zip").read("manifest.json"))
    assert manifest["missing"], "the package is still made and says what is missing"
    assert all(e.get("missing") for e in manifest["files"] if e["path"] in manifest["missing"])
    st.later(1)  # the sweep sends what the command line wrote to the outbox
    assert any("找不到" in t for t in st.texts("chenqi")), "the office is told"


def test_a_package_job_lost_with_redis_is_queued_again_by_the_sweep(st: Stack) -> None:
    from jobs.inbox import pending_users, process_user

    other = dispatched(st)
    st.say("wangwu", f"书面报告 {other} 经核实，已处理。")
    click(st, "lisi", cards(st, "lisi", "书面报告审核")[-1], "批准")
    click(st, "zhouba", cards(st, "zhouba", "会商")[-1], "无不同意见")
    st.say("chenqi", f"回复来源 {other} 已处理。")
    st.say("chenqi", f"办结 {other}")
    st.later(3601)
    st.say("chenqi", f"总结评估 {other} 处置及时。")
    st.emu.say("chenqi", f"归档 {other}")
    for userid in pending_users(st.rt):
        process_user(userid, st.rt)  # 归档 is handled and its package job queued ...
    st.rt.redis.flushall()  # ... and Redis loses it before any worker takes it
    assert not any(f"{other}《" in t and "【案卷】" in t for t in st.texts("chenqi"))
    st.later(1)
    assert any(other in t and "已立卷归档" in t for t in st.texts("chenqi")), "the sweep wrote the package"
