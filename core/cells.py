"""The one writer of spreadsheets (CSV and xlsx): every cell is safe to open in Excel or WPS.

A text cell that begins with =, +, -, @, tab, CR or LF (or their full-width forms) would be read as a formula; it
is written with a leading single quote, as OWASP recommends for CSV injection. Numbers stay numbers. Characters an
xlsx file cannot hold are dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from core.text import XML_ILLEGAL, xml_safe

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_STARTS = frozenset(FORMULA_STARTS)
Sheet = tuple[Sequence[str], Iterable[Sequence[Any]]]  # (header, rows)


def cell(value: Any) -> Any:
    """Return value as written to a cell: None as "", numbers, dates and booleans as they are, any other value as
    XML-safe text with a leading ' when it would start a formula."""
    if isinstance(value, str):
        text = XML_ILLEGAL.sub("", value)
    elif value is None:
        return ""
    elif isinstance(value, (bool, int, float, date, datetime)):
        return value
    else:
        text = XML_ILLEGAL.sub("", str(value))
    return "'" + text if text[:1] in _STARTS else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel reads the Chinese), every cell through cell(); times as 2026-11-26 14:05."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([cell(v) for v in header])
    w.writerows([_csv_value(cell(v)) for v in r] for r in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return value


WRAP_AT = 40  # a column wider than this many characters wraps instead
TIME_FORMAT = "yyyy-mm-dd hh:mm"


def _width(values: Iterable[Any]) -> float:
    longest = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(v if v is not None else "")) for v in values)
    return min(WRAP_AT + 2, 2 + longest)


def xlsx_bytes(sheets: Mapping[str, Sheet], title: str = "") -> bytes:
    """A workbook (streamed, so 100,000 rows stay quick) with one sheet per entry, ready to print: the title row
    (when given: what, whose, made when), a bold header frozen below it with an autofilter, printed on every page,
    landscape A4 fitted to the page width; fitted column widths, long text wrapped, times as real date-time cells,
    numbers as numbers; every cell through cell()."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(xml_safe(name)[:31])
        body = [[cell(v) for v in r] for r in rows]
        widths = [_width([h, *(r[i] for r in body[:200])]) for i, h in enumerate(header)]
        wrapped = {i for i, w in enumerate(widths) if w > WRAP_AT}
        times = {i for i in range(len(header)) if any(isinstance(r[i], datetime) for r in body[:200])}
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        head_row = 2 if title else 1
        last = get_column_letter(max(1, len(header)))
        ws.freeze_panes = f"A{head_row + 1}"
        ws.auto_filter.ref = f"A{head_row}:{last}{head_row + max(1, len(body))}"
        ws.print_title_rows = f"1:{head_row}"
        ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", 9  # 9: A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if title:
            top = WriteOnlyCell(ws, value=cell(title))
            top.font = Font(bold=True, size=14)
            ws.append([top])
        heads = []
        for h in header:
            c = WriteOnlyCell(ws, value=cell(h))
            c.font = bold
            heads.append(c)
        ws.append(heads)
        styled = wrapped | times
        for r in body:
            ws.append([_styled(ws, v, i in wrapped, i in times) if i in styled else v for i, v in enumerate(r)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _styled(ws: Any, value: Any, wrap: bool, time: bool) -> Any:
    """A cell that wraps its text or shows a date-time as 2026-11-26 14:05."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment

    c = WriteOnlyCell(ws, value=value)
    if wrap:
        c.alignment = Alignment(wrap_text=True, vertical="top")
    if time and isinstance(value, datetime):
        c.number_format = TIME_FORMAT
    return c
