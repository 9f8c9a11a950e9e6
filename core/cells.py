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
    """CSV in UTF-8 with a BOM (so Excel reads the Chinese), every cell through cell()."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([cell(v) for v in header])
    w.writerows([cell(v) for v in r] for r in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _width(values: Iterable[Any]) -> float:
    return min(60, 4 + 2 * max(len(str(v or "")) for v in values))


def xlsx_bytes(sheets: Mapping[str, Sheet]) -> bytes:
    """A workbook (streamed, so 100,000 rows stay quick) with one sheet per entry: bold header, fitted column
    widths, every cell through cell()."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(xml_safe(title)[:31])
        body = [[cell(v) for v in r] for r in rows]
        for i, name in enumerate(header, start=1):
            ws.column_dimensions[get_column_letter(i)].width = _width([name, *(r[i - 1] for r in body[:200])])
        heads = []
        for name in header:
            c = WriteOnlyCell(ws, value=cell(name))
            c.font = bold
            heads.append(c)
        ws.append(heads)
        for r in body:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
