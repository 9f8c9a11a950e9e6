"""H5 pages in WeCom's browser: OAuth2 login, the written-report upload (CSRF, size, type by content) and the viewer."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select

from models import Attachment, Item, Submission
from tests.integration.h5kit import Browser, authorize
from tests.integration.harness import Stack
from workflow.incident import files as wf

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
AUTH_FAILED = "身份验证失败，请从企业微信里重新打开"
NOT_INVOLVED = "您没有参与该舆情的处置，无权查看"


def png() -> bytes:
    """Return a real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def docx() -> bytes:
    """Return a tiny but real Word .docx (a zip with [Content_Types].xml, _rels/.rels and word/document.xml)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>核查情况</w:t></w:r></w:p></w:body></w:document>',
        )
    return buf.getvalue()


@pytest.fixture()
def stack(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A running Liaowang whose public_url is the served app and whose OAuth2 goes to the emulator."""
    return make_stack(pages=True)


def dispatched(stack: Stack, unit: str = "执法一队") -> str:
    """Report an item as zhangsan and have the office dispatch it to unit; return its 编号."""
    stack.say("zhangsan", "上报 微博有人发帖称执法人员态度粗暴")
    code = stack.last("zhangsan").split("编号 ")[1].split("。")[0]
    stack.say("chenqi", f"交办 {code} {unit} 较大")
    return code


def counts(stack: Stack) -> tuple[int, int, list[Path]]:
    """Return (submissions, file attachments, files on disk in storage)."""
    with stack.rt.sessions() as s:
        subs = s.scalar(select(func.count()).select_from(Submission)) or 0
        atts = s.scalar(select(func.count()).select_from(Attachment).where(Attachment.kind == "file")) or 0
    root = stack.rt.config.storage_dir
    return subs, atts, sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_types_are_judged_by_content_and_names_are_only_labels() -> None:
    gif, jpeg, webp = b"GIF89a" + b"\0" * 20, b"\xff\xd8\xff\xe0" + b"\0" * 20, b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 20
    ole2 = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 500
    assert [wf.sniff_document(d) for d in (PDF, docx(), ole2, png(), gif, jpeg, webp)] == [
        wf.PDF,
        wf.DOCX,
        wf.DOC,
        "image/png",
        "image/gif",
        "image/jpeg",
        "image/webp",
    ]
    assert wf.sniff_document(b"\x7fELF") is None
    assert wf.sniff_document(b"MZ\x90\0") is None
    assert wf.sniff_document(b"<svg onload=alert(1)>") is None
    assert wf.sniff_document(b"") is None
    assert wf.safe_name("C:\\Users\\a\\报告\x00\u202e.docx") == "报告.docx"
    assert wf.safe_name("../..") == wf.safe_name("") == wf.FALLBACK_NAME
    long = wf.safe_name("长" * 300 + ".pdf")
    assert len(long) == wf.MAX_NAME_CHARS
    assert long.endswith(".pdf")


def test_a_page_without_login_redirects_to_wecom_oauth(stack: Stack) -> None:
    code = dispatched(stack)
    resp = Browser(stack).get(f"/h5/upload/{code}")
    assert resp.status_code == 302
    loc = resp.headers["Location"]
    assert loc.startswith(stack.emu.base_url + "/connect/oauth2/authorize?")
    assert loc.endswith("#wechat_redirect")
    query = parse_qs(urlsplit(loc.split("#")[0]).query)
    assert query["redirect_uri"] == [f"{stack.app_url}/h5/upload/{code}"]
    assert query["scope"] == ["snsapi_base"]
    assert query["agentid"] == [str(stack.rt.config.wecom.agent_id)]
    assert "Set-Cookie" not in resp.headers


def test_oauth_round_trip_logs_in_the_right_person(stack: Stack) -> None:
    code = dispatched(stack)
    browser = Browser(stack)
    first = browser.get(f"/h5/upload/{code}")
    back_url = authorize(first.headers["Location"], "wangwu")
    assert back_url.startswith(f"{stack.app_url}/h5/upload/{code}?code=")
    back = browser.get(back_url)
    assert back.status_code == 302, "the code is dropped"
    assert back.headers["Location"] == f"/h5/upload/{code}", "the code is dropped"
    cookie = back.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/h5" in cookie
    page = browser.get(f"/h5/upload/{code}")
    assert page.status_code == 200
    assert "王五" in page.text
    assert code in page.text
    assert "执法一队" in page.text
    assert 'type="file"' in page.text
    assert "较大" in page.text
    assert "已交办，待签收" in page.text
    assert "script-src 'nonce-" in page.headers["Content-Security-Policy"]
    assert browser.get(f"/h5/item/{code}").status_code == 200, "the login holds for the other pages"


def test_invalid_reused_and_foreign_codes_are_refused(stack: Stack) -> None:
    code = dispatched(stack)
    path = f"/h5/upload/{code}"
    browser = Browser(stack)
    for bad in (f"{path}?code=forged&state=lw", f"{path}?state=lw", f"{path}?code=&state=lw"):
        resp = browser.get(bad)
        assert resp.status_code == 403
        assert AUTH_FAILED in resp.text
        assert not browser.http.cookies, "nothing stored"
    location = browser.get(path).headers["Location"]
    back_url = authorize(location, "wangwu")
    assert browser.get(back_url).status_code == 302
    assert browser.get(path).status_code == 200
    other = Browser(stack)
    reused = other.get(back_url)
    assert reused.status_code == 403
    assert AUTH_FAILED in reused.text
    assert other.get(path).status_code == 302, "the reused code logged nobody in"
    for userid in ("mallory", "outsider"):  # not in WeCom at all / in WeCom but not in Liaowang's organisation
        stranger = Browser(stack)
        resp = stranger.get(authorize(location, userid))
        assert resp.status_code == 403
        assert AUTH_FAILED in resp.text
        assert stranger.get(path).status_code == 302
    assert browser.get(f"{path}?code=forged&state=lw").status_code == 403
    assert browser.get(path).status_code == 302, "a failed login ends the earlier one"


def test_another_units_lead_is_refused_on_get_and_post(stack: Stack) -> None:
    code = dispatched(stack)
    own = dispatched(stack, "城东区局")
    sunshi = Browser(stack)
    token = sunshi.csrf(sunshi.login("sunshi", f"/h5/upload/{own}"))
    page = sunshi.get(f"/h5/upload/{code}")
    assert page.status_code == 403
    assert "不是它的承办单位" in page.text
    assert 'type="file"' not in page.text
    resp = sunshi.post(f"/h5/upload/{code}", {"csrf": token, "text": "越权报送"}, [("a.pdf", PDF)])
    assert resp.status_code == 403
    assert "不是它的承办单位" in resp.text
    assert counts(stack) == (0, 0, [])
    viewer = sunshi.get(f"/h5/item/{code}")
    assert viewer.status_code == 403
    assert NOT_INVOLVED in viewer.text
    assert sunshi.get("/h5/upload/YQ-20000101-999").status_code == 404


def test_missing_or_wrong_csrf_token_is_400(stack: Stack) -> None:
    code = dispatched(stack)
    browser = Browser(stack)
    token = browser.csrf(browser.login("wangwu", f"/h5/upload/{code}"))
    for data in ({"text": "无校验码"}, {"csrf": token[::-1], "text": "错校验码"}, {"csrf": "", "text": "空"}):
        resp = browser.post(f"/h5/upload/{code}", data, [("a.pdf", PDF)])
        assert resp.status_code == 400
        assert "没有保存任何内容" in resp.text
    assert counts(stack) == (0, 0, [])
    nobody = Browser(stack).post(f"/h5/upload/{code}", {"csrf": token, "text": "没登录"}, [("a.pdf", PDF)])
    assert nobody.status_code == 403
    assert "从企业微信里重新打开" in nobody.text
    assert counts(stack) == (0, 0, [])


def test_too_large_empty_and_disguised_files_are_refused_and_nothing_is_stored(stack: Stack) -> None:
    code = dispatched(stack)
    browser = Browser(stack)
    token = browser.csrf(browser.login("wangwu", f"/h5/upload/{code}"))
    cases: list[tuple[list[tuple[str, bytes]], int, str]] = [
        ([("ok.pdf", PDF), ("现场录像.pdf", b"%PDF-1.7\n" + b"0" * (25 * MB))], 413, "文件“现场录像.pdf”超过 20 MB"),
        ([("报告.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200)], 415, "文件“报告.pdf”不是Word"),
        ([("ok.pdf", PDF), ("说明.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)], 415, "文件“说明.pdf”不是Word"),
        ([("fake.docx", b"PK\x03\x04" + b"\x00" * 100)], 415, "改扩展名无效"),
        ([("空白.docx", b"")], 400, "文件“空白.docx”是空文件"),
    ]
    for files, status, words in cases:
        resp = browser.post(f"/h5/upload/{code}", {"csrf": token, "text": "报告"}, files)
        assert resp.status_code == status, (status, resp.text[-400:])
        assert words in resp.text, (status, resp.text[-400:])
        assert counts(stack) == (0, 0, []), words
    with stack.rt.sessions() as s:
        assert s.scalar(select(Item.state)) == "dispatched", "a refused upload did not even imply 签收"


def test_a_path_in_the_file_name_is_only_a_label(stack: Stack, tmp_path: Path) -> None:
    code = dispatched(stack)
    browser = Browser(stack)
    token = browser.csrf(browser.login("wangwu", f"/h5/upload/{code}"))
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    body = PDF + b"% passwd\n"
    resp = browser.post(f"/h5/upload/{code}", {"csrf": token, "text": ""}, [("../../etc/passwd", body)])
    assert resp.status_code == 200
    assert "已提交第 1 版书面报告" in resp.text
    storage = stack.rt.config.storage_dir.resolve()
    new = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert new
    assert all(p.resolve().is_relative_to(storage) for p in new if not p.name.startswith("liaowang.db"))
    assert not (tmp_path / "etc").exists()
    assert not any(p.name == "passwd" for p in tmp_path.rglob("*"))
    with stack.rt.sessions() as s:
        att = s.scalar(select(Attachment).where(Attachment.kind == "file"))
        assert att is not None
        assert att.original_name == "passwd"
        assert att.content_type == "application/pdf"
        assert (storage / str(att.stored_name)).read_bytes() == body
        assert att.sha256 in str(att.stored_name)
        att_id = att.id
    viewer = browser.get(f"/h5/item/{code}")
    assert ">passwd</a>" in viewer.text
    assert "../" not in viewer.text
    served = browser.get(f"/h5/file/{att_id}")
    assert served.content == body
    assert served.headers["Content-Disposition"] == "inline; filename=\"passwd.pdf\"; filename*=UTF-8''passwd.pdf"


def test_upload_versions_approval_and_the_viewer(stack: Stack) -> None:
    code = dispatched(stack)
    wangwu = Browser(stack)
    token = wangwu.csrf(wangwu.login("wangwu", f"/h5/upload/{code}"))
    word_body = docx()
    files = [("核查报告.pdf", PDF), ("处置情况.docx", word_body), ("现场.png", png())]
    done = wangwu.post(f"/h5/upload/{code}", {"csrf": token, "text": "经核查，网帖所述情况不实。"}, files)
    assert done.status_code == 200
    assert "已提交第 1 版书面报告，已送分管领导审核" in done.text
    stack.drain()
    with stack.rt.sessions() as s:
        sub = s.scalar(select(Submission))
        assert sub is not None
        assert (sub.version, sub.via, sub.state) == (1, "h5", "pending")
        types = {a.original_name: a.content_type for a in sub.attachments}
        assert s.scalar(select(Item.state)) == "written_reported"
    assert types == {
        "核查报告.pdf": "application/pdf",
        "现场.png": "image/png",
        "处置情况.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    assert len(counts(stack)[2]) == 3
    card = stack.inbox("lisi")[-1]
    assert card["msgtype"] == "template_card"
    assert "批准" in stack.last("lisi")
    fields = {f["keyname"]: f["value"] for f in card["body"]["template_card"]["horizontal_content_list"]}
    assert fields["版本"] == "第 1 版 · 附件 3 个"
    link = next(b["url"] for b in card["body"]["template_card"]["button_list"] if b.get("url"))

    again = wangwu.get(f"/h5/upload/{code}")
    assert "第 1 版" in again.text
    assert "提交第 2 版" in again.text
    second = wangwu.post(f"/h5/upload/{code}", {"csrf": token, "text": "补充：已联系发帖人。"}, [("补充.pdf", PDF)])
    assert second.status_code == 200
    assert "已提交第 2 版书面报告" in second.text
    stack.drain()

    lisi = Browser(stack)
    assert lisi.get(authorize(link, "lisi")).status_code == 302, "the card's 查看报告 button logs lisi in"
    page = lisi.get(f"/h5/item/{code}")
    assert page.status_code == 200
    expected = (
        "第 1 版",
        "第 2 版",
        "已被新版本取代",
        "待审核",
        "经核查，网帖所述情况不实。",
        "补充：已联系发帖人。",
        "核查报告.pdf",
        "处置情况.docx",
        "王五",
        "执法一队",
        "较大",
        "书面报告待审核",
    )
    for words in expected:
        assert words in page.text, words
    with stack.rt.sessions() as s:
        ids = {a.original_name: a.id for a in s.scalars(select(Attachment).where(Attachment.kind == "file"))}
    assert f'<img class="shot" src="/h5/file/{ids["现场.png"]}"' in page.text
    pdf, word, image = (lisi.get(f"/h5/file/{ids[n]}") for n in ("核查报告.pdf", "处置情况.docx", "现场.png"))
    assert pdf.status_code == 200
    assert pdf.content == PDF
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert f"filename*=UTF-8''{quote('核查报告.pdf')}" in pdf.headers["Content-Disposition"]
    assert word.headers["Content-Disposition"].startswith("attachment;")
    assert word.content == word_body
    assert image.headers["Content-Type"] == "image/png"
    assert image.content == png()

    chenqi = Browser(stack)
    assert chenqi.login("chenqi", f"/h5/item/{code}").status_code == 200
    assert chenqi.get(f"/h5/file/{ids['核查报告.pdf']}").content == PDF
    sunshi = Browser(stack)
    assert sunshi.login("sunshi", f"/h5/item/{code}").status_code == 403
    refused = sunshi.get(f"/h5/file/{ids['核查报告.pdf']}")
    assert refused.status_code == 403
    assert NOT_INVOLVED in refused.text
    assert refused.content != PDF
    anonymous = Browser(stack).get(f"/h5/file/{ids['核查报告.pdf']}")
    assert anonymous.status_code == 403
    assert anonymous.content != PDF
    assert lisi.get("/h5/file/999999").status_code == 404


def test_viewer_shows_screenshots_and_says_when_one_is_still_downloading(stack: Stack) -> None:
    stack.emu.click("zhangsan", "REPORT")
    stack.drain()
    stack.say("zhangsan", "抖音有视频称执法人员态度粗暴")
    stack.say("zhangsan", "5")
    stack.say("zhangsan", "3")
    stack.emu.fault("media/get", errcode=-1, times=100)
    stack.emu.image("zhangsan")
    stack.emu.link("zhangsan", "https://www.douyin.com/video/1234", title="执法视频")
    stack.drain()
    stack.say("zhangsan", "提交")
    with stack.rt.sessions() as s:
        item = s.scalar(select(Item))
        att = s.scalar(select(Attachment).where(Attachment.kind == "image"))
        assert item is not None
        assert att is not None
        assert att.stored_name is None
        code, att_id = item.code, att.id
    zhangsan = Browser(stack)
    page = zhangsan.login("zhangsan", f"/h5/item/{code}")
    assert page.status_code == 200
    assert "上报截图" in page.text
    assert "文件正在从企业微信下载，请稍后刷新" in page.text
    assert 'href="https://www.douyin.com/video/1234"' in page.text
    pending = zhangsan.get(f"/h5/file/{att_id}")
    assert pending.status_code == 404
    assert "文件正在从企业微信下载，请稍后刷新" in pending.text
    stack.emu.clear_faults()
    stack.later(10)  # the sweep fetches screenshots whose download failed
    page = zhangsan.get(f"/h5/item/{code}")
    assert f'<img class="shot" src="/h5/file/{att_id}"' in page.text
    shot = zhangsan.get(f"/h5/file/{att_id}")
    assert shot.status_code == 200
    assert shot.headers["Content-Type"] == "image/png"
    assert shot.content.startswith(b"\x89PNG")
