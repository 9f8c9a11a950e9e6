"""The one writer of spreadsheets (CSV and xlsx): every cell is safe to open in Excel or WPS.

A text cell that begins with =, +, -, @, tab, CR or LF (or their full-width forms) would be read as a formula; it
is written with a leading single quote, as OWASP recommends for CSV injection. Numbers stay numbers. Characters an
xlsx file cannot hold are dropped.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
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
    """A workbook with one sheet per entry, ready to print: the title row (when given: what, whose, made when), a
    bold header frozen below it with an autofilter, printed on every page, landscape A4 fitted to the page width;
    fitted column widths, long text wrapped, times as real date-time cells, numbers as numbers; every cell through
    cell(). openpyxl (write-only) writes the workbook, the layout, the title and the header; the body rows are
    written by _Rows as the very XML openpyxl would write for them, at a tenth of its cost per cell."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    bodies: list[bytes] = []
    titles: dict[int, tuple[str, float]] = {}  # sheet index → (last column, title row height)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(xml_safe(name)[:31])
        body = [[cell(v) for v in r] for r in rows]
        widths = [_width([h, *(r[i] for r in body[:200])]) for i, h in enumerate(header)]
        wrapped = {i for i, w in enumerate(widths) if w > WRAP_AT}
        if title and widths and sum(widths) < (need := _title_units(str(title)) / TITLE_LINES + 1):
            widest = widths.index(max(widths))  # a narrow sheet widens its widest column to hold its title
            widths[widest] = round(widths[widest] + need - sum(widths), 1)
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
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        if title:
            top = WriteOnlyCell(ws, value=cell(title))
            top.font = Font(bold=True, size=TITLE_PT)
            top.alignment = Alignment(wrap_text=True, vertical="center")
            ws.append([top])
            titles[len(bodies)] = (last, _title_height(str(title), sum(widths)))
        heads = []
        for h in header:
            c = WriteOnlyCell(ws, value=cell(h))
            c.font = bold
            heads.append(c)
        ws.append(heads)
        bodies.append(_Rows(ws, wrapped, times).xml(body, head_row + 1))
    out = io.BytesIO()
    wb.save(out)
    return _with_bodies(out.getvalue(), bodies, titles)


TITLE_PT, TITLE_LINES = 14, 3


def _title_units(title: str) -> float:
    """The title's width in column-width units (a column's width counts 11 pt characters; the title is 14 pt)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in title) * TITLE_PT / 11 * 1.1  # a tenth to spare


def _title_height(title: str, width: float) -> float:
    """The title row's height in points: as many lines as the title needs across the sheet's columns (the title
    is merged across them and wraps, so a printed page never cuts it off at the last column)."""
    return round(max(1, math.ceil(_title_units(title) / max(width - 1, 1))) * TITLE_PT * 1.4, 1)


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


class _Rows:
    """Writes a sheet's body rows as openpyxl's write-only writer does (inline strings, numbers as %.16g, dates as
    Excel serials, the same style ids), without its per-cell objects."""

    def __init__(self, ws: Any, wrapped: set[int], times: set[int]) -> None:
        self.ws, self.wrapped, self.times = ws, wrapped, times
        self._styles: dict[tuple[int, type], str] = {}

    def style(self, col: int, value: Any) -> str:
        """The s="…" attribute of a cell (empty when openpyxl would write none), registered once per kind."""
        kind = type(value) if isinstance(value, (date, datetime)) else str
        if col not in self.wrapped and kind is str:
            return ""
        key = (col, kind)
        if key not in self._styles:
            c = _styled(self.ws, value, col in self.wrapped, col in self.times)
            self._styles[key] = f' s="{c.style_id}"' if c.has_style else ""
        return self._styles[key]

    def xml(self, body: list[list[Any]], first: int) -> bytes:
        """The <row> elements of body, the first numbered first."""
        from openpyxl.utils import get_column_letter
        from openpyxl.utils.datetime import to_excel

        width = max((len(r) for r in body), default=0)
        letters = [get_column_letter(i + 1) for i in range(width)]
        plain = [self.style(i, "") for i in range(width)]  # a text or number cell's style: the column's
        out: list[str] = []
        for n, r in enumerate(body, start=first):
            cells, row = [], str(n)
            for i, v in enumerate(r):
                if type(v) is str:
                    if not v:
                        cells.append(f'<c r="{letters[i]}{row}"{plain[i]} t="inlineStr"/>')
                        continue
                    space = ' xml:space="preserve"' if v != v.strip() else ""
                    cells.append(
                        f'<c r="{letters[i]}{row}"{plain[i]} t="inlineStr"><is><t{space}>{_escape(v)}</t></is></c>'
                    )
                elif isinstance(v, (date, datetime)):
                    if isinstance(v, datetime) and v.tzinfo is not None:
                        raise TypeError("Excel does not support timezones in datetimes.")
                    s, serial = self.style(i, v), to_excel(v)  # type: ignore[no-untyped-call]  # openpyxl's
                    cells.append(f'<c r="{letters[i]}{row}"{s} t="n"><v>{serial:.16g}</v></c>')
                else:
                    kind = "b" if isinstance(v, bool) else "n"
                    cells.append(f'<c r="{letters[i]}{row}"{plain[i]} t="{kind}"><v>{_number(v)}</v></c>')
            out.append(f'<row r="{row}">{"".join(cells)}</row>')
        return "".join(out).encode("utf-8")


def _escape(text: str) -> str:
    """Text as XML character data (a CR kept as a character reference, as lxml writes it)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _number(v: float) -> str:
    """A number as openpyxl writes it (%.16g; NaN and infinities as nothing)."""
    return "" if math.isnan(v) or math.isinf(v) else f"{v:.16g}"


def _with_bodies(book: bytes, bodies: list[bytes], titles: Mapping[int, tuple[str, float]]) -> bytes:
    """The workbook with body i written at the end of sheet i's rows (write-only sheets are sheet1.xml, …), and each
    titled sheet's row 1 merged across its columns at the height its wrapped title needs."""
    src, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m and bodies[int(m.group(1)) - 1]:
                head, tail = data.rsplit(b"</sheetData>", 1)
                data = head + bodies[int(m.group(1)) - 1] + b"</sheetData>" + tail
            if m and (int(m.group(1)) - 1) in titles:
                data = _titled(data, *titles[int(m.group(1)) - 1])
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _titled(sheet: bytes, last: str, height: float) -> bytes:
    """A sheet's XML with its title row at height and merged from A1 to the last column (mergeCells follows
    autoFilter in a worksheet's XML)."""
    sheet = sheet.replace(b'<row r="1">', f'<row r="1" ht="{height:g}" customHeight="1">'.encode(), 1)
    if last == "A":
        return sheet
    merge = f'<mergeCells count="1"><mergeCell ref="A1:{last}1"/></mergeCells>'.encode()
    return re.sub(rb"(<autoFilter [^>]*/>)", lambda f: f.group(1) + merge, sheet, count=1)
