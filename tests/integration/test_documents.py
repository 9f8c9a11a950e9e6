"""Documents the office can send as they are: 快报, 专报 and the 月考核通报 read back as Word files (python-docx),
checked against GB/T 9704-2012; the approval card shows what is approved; the templates are the bureau's."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlalchemy import select

from core import clock
from core.clock import local
from core.config import ConfigError, config_from_dict
from sandbox.server import EmulatorServer
from tests.integration.flowkit import cards, click, code_in, dispatched
from tests.integration.h5kit import Browser
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from workflow.record import documents

EMU_PER_MM = 36000
DAY = re.compile(r"(\d{4})年([1-9]\d?)月([1-9]\d?)日")
FONT_OF_STYLE = {"公文标题": "方正小标宋简体", "一级标题": "黑体", "二级标题": "楷体_GB2312", "正文": "仿宋_GB2312"}
POLICY = {
    "start": "dispatched",
    "clocks": {
        "first_report": {g: {"due": "60s"} for g in ("major", "significant", "general")},
        "written_report": {g: {"due": "90d"} for g in ("major", "significant", "general")},
        "handling_report": {"all": {"due": "90d"}},
    },
}


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages, a one-minute first-report clock and a 版记 that names who receives the 快报."""
    return make_stack(pages=True, extra={"policy": POLICY, "documents": {"send_to": "县委宣传部", "copy_to": ""}})


def media(emulator: EmulatorServer, record: dict[str, Any]) -> bytes:
    """The bytes of a file message as the recipient downloads them."""
    kind = record["msgtype"]
    return requests.get(f"{emulator.url}/sandbox/media/{record['body'][kind]['media_id']}", timeout=10).content


def text_of(doc: Any) -> str:
    """Every paragraph of the body, one per line."""
    return "\n".join(p.text for p in doc.paragraphs)


def east_asian(run: Any) -> str | None:
    """The East Asian font named on a run (w:rFonts w:eastAsia)."""
    rpr = run._element.rPr
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def assert_gbt9704(data: bytes, kind: str) -> Any:
    """The layout facts of GB/T 9704-2012 a reader checks; return the document."""
    doc = Document(io.BytesIO(data))
    sec = doc.sections[0]
    size = sec._sectPr.pgSz
    assert (size.get(qn("w:w")), size.get(qn("w:h"))) == ("11906", "16838"), "A4, not US Letter"
    margins = [round(m / EMU_PER_MM) for m in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)]
    assert margins == [37, 35, 28, 26], "版心 156 × 225 mm"
    assert round((sec.page_width - sec.left_margin - sec.right_margin) / EMU_PER_MM) == 156
    assert round((sec.page_height - sec.top_margin - sec.bottom_margin) / EMU_PER_MM) == 225
    body = text_of(doc)
    assert body.startswith("内部资料 注意保存"), body[:40]
    heads = [p for p in doc.paragraphs if any(r.font.color.rgb is not None and str(r.font.color.rgb) == "FF0000"
                                              for r in p.runs if r.font.color.type is not None)]  # fmt: skip
    assert heads, "a red 版头"
    assert heads[0].text == (f"舆情{kind}" if kind != "通报" else "舆情工作领导小组办公室")
    ruled = [p for p in doc.paragraphs if p._element.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None]
    assert ruled[0]._element.find(f".//{qn('w:bottom')}").get(qn("w:color")) == "FF0000", "the red rule"
    for p in doc.paragraphs:
        style = p.style.name if p.style is not None else ""
        for r in p.runs:
            if r.text.strip() and not r.text.startswith("{"):
                assert east_asian(r), f"no East Asian font named on {r.text!r}"
                if style in FONT_OF_STYLE and r.font.color.type is None and not p.text.startswith("内部资料"):
                    assert east_asian(r) == FONT_OF_STYLE[style], (style, r.text, east_asian(r))
    title = next(p for p in doc.paragraphs if p.style is not None and p.style.name == "公文标题")
    assert title.runs[0].font.size.pt == 22, "标题 2号"
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 16, "正文 3号"
    assert "仿宋_GB2312" in normal.element.xml
    dates = DAY.findall(body)
    assert dates, "a date"
    assert not re.search(r"年0|月0", body), "dates without 虚位"
    assert "印发" in body, "版记"
    kept = ("报：", "抄送：") if kind == "通报" else ("报：", "抄送：", "附件：")
    marks = [p for p in doc.paragraphs if p.text.startswith(kept)]
    assert all(p.paragraph_format.keep_with_next for p in marks), "版记 and 附件说明 are not split across pages"
    assert not re.search(r"第 \d+ 期|\{\{|\{%|photo", body), "no stray spaces, tags or placeholders"
    for footer, side in ((sec.footer, "right"), (sec.even_page_footer, "left")):
        xml = footer._element.xml
        assert "PAGE" in xml, "a page-number field"
        p = footer.paragraphs[0]
        assert p.text.replace("1", "{n}") == "— {n} —"
        assert p.alignment is not None
        assert side.upper() in str(p.alignment), f"page numbers {side} ({p.alignment})"
        assert p.runs[0].font.size.pt == 14
        assert east_asian(p.runs[0]) == "宋体"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        settings = z.read("word/settings.xml").decode()
        assert "evenAndOddHeaders" in settings, "odd pages right, even pages left"
        every = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
        assert "ja-JP" not in every
        assert 'w:eastAsia="zh-CN"' in every
        defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", z.read("word/styles.xml").decode(), re.S)
        assert defaults is not None
        assert re.search(r'<w:lang w:val="en-US" w:eastAsia="zh-CN"', defaults.group(0)), "Chinese as East Asian text"
    return doc


def test_a_quick_report_is_approved_from_its_text_numbered_on_approval_and_laid_out_as_gbt9704(
    st: Stack, emulator: EmulatorServer
) -> None:
    code = dispatched(st)
    st.say("wangwu", f"首报 {code} 已核实，系商户与执法人员口角。\n现场已平息。")
    st.say("chenqi", f"快报 {code}")
    assert "送领导审批" in st.last("chenqi")
    assert "〔" not in st.last("chenqi"), "no 期号 before approval"
    card = cards(st, "liujiu", "上报审批")[-1]
    tc = card["body"]["template_card"]
    assert "主要内容：网传执法人员与商户发生冲突" in tc["sub_title_text"], "the card carries the key content"
    links = [b for b in tc["button_list"] if b.get("type") == 1]
    assert [b["text"] for b in links] == ["查看全文"]
    path = f"/h5/brief/{tc['task_id'].split('-')[1]}"
    assert path in requests.utils.unquote(links[0]["url"])
    page = Browser(st).login("liujiu", path)
    assert page.status_code == 200, page.text
    assert "舆情快报" in page.text
    assert "已核实，系商户与执法人员口角。" in page.text
    assert "现场已平息。" in page.text
    assert "审批同意后编号" in page.text, "the draft shows the 期号 is still to come"
    assert Browser(st).login("gaojing", path).status_code == 403, "someone not involved may not read it"

    click(st, "liujiu", card, "退回")
    assert "退回" in st.last("chenqi")
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    year = local(clock.now()).year
    assert f"快报〔{year}〕第1期" in st.last("chenqi"), "the returned request used no number: no gap"
    word = [r for r in st.inbox("chenqi") if r["msgtype"] == "file"]
    assert len(word) == 1
    doc = assert_gbt9704(media(emulator, word[-1]), "快报")
    body = text_of(doc)
    assert "\n第1期\n" in body, "the 期号 line"
    assert DAY.search(body.split("\n")[3]), "编发单位 and date under the 期号"
    for words in (
        "一、基本情况",
        "（二）主要内容",
        "（三）网上态势",
        "已核实，系商户与执法人员口角。",
        "报：县委宣传部。",
    ):
        assert words in body, words
    assert "抄送" not in body, "an empty 抄送 is not printed"
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    assert f"快报〔{year}〕第2期" in st.last("chenqi")
    story = Browser(st).login("chenqi", f"/h5/item/{code}").text
    assert "审批快报" in story, "the case file (and the archive) names which report"
    assert "退回" in story
    assert "快报或专报" not in story


def test_the_numbers_continue_those_given_before_the_counter_and_each_kind_counts_alone(st: Stack) -> None:
    from models import Brief, Item
    from workflow.record import brief

    code = dispatched(st)
    year = local(clock.now()).year
    with st.rt.sessions() as s, s.begin():
        item = s.scalars(select(Item).where(Item.code == code)).one()
        s.add(Brief(item_id=item.id, kind="快报", number=f"快报〔{year}〕第 7 期", state="approved",
                    requested_by="chenqi", deciders=["liujiu"], created_at=clock.now()))  # fmt: skip
    st.say("chenqi", f"快报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    assert f"快报〔{year}〕第8期" in st.last("chenqi"), "after the highest number given before the counter row"
    with st.rt.sessions() as s, s.begin():
        numbers = [brief.next_number(s, "快报", clock.now()), brief.next_number(s, "专报", clock.now())]
    assert numbers == [f"快报〔{year}〕第9期", f"专报〔{year}〕第1期"], "one upsert per number, per kind and year"


def test_a_special_report_has_its_own_sections_and_the_leaders_instructions(
    st: Stack, emulator: EmulatorServer
) -> None:
    code = dispatched(st)
    st.say("liujiu", f"批示 {code} 请尽快核实，依法处理，及时回应。")
    st.say("chenqi", f"专报 {code}")
    click(st, "liujiu", cards(st, "liujiu", "上报审批")[-1], "同意")
    word = [r for r in st.inbox("chenqi") if r["msgtype"] == "file"]
    doc = assert_gbt9704(media(emulator, word[-1]), "专报")
    body = text_of(doc)
    for words in ("一、事件概况", "二、舆情发展态势", "四、领导批示及落实情况", "五、研判及下一步工作"):
        assert words in body, words
    assert re.search(r"刘九（\d{4}年[1-9]\d?月[1-9]\d?日）批示：请尽快核实，依法处理，及时回应。", body), body


def test_the_bureau_replaces_a_template_and_a_broken_one_is_named_at_start_up(tmp_path: Path) -> None:
    mine = tmp_path / "templates"
    mine.mkdir()
    shutil.copy(documents.SHIPPED / "kuaibao.docx", mine / "kuaibao.docx")
    with zipfile.ZipFile(mine / "kuaibao.docx") as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["word/document.xml"].decode()
    parts["word/document.xml"] = xml.replace("舆情快报", "某某局舆情快报").encode()
    with zipfile.ZipFile(mine / "kuaibao.docx", "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    base = {"wecom": {"corp_id": "c", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "a" * 43}}
    config = config_from_dict({**base, "documents": {"templates": str(mine)}}, tmp_path)
    documents.check(config)
    fields = {f: [] for f in documents.FIELDS["快报"]} | {"title": "标题", "issue": "第1期", "content": ["正文"]}
    assert "某某局舆情快报" in text_of(Document(io.BytesIO(documents.render(config, "快报", fields))))
    assert documents.template(config, "专报") == documents.SHIPPED / "zhuanbao.docx", "a file not given stays default"

    parts["word/document.xml"] = xml.replace("{{ title }}", "{{ headline }}").encode()
    with zipfile.ZipFile(mine / "kuaibao.docx", "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    (mine / "zhuanbao.docx").write_bytes(b"not a Word file")
    with pytest.raises(ConfigError) as bad:
        documents.check(config)
    words = str(bad.value)
    assert "kuaibao.docx：缺少字段 {{ title }}（missing field: title）" in words
    assert "kuaibao.docx：用了未知字段 headline" in words
    assert "zhuanbao.docx：无法读取" in words
    with pytest.raises(ConfigError, match="文件夹不存在"):
        documents.check(config_from_dict({**base, "documents": {"templates": str(tmp_path / "none")}}, tmp_path))


def test_the_templates_folder_is_settable_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"wecom": {"corp_id": "c", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "a" * 43}}
    monkeypatch.setenv("LIAOWANG_DOCUMENTS_TEMPLATES", str(tmp_path))
    config = config_from_dict(base, tmp_path)
    assert documents.configured(config) == tmp_path
    documents.check(config)  # an empty folder: every template is the shipped one


def test_the_monthly_bulletin_is_a_notice_with_the_numbers_of_the_workbook(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    now = local(clock.now())
    month = f"{now.year:04d}-{now.month:02d}"
    st.say("zhangsan", "上报 迟报的条目")
    late = code_in(st.last("zhangsan"))
    st.say("chenqi", f"交办 {late} 执法一队 一般")
    st.later(90)
    st.say("wangwu", f"首报 {late} 已核实")
    first = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    st.later((first - local(clock.now())).total_seconds())
    files = [r for r in st.inbox("liujiu") if r["msgtype"] == "file"]
    assert len(files) == 2, "the xlsx and the 通报"
    book = load_workbook(io.BytesIO(media(emulator, files[0])))
    doc = assert_gbt9704(media(emulator, files[1]), "通报")
    body = text_of(doc)
    y, m = month.split("-")
    assert f"关于{y}年{int(m)}月全局网络舆情处置工作考核情况的通报" in body
    for words in (
        "各单位：",
        "一、总体情况",
        "二、存在问题",
        "三、下一步要求",
        "附件：各单位得分表",
        "一是迟报1项，涉及执法一队。",
    ):
        assert words in body, words
    assert "全局共受理网络舆情1条" in body
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0] == ["名次", "单位", "得分", "扣分项", "扣分"]
    ranking = [[str(v) for v in r] for r in book["得分排名"].iter_rows(min_row=3, values_only=True)]
    assert [r[:4] for r in rows[1:]] == [[a, b, f"{float(c):g}", d] for a, b, c, d in ranking], "the same numbers"
    assert ["1", "城东区局", "100", "0", "0"] in rows[1:] or any(r[1] != "城东区局" for r in rows[1:])
    assert next(r for r in rows if r[1] == "执法一队")[2:] == ["99", "1", "1"]

    for ws in book.worksheets:  # print-ready: title row, frozen header with a filter, landscape, fitted to width
        assert str(ws["A1"].value).startswith(f"{y}年{int(m)}月 舆情处置考核通报　舆情工作领导小组办公室　制表："), (
            ws.title
        )
        assert ws.freeze_panes == "A3"
        assert ws.auto_filter.ref.startswith("A2:")
        assert ws.print_title_rows == "$1:$2"
        assert ws.page_setup.orientation == "landscape"
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        last = ws.cell(row=2, column=ws.max_column).column_letter
        assert [str(r) for r in ws.merged_cells.ranges] == [f"A1:{last}1"], "the title spans the printed columns"
        assert ws["A1"].alignment.wrap_text
        assert ws.row_dimensions[1].height >= 19, "and the row is as tall as its wrapped lines"
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"

    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "export", "items", "--from", f"{month}-01", "--to", local(clock.now()).date().isoformat(),
                   "--format", "xlsx", "--out", str(tmp_path / "items.xlsx"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    sheet = load_workbook(tmp_path / "items.xlsx")["条目与时限"]
    assert str(sheet["A1"].value).startswith(f"条目与时限（{month}-01至")
    reported = sheet.cell(row=3, column=[c.value for c in sheet[2]].index("上报时间") + 1)
    assert reported.is_date, "a real date-time cell"
    assert reported.number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions["B"].width <= 42, "long titles wrap instead of running off the page"
    out = liaowang(cfg, "bulletin", "--month", month, "--format", "docx")
    assert out.returncode == 2
    assert "--out" in out.stderr
    target = tmp_path / "通报.docx"
    out = liaowang(cfg, "bulletin", "--month", month, "--format", "docx", "--out", str(target))
    assert out.returncode == 0, out.stderr
    again = Document(str(target))
    assert [[c.text for c in r.cells] for r in again.tables[0].rows] == rows


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed on this machine")
def test_libreoffice_renders_the_documents_on_a4_without_tofu(tmp_path: Path) -> None:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    fields: dict[str, Any] = {f: [] for f in documents.FIELDS["专报"]}
    fields |= {"grade_line": "舆情等级：较大。", "issue": "第3期", "date": "2026年12月6日"}
    fields |= {"title": "关于网传某商户被执法人员推搡的舆情专报",
               "sender": "舆情工作领导小组办公室", "printer": "舆情工作领导小组办公室", "send_to": "县委宣传部",
               "content": ["网传视频显示执法人员与商户发生肢体冲突。"] * 30,
               "instructions": [{"by": "刘九", "date": "2026年12月6日", "text": "请尽快核实。"}]}  # fmt: skip
    config = config_from_dict(
        {"wecom": {"corp_id": "c", "agent_id": 1, "secret": "s", "token": "t", "encoding_aes_key": "a" * 43}},
        tmp_path,
    )
    (tmp_path / "zb.docx").write_bytes(documents.render(config, "专报", fields))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "zb.docx")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    reader = PdfReader(str(tmp_path / "zb.pdf"))
    assert len(reader.pages) >= 2, "30 paragraphs run onto a second page"
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297), "A4"
    text = re.sub(r"\s", "", reader.pages[0].extract_text())  # pypdf puts spaces between some glyphs
    assert "舆情专报" in text
    assert "第3期" in text
    assert "—2—" in re.sub(r"\s", "", reader.pages[1].extract_text()), "the page number of page 2"
    image = pdfium.PdfDocument(str(tmp_path / "zb.pdf"))[0].render(scale=1).to_pil().convert("L")
    assert image.getextrema()[0] < 100, "ink on the page"
    fonts = {str(f.get("/BaseFont")) for p in reader.pages for f in (p["/Resources"].get("/Font") or {}).values()
             for f in [f.get_object()]}  # fmt: skip
    assert any("CJK" in f or "Han" in f or "Song" in f or "Fang" in f for f in fonts), f"a CJK font drew it: {fonts}"


def test_the_case_file_has_a_file_number_retention_contents_and_readable_attachment_names(
    make_stack,  # type: ignore[no-untyped-def]
) -> None:
    from pypdf import PdfReader

    from tests.integration.h5kit import Browser
    from tests.integration.test_record import POLICY as WATCH
    from tests.integration.test_record import archived

    st = make_stack(pages=True, extra={"policy": WATCH, "archive": {"retention": {"significant": "30年"}}})
    code = archived(st)
    office = Browser(st)
    office.login("chenqi", f"/h5/item/{code}")
    package = zipfile.ZipFile(io.BytesIO(office.get(f"/h5/item/{code}/archive.zip").content))
    manifest = __import__("json").loads(package.read("manifest.json"))
    year = local(clock.now()).year
    assert manifest["file_number"] in (f"{year}-D30-{code}", f"{year - 1}-D30-{code}"), "档号 of a 较大 item"
    assert manifest["retention"] == "30年"
    shots = [e["path"] for e in manifest["files"] if e["path"].startswith("附件/")]
    assert shots == ["附件/01-上报截图.png"], "a readable name with its extension, not a hash"
    reader = PdfReader(io.BytesIO(package.read("案卷封面与经过.pdf")))
    pages = [re.sub(r"[\s\x00]", "", p.extract_text()) for p in reader.pages]
    assert f"档号：{manifest['file_number']}" in pages[0]
    assert "保管期限：30年" in pages[0]
    assert "卷内目录" in pages[1]
    assert "附件/01-上报截图.png（上报材料）" in pages[1]
    assert not [p for p in pages if "clock_" in p], "the timeline is in words"
    assert any("首报开始计时" in p for p in pages)
    assert "瞭望系统自动立卷" in pages[-1], "瞭 is in the font"
    assert re.search(r"立卷时间：\d{4}年[1-9]\d?月[1-9]\d?日", pages[-1]), "the year, whenever it is read or rebuilt"
    assert re.search(r"上报：张三\d{4}年", pages[0])
    story = "".join(p for p in pages if "处置经过" in p)
    assert not re.search(r"(?<![年\d])[1-9]\d?月[1-9]\d?日", story), "every time in the timeline has its year"
    assert "备考表" in pages[-1]
    assert "立卷人" in pages[-1]
    for n, text in enumerate(pages, 1):
        assert f"—{n}—" in text, f"page {n} is numbered"
