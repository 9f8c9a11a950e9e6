"""Text is cleaned once at the door (core.text.clean_text) and every document writer takes any text on its own."""

from __future__ import annotations

import io
import unicodedata
from types import SimpleNamespace

from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.incoming import parse_incoming
from core import clock
from core.text import MAX_NAME, XML_ILLEGAL, clean_name, clean_text, xml_safe
from models import Item, Person
from models.state import ItemState
from tests.unit.test_safe_cells import bulletin_fig
from workflow.appraisal import bulletin_files
from workflow.record import archive, documents, export

PASTED = "第一段\x0b第二段\x0c第三段\x01\x1b[31m红字\u202e反向\ud800\ufffe"
CONTROLS = st.sampled_from([chr(c) for c in (*range(0x20), 0x7F, 0x85, 0x2028, 0x202E, 0xD800, 0xFFFE, 0xFFFF)])
hostile = st.lists(st.one_of(st.text(max_size=20), CONTROLS, st.sampled_from(["=1+1", "$x$^", "e\u0301"])), max_size=6)
texts = hostile.map("".join)


def no_controls(text: str) -> bool:
    """Tell whether text holds no control character but newline and tab, and nothing XML forbids."""
    return not XML_ILLEGAL.search(text) and all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in text)


def test_pasted_word_text_keeps_its_lines_and_loses_its_controls() -> None:
    assert clean_text(PASTED) == "第一段\n第二段\n第三段[31m红字反向"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    assert clean_text("e\u0301") == "é", "NFC"
    assert clean_name(" 张\n三\t\x00 ") == "张 三"
    assert len(clean_text("长" * 60000)) == 50000
    assert len(clean_name("名" * 500)) == MAX_NAME


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(1, 100))
def test_clean_text_is_nfc_bounded_idempotent_and_free_of_controls(text: str, limit: int) -> None:
    out = clean_text(text, limit)
    assert no_controls(out)
    assert len(out) <= limit
    assert unicodedata.is_normalized("NFC", out) or len(out) == limit  # a cut may split a combining sequence
    assert clean_text(out, limit) == out
    name = clean_name(text)
    assert "\n" not in name
    assert "\t" not in name
    assert name == name.strip()
    assert len(name) <= MAX_NAME


def test_a_message_is_cleaned_where_it_enters() -> None:
    xml = "<xml><MsgType>text</MsgType><FromUserName>a</FromUserName><Content>报\u2028告 e\u0301\x85</Content></xml>"
    assert parse_incoming(xml).content == "报\n告 é"


@settings(max_examples=60, deadline=None)
@given(texts, texts, texts)
def test_the_word_writer_takes_any_text(title: str, heading: str, body: str) -> None:
    fields = {f: [] for f in documents.FIELDS["快报"]}
    fields |= {"title": clean_name(title, 500), "issue": "第1期", "source": documents.paragraphs(heading)}
    fields["content"] = documents.paragraphs(body) + documents.paragraphs(PASTED)
    data = documents.render(SimpleNamespace(raw={}), "快报", fields)  # type: ignore[arg-type]
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "第一段\n第二段" in text
    assert no_controls(text)


@settings(max_examples=25, deadline=None)
@given(texts, texts)
def test_the_spreadsheet_writers_take_any_text(unit: str, detail: str) -> None:
    fig = bulletin_fig(unit, detail + PASTED)
    for data in (bulletin_files.xlsx(fig), export.to_xlsx([{k: detail + PASTED for k in export.COLUMNS}])):
        for ws in load_workbook(io.BytesIO(data)).worksheets:
            assert not any(XML_ILLEGAL.search(str(c.value or "")) for row in ws.iter_rows() for c in row)
    cleaned = bulletin_fig(clean_name(unit), clean_text(detail + PASTED))  # what the door lets in
    assert bulletin_files.text(cleaned)
    assert bulletin_files.markdown(cleaned)
    assert export.to_csv([{k: detail for k in export.COLUMNS}]).startswith("\ufeff".encode())


@settings(max_examples=5, deadline=None)
@given(texts)
def test_the_chart_and_the_archive_pdf_take_any_text(text: str) -> None:
    assert bulletin_files.png(bulletin_fig(text + "$x$^", text)).startswith(b"\x89PNG")
    reporter = Person(userid="u", name=text + PASTED)
    item = Item(code="YQ-1", title=text + PASTED, text=PASTED, source="web", state=ItemState.reported,
                reported_at=clock.now(), reporter=reporter)  # fmt: skip
    assert archive.pdf(item, [("今天", text, PASTED, text)], "今天").startswith(b"%PDF")


@given(texts)
def test_xml_safe_leaves_only_what_xml_holds(text: str) -> None:
    out = xml_safe(text)
    assert not XML_ILLEGAL.search(out)
    assert out.encode("utf-8") is not None
    assert all(c in out for c in text if not XML_ILLEGAL.match(c)), "nothing else is dropped"
