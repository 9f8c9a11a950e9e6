"""Every cell Liaowang writes to CSV or xlsx is safe in Excel/WPS (OWASP CSV injection): core.cells, property-tested."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.cells import FORMULA_STARTS, cell, csv_bytes, xlsx_bytes
from core.text import xml_safe
from workflow.appraisal import bulletin_files
from workflow.record import export

HOSTILE = ['=HYPERLINK(" "&A1,"详情")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "=cmd|' /C calc'!A0", "＝1"]
texts = st.one_of(st.text(), st.sampled_from(HOSTILE), st.sampled_from(FORMULA_STARTS).map(lambda c: c + "1+1"))


def read_csv(data: bytes) -> list[list[str]]:
    """The rows of a CSV as Excel would split them (after the BOM)."""
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline="")))


def read_xlsx(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's rows with each cell's value and type as a spreadsheet program reads them."""
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


@settings(max_examples=300, deadline=None)
@given(texts)
def test_a_text_cell_never_starts_a_formula_and_keeps_its_text(value: str) -> None:
    out = cell(value)
    assert not out.startswith(FORMULA_STARTS)
    assert out in (xml_safe(value), "'" + xml_safe(value))
    assert out == xml_safe(value) or xml_safe(value).startswith(FORMULA_STARTS)


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans()))
def test_numbers_stay_numbers(value: float) -> None:
    assert cell(value) == value
    assert type(cell(value)) is type(value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(texts, texts, st.integers(-1000, 1000)), max_size=5))
def test_csv_and_xlsx_cells_read_back_as_inert_text(rows: list[tuple[str, str, int]]) -> None:
    header = ["标题", "=说明", "扣分"]
    body = read_csv(csv_bytes(header, rows))
    assert body[0] == ["标题", "'=说明", "扣分"]
    for got, row in zip(body[1:], rows, strict=True):
        assert got[:2] == [cell(row[0]), cell(row[1])]
        assert got[2] == str(row[2])
        assert not any(v.startswith(FORMULA_STARTS) for v in got[:2])
    sheet = read_xlsx(xlsx_bytes({"表": (header, rows)}))["表"]
    for got_x, row in zip(sheet[1:], rows, strict=True):
        for (value, kind), raw in zip(got_x[:2], row[:2], strict=True):
            assert kind in ("s", "inlineStr"), "a string cell, never a formula (f)"
            assert (value or "") == cell(raw)
        assert got_x[2] == (row[2], "n"), "numbers stay numbers"


def test_the_items_export_neutralises_a_hostile_title_in_csv_and_xlsx() -> None:
    row = {k: "" for k in export.COLUMNS} | {"编号": "YQ-1", "标题": HOSTILE[0], "主办单位": "@单位", "延期次数": 2}
    body = read_csv(export.to_csv([row]))
    assert body[1][1] == "'" + HOSTILE[0]
    assert body[1][6] == "'@单位"
    sheet = read_xlsx(export.to_xlsx([row]))["条目与时限"]
    assert sheet[1][1] == ("'" + HOSTILE[0], "s")
    assert sheet[1][12] == (2, "n")


def test_the_bulletin_workbook_neutralises_unit_names_and_fact_reasons() -> None:
    fig = bulletin_fig("=1+1", "-2 @SUM(A1)")
    sheets = read_xlsx(bulletin_files.xlsx(fig))
    assert sheets["得分排名"][1][1] == ("'=1+1", "s")
    assert sheets["得分排名"][1][2] == (98, "n")
    detail = sheets["扣分明细"][1]
    assert detail[1] == ("'=1+1", "s")
    assert detail[5] == (-2, "n")
    assert detail[7] == ("'-2 @SUM(A1)", "s")


def bulletin_fig(unit: str, detail: str) -> dict[str, Any]:
    """The figures of a one-unit month with one deduction (the shape workflow.appraisal.bulletin.figures returns)."""
    deduction = {"key": "F1", "item": "YQ-1", "fact": "漏报", "role": "main", "points": -2, "state": "upheld"}
    return {
        "month": "2026-11",
        "base": 100,
        "units": [
            {
                "rank": 1,
                "name": unit,
                "score": 98,
                "deductions": [{**deduction, "detail": detail}],
                "duty": {"patrols": 1, "patrols_missed": 0, "guided": 0, "guided_missed": 0},
            }
        ],
        "items": {"total": 1, "by_grade": {unit: 1}, "by_source": {}, "by_flow": {}},
        "times": {"first": {"label": detail, "n": 1, "median": 60.0, "p90": 120.0}},
        "named": [{"name": unit, "item": detail}],
    }
