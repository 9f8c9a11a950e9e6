"""Build the shipped GB/T 9704-2012 Word templates in workflow/record/templates (kuaibao, zhuanbao, tongbao).

`python3 tools/make_document_templates.py` rewrites the three .docx files; the output is byte-for-byte the same
each run (fixed zip times and document properties), so a change shows in git only when this script changes.
The templates are docxtpl (Jinja2 in Word) documents: a bureau may copy one, edit it in Word and point
`[documents] templates` at the folder; the fields each receives are listed in docs/documents.md.

Layout (GB/T 9704-2012): A4; 版心 156 × 225 mm (top 37, bottom 35, left 28, right 26 mm); 22 lines of 28 characters;
版头 in red with a red rule; 标题 2号 方正小标宋简体; body 3号 仿宋_GB2312, 一级标题 黑体, 二级标题 楷体_GB2312;
page numbers "— 1 —" 4号 宋体, odd pages right, even pages left; 版记 with 抄送 and 印发 lines between rules.
The document names the fonts; the office's Word supplies them.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips

OUT = Path(__file__).resolve().parent.parent / "workflow" / "record" / "templates"
FIXED = datetime(2026, 1, 1)  # the document properties' dates: fixed so the bytes are reproducible
RED = RGBColor(0xFF, 0x00, 0x00)
XIAOBIAOSONG, FANGSONG, HEITI, KAITI, SONGTI = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
SAN, ER, SI = Pt(16), Pt(22), Pt(14)  # 3号, 2号, 4号
LINE = Twips(579)  # 225 mm / 22 lines = 28.95 pt, exactly
WIDTH = Mm(156)


def fonts(target: Any, name: str, size: Any = None, color: RGBColor | None = None, bold: bool = False) -> None:
    """Name the font on a run or style for every script (w:ascii, w:hAnsi, w:eastAsia, w:cs) so Word picks it."""
    font = target.font
    font.name, font.bold = name, bold
    if size is not None:
        font.size = size
    if color is not None:
        font.color.rgb = color
    rpr = target._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(key), name)
    for key in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(key), None)


def styles(doc: Any) -> None:
    """正文 (Normal), 公文标题, 一级标题, 二级标题, 版记 — each naming its font, size and line spacing."""
    normal = doc.styles["Normal"]
    fonts(normal, FANGSONG, SAN)
    pf = normal.paragraph_format
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    pf.space_before = pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = False
    for name, font, size, first, align in (
        ("正文", FANGSONG, SAN, True, WD_ALIGN_PARAGRAPH.JUSTIFY),
        ("公文标题", XIAOBIAOSONG, ER, False, WD_ALIGN_PARAGRAPH.CENTER),
        ("一级标题", HEITI, SAN, True, WD_ALIGN_PARAGRAPH.LEFT),
        ("二级标题", KAITI, SAN, True, WD_ALIGN_PARAGRAPH.LEFT),
        ("版记", FANGSONG, SI, False, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        fonts(style, font, size)
        style.paragraph_format.alignment = align
        if first:
            indent(style.paragraph_format, 2)
        if name == "公文标题":
            style.paragraph_format.line_spacing = Pt(35)


def indent(pf: Any, chars: int) -> None:
    """A first-line indent of chars characters (w:firstLineChars, with the 3号 width as fallback)."""
    pf.first_line_indent = Pt(16 * chars)
    ind = pf._element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(100 * chars))


def page(doc: Any) -> None:
    """A4, the 版心 156 × 225 mm, header/footer distances, odd/even footers with the page number."""
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Twips(11906), Twips(16838)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(24)
    doc.settings.odd_and_even_pages_header_footer = True
    page_number(sec.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    page_number(sec.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    grid = sec._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sec._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), "579")


def page_number(p: Any, align: Any) -> None:
    """— PAGE — in 4号 宋体, one character in from the outer edge (odd pages right, even pages left)."""
    p.alignment = align
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.paragraph_format.first_line_indent = Pt(0)
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = Pt(14)
    else:
        p.paragraph_format.left_indent = Pt(14)

    def run(text: str = "", field: str | None = None, instr: str | None = None) -> None:
        r = p.add_run(text)
        fonts(r, SONGTI, SI)
        if field:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), field)
            r._element.append(fld)
        if instr:
            it = OxmlElement("w:instrText")
            it.set(qn("xml:space"), "preserve")
            it.text = instr
            r._element.append(it)

    run("— ")
    run(field="begin")
    run(instr=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def border(p: Any, side: str, color: str, eighths: int, space: int = 1) -> None:
    """A rule above or below a paragraph (w:pBdr), eighths of a point thick."""
    ppr = p._element.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        ppr.append(bdr)
    edge = OxmlElement(f"w:{side}")
    for k, v in (("w:val", "single"), ("w:sz", str(eighths)), ("w:space", str(space)), ("w:color", color)):
        edge.set(qn(k), v)
    bdr.append(edge)


def para(doc: Any, text: str = "", style: str = "正文", font: str | None = None, size: Any = None, **kw: Any) -> Any:
    """A paragraph of style with one run (its font named on the run too)."""
    p = doc.add_paragraph(style=style)
    if text:
        r = p.add_run(text)
        fonts(r, font or _style_font(style), size or (SI if style == "版记" else ER if style == "公文标题" else SAN),
              kw.get("color"), kw.get("bold", False))  # fmt: skip
    return p


def _style_font(style: str) -> str:
    return {"公文标题": XIAOBIAOSONG, "一级标题": HEITI, "二级标题": KAITI}.get(style, FANGSONG)


def tag(doc: Any, text: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}); docxtpl removes it when rendering."""
    doc.add_paragraph(text, style="正文").paragraph_format.first_line_indent = Pt(0)


def lines(doc: Any, field: str, style: str = "正文") -> None:
    """Each line of the list field as its own paragraph."""
    tag(doc, f"{{%p for line in {field} %}}")
    para(doc, "{{ line }}", style)
    tag(doc, "{%p endfor %}")


def masthead(doc: Any, name: str, size: Any, issue: bool) -> None:
    """内部资料 marking, the red 版头, the 期号 line (简报 only), 编发单位 and date, the red rule."""
    p = para(doc, "内部资料 注意保存", "正文", HEITI)
    p.paragraph_format.first_line_indent = Pt(0)
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    head = para(doc, name, "正文", XIAOBIAOSONG, size, color=RED)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    head.paragraph_format.first_line_indent = Pt(0)
    head.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    head.paragraph_format.space_before, head.paragraph_format.space_after = Pt(24), Pt(12)
    if issue:
        no = para(doc, "{{ issue }}", "正文")
        no.alignment = WD_ALIGN_PARAGRAPH.CENTER
        no.paragraph_format.first_line_indent = Pt(0)
    line = doc.add_paragraph(style="正文")
    line.paragraph_format.first_line_indent = Pt(0)
    line.paragraph_format.tab_stops.add_tab_stop(WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    line.paragraph_format.space_after = Pt(20)
    if issue:  # a 简报 names its 编发单位 and date above the rule; a 通报 signs at the end instead
        for text in ("{{ sender }}", "\t", "{{ date }}"):
            fonts(line.add_run(text), FANGSONG, SAN)
    border(line, "bottom", "FF0000", 18, 6)


def footer_block(doc: Any) -> None:
    """版记: 报 / 抄送 lines and the 印发 line between rules (thick outside, thin between), 4号 仿宋; kept together on
    one page (each line keeps with the next)."""
    tag(doc, "{%p if send_to %}")
    p = para(doc, "报：{{ send_to }}。", "版记")
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
    p.paragraph_format.keep_with_next = True
    border(p, "top", "000000", 8)
    border(p, "bottom", "000000", 4)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if copy_to %}")
    p = para(doc, "抄送：{{ copy_to }}。", "版记")
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
    p.paragraph_format.keep_with_next = True
    border(p, "bottom", "000000", 4)
    tag(doc, "{%p endif %}")
    p = doc.add_paragraph(style="版记")
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Pt(14)
    p.paragraph_format.tab_stops.add_tab_stop(WIDTH - Pt(28), WD_TAB_ALIGNMENT.RIGHT)
    for text in ("{{ printer }}", "\t", "{{ date }}印发"):
        fonts(p.add_run(text), FANGSONG, SI)
    border(p, "bottom", "000000", 8)


def brief(kind: str) -> Any:
    """快报 or 专报: masthead, title, the sections of the kind, 附件 lines, 版记."""
    doc = Document()
    styles(doc)
    page(doc)
    doc.paragraphs[0]._element.getparent().remove(doc.paragraphs[0]._element) if doc.paragraphs else None
    masthead(doc, f"舆情{kind}", Pt(42), True)
    para(doc, "{{ title }}", "公文标题")
    para(doc, "", "正文")
    if kind == "快报":
        para(doc, "一、基本情况", "一级标题")
        para(doc, "（一）舆情来源", "二级标题")
        lines(doc, "source")
        para(doc, "（二）主要内容", "二级标题")
        lines(doc, "content")
        para(doc, "（三）网上态势", "二级标题")
        lines(doc, "situation")
        para(doc, "二、核查处置情况", "一级标题")
        para(doc, "（一）核查情况", "二级标题")
        lines(doc, "verification")
        para(doc, "（二）处置情况", "二级标题")
        lines(doc, "handling")
        para(doc, "（三）对外口径", "二级标题")
        lines(doc, "statement")
        para(doc, "三、下一步工作", "一级标题")
        lines(doc, "next_steps")
    else:
        para(doc, "一、事件概况", "一级标题")
        para(doc, "（一）舆情来源及等级", "二级标题")
        lines(doc, "source")
        para(doc, "{{ grade_line }}", "正文")
        para(doc, "（二）主要内容", "二级标题")
        lines(doc, "content")
        para(doc, "二、舆情发展态势", "一级标题")
        lines(doc, "situation")
        para(doc, "三、核查和处置情况", "一级标题")
        para(doc, "（一）核查情况", "二级标题")
        lines(doc, "verification")
        para(doc, "（二）处置情况", "二级标题")
        lines(doc, "handling")
        para(doc, "（三）对外口径", "二级标题")
        lines(doc, "statement")
        para(doc, "四、领导批示及落实情况", "一级标题")
        tag(doc, "{%p for i in instructions %}")
        para(doc, "{{ i.by }}（{{ i.date }}）批示：{{ i.text }}", "正文")
        tag(doc, "{%p endfor %}")
        tag(doc, "{%p if not instructions %}")
        para(doc, "截至发稿，暂无领导批示。", "正文")
        tag(doc, "{%p endif %}")
        para(doc, "五、研判及下一步工作", "一级标题")
        lines(doc, "next_steps")
    tag(doc, "{%p if attachments %}")
    para(doc, "", "正文")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for line in attachments %}")
    para(doc, "{{ line }}", "正文").paragraph_format.keep_with_next = True  # 附件说明 stays on one page
    tag(doc, "{%p endfor %}")
    para(doc, "", "正文")
    footer_block(doc)
    return doc


def bulletin() -> Any:
    """The 月考核通报: red 版头 of the office, title, 主送, 总体情况, 存在问题, 下一步要求, 附件说明, 署名 and date,
    then 附件 各单位得分表 (a table) and the 版记."""
    doc = Document()
    styles(doc)
    page(doc)
    doc.paragraphs[0]._element.getparent().remove(doc.paragraphs[0]._element) if doc.paragraphs else None
    masthead(doc, "{{ sender }}", Pt(26), False)
    para(doc, "{{ title }}", "公文标题")
    para(doc, "", "正文")
    p = para(doc, "各单位：", "正文")
    p.paragraph_format.first_line_indent = Pt(0)
    para(doc, "{{ intro }}", "正文")
    para(doc, "一、总体情况", "一级标题")
    lines(doc, "overview")
    para(doc, "二、存在问题", "一级标题")
    lines(doc, "problems")
    para(doc, "三、下一步要求", "一级标题")
    lines(doc, "requirements")
    para(doc, "", "正文")
    para(doc, "附件：各单位得分表", "正文")
    para(doc, "", "正文")
    para(doc, "", "正文")
    for field in ("{{ sender }}", "{{ date }}"):
        p = para(doc, field, "正文")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.right_indent = Pt(64)
    p = para(doc, "", "正文")
    p.add_run().add_break(WD_BREAK.PAGE)
    p = para(doc, "附件", "一级标题")
    p.paragraph_format.first_line_indent = Pt(0)
    para(doc, "", "正文")
    para(doc, "各单位得分表", "公文标题")
    para(doc, "", "正文")
    score_table(doc)
    para(doc, "{{ table_note }}", "版记")
    para(doc, "", "正文")
    footer_block(doc)
    return doc


def score_table(doc: Any) -> None:
    """名次, 单位, 得分, 扣分项, 扣分 — a header row, then one row per unit (docxtpl {%tr %} rows)."""
    heads = ("名次", "单位", "得分", "扣分项", "扣分")
    cells = ("{{ u.rank }}", "{{ u.name }}", "{{ u.score }}", "{{ u.count }}", "{{ u.lost }}")
    table = doc.add_table(rows=4, cols=len(heads))
    table.style = doc.styles["Table Grid"]
    for i, width in enumerate((Mm(18), Mm(66), Mm(24), Mm(24), Mm(24))):
        for row in table.rows:
            row.cells[i].width = width
    for row, texts, font in ((0, heads, HEITI), (2, cells, FANGSONG)):
        for i, text in enumerate(texts):
            p = table.rows[row].cells[i].paragraphs[0]
            p.style = doc.styles["版记"]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fonts(p.add_run(text), font, SI)
    table.rows[1].cells[0].paragraphs[0].add_run("{%tr for u in units %}")
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))  # the header repeats on every page


def normalise(data: bytes) -> bytes:
    """The .docx with fixed zip times (reproducible bytes) and Chinese as the East Asian language everywhere: the
    document defaults say what a Chinese Word writes (w:val en-US for Latin text, w:eastAsia zh-CN), settings.xml's
    theme font language zh-CN where python-docx's default says ja-JP."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.endswith(".xml"):
                text = body.decode("utf-8").replace('w:eastAsia="ja-JP"', 'w:eastAsia="zh-CN"')
                text = re.sub(
                    r'<w:lang w:val="en-US" w:eastAsia="en-US"', '<w:lang w:val="en-US" w:eastAsia="zh-CN"', text
                )
                body = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def save(doc: Any, name: str) -> None:
    """Write the template with fixed document properties."""
    props = doc.core_properties
    props.author = props.last_modified_by = "瞭望"
    props.title, props.revision = name, 1
    props.created = props.modified = props.last_printed = FIXED
    props.language = "zh-CN"
    buf = io.BytesIO()
    doc.save(buf)
    (OUT / name).write_bytes(normalise(buf.getvalue()))
    print(f"{OUT / name}")


def main() -> int:
    """Write kuaibao.docx, zhuanbao.docx and tongbao.docx."""
    OUT.mkdir(parents=True, exist_ok=True)
    save(brief("快报"), "kuaibao.docx")
    save(brief("专报"), "zhuanbao.docx")
    save(bulletin(), "tongbao.docx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
