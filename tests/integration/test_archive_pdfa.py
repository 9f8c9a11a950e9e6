"""The case file's PDF is written to PDF/A-2b's rules, checked structurally with pypdf (no certified validator such as
veraPDF is installed here), and `liaowang archive` prints nothing from fontTools or fpdf2."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from sandbox.server import EmulatorServer
from tests.integration.harness import Stack
from tests.integration.test_processes import liaowang, write_config
from tests.integration.test_record import POLICY, archived

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}
ODD = "😀𠮷"  # an emoji and a CJK Extension B character: neither is in the shipped GB 2312 subset
NOISE = re.compile(r"fontTools|fpdf|missing the following glyphs|Warning|warn", re.IGNORECASE)


@pytest.fixture()
def st(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    """A stack with H5 pages and a one-hour watch (as tests/integration/test_record.py)."""
    return make_stack(pages=True, extra={"policy": POLICY})


def _objects(reader: PdfReader) -> list[Any]:
    """Every object reachable from the trailer (dictionaries, streams, arrays), each once."""
    seen: set[tuple[int, int]] = set()
    out: list[Any] = []
    todo: list[Any] = [reader.trailer]
    while todo:
        obj = todo.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):  # a StreamObject is one too
            out.append(obj)
            todo.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))
        elif isinstance(obj, ArrayObject):
            todo.extend(obj)
    return out


def _pdf_date(text: str) -> datetime:
    """A PDF date D:YYYYMMDDHHmmSS+HH'mm' as an aware datetime."""
    m = re.fullmatch(r"D:(\d{14})([+-]\d\d)'(\d\d)'", text)
    assert m, text
    return datetime.strptime(m[1] + m[2] + m[3], "%Y%m%d%H%M%S%z")


def pdfa_problems(data: bytes) -> list[str]:
    """What in data breaks a PDF/A-2b rule we can check by structure (empty when none)."""
    problems: list[str] = []
    head = data.split(b"\n", 2)
    version = re.fullmatch(rb"%PDF-(\d\.\d)", head[0])
    if not version or version[1] < b"1.7":
        problems.append(f"header {head[0]!r}: PDF/A-2 is PDF 1.7")
    if not (head[1].startswith(b"%") and sum(b > 127 for b in head[1]) >= 4):
        problems.append("no binary comment after the header")
    reader = PdfReader(io.BytesIO(data))
    trailer = reader.trailer
    if "/Encrypt" in trailer or reader.is_encrypted:
        problems.append("encrypted")
    ids = trailer.get("/ID")
    if not ids or len(ids) != 2 or not all(len(bytes(i.original_bytes)) == 16 for i in ids):
        problems.append(f"trailer /ID {ids!r}")
    root = trailer["/Root"].get_object()
    problems += _xmp_problems(root, trailer.get("/Info"))
    problems += _intent_problems(root)
    for obj in _objects(reader):
        keys = set(obj.keys())
        if keys & {"/JavaScript", "/JS", "/AA", "/EmbeddedFiles"}:
            problems.append(f"forbidden key {sorted(keys & {'/JavaScript', '/JS', '/AA', '/EmbeddedFiles'})}")
        if obj.get("/S") in ("/JavaScript", "/Launch"):
            problems.append(f"action {obj.get('/S')}")
        if obj.get("/Type") == "/Group" and obj.get("/S") == "/Transparency":
            problems.append("a transparency group")
        if obj.get("/Subtype") == "/Image" and ("/SMask" in obj or "/Mask" in obj):
            problems.append("an image with a soft mask or mask")
        if obj.get("/Type") == "/Font" and obj.get("/Subtype") != "/Type0":
            descriptor = obj.get("/FontDescriptor")
            embedded = descriptor is not None and {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
            if not embedded:
                problems.append(f"font {obj.get('/BaseFont')} not embedded")
    return problems


def _xmp_problems(root: DictionaryObject, info_ref: Any) -> list[str]:
    """The XMP stream: pdfaid part 2 conformance B, unfiltered, and the same title, dates, creator and producer as
    the Info dictionary."""
    meta = root.get("/Metadata")
    if meta is None:
        return ["no XMP metadata"]
    stream = meta.get_object()
    assert isinstance(stream, StreamObject)
    problems = [] if "/Filter" not in stream else ["the XMP stream is filtered"]
    if stream.get("/Type") != "/Metadata" or stream.get("/Subtype") != "/XML":
        problems.append("the metadata stream is not /Type /Metadata /Subtype /XML")
    desc = ElementTree.fromstring(stream.get_data()).find(".//rdf:Description", NS)
    assert desc is not None

    def field(path: str) -> str | None:
        """A property written as an element or as an attribute of the description."""
        found = desc.find(path, NS)
        prefix, name = path.split(":")
        return found.text if found is not None else desc.get(f"{{{NS[prefix]}}}{name}")

    if field("pdfaid:part") != "2" or field("pdfaid:conformance") != "B":
        problems.append(f"pdfaid {field('pdfaid:part')}{field('pdfaid:conformance')}, not 2B")
    info = info_ref.get_object() if info_ref is not None else {}
    title = desc.find("dc:title/rdf:Alt/rdf:li", NS)
    if "/Title" in info and (title is None or title.text != info["/Title"]):
        problems.append("dc:title differs from the Info title")
    created = field("xmp:CreateDate")
    if not created:
        problems.append("no xmp:CreateDate")
    elif "/CreationDate" in info and datetime.fromisoformat(created) != _pdf_date(info["/CreationDate"]):
        problems.append(f"xmp:CreateDate {created} is not the Info CreationDate {info['/CreationDate']}")
    for key, path in (("/Producer", "pdf:Producer"), ("/Creator", "xmp:CreatorTool")):
        if key in info and field(path) != info[key]:
            problems.append(f"{path} {field(path)!r} differs from Info {key} {info[key]!r}")
    return problems


def _intent_problems(root: DictionaryObject) -> list[str]:
    """One GTS_PDFA1 output intent whose DestOutputProfile is an embedded RGB ICC profile (N 3) of version ≤ 4."""
    intents = [i.get_object() for i in root.get("/OutputIntents", [])]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        return [f"{len(pdfa)} GTS_PDFA1 output intents"]
    profile = pdfa[0].get("/DestOutputProfile")
    if profile is None:
        return ["the output intent has no DestOutputProfile"]
    profile = profile.get_object()
    icc = profile.get_data()
    problems = [] if profile.get("/N") == 3 else [f"DestOutputProfile /N {profile.get('/N')}"]
    if icc[36:40] != b"acsp" or icc[16:20] != b"RGB " or icc[12:16] not in (b"mntr", b"prtr", b"scnr", b"spac"):
        problems.append("the DestOutputProfile is not an RGB output ICC profile")
    if icc[8] > 4:
        problems.append(f"ICC profile version {icc[8]}")
    return problems


def test_the_case_file_pdf_keeps_pdfa_2b_rules_and_archive_prints_no_third_party_lines(
    st: Stack, tmp_path: Path, emulator: EmulatorServer, database_url: str, redis_url: str
) -> None:
    code = archived(st, f"网传某商户被执法人员推搡{ODD} https://weibo.com/7/7")
    cfg = write_config(tmp_path, emulator.url, database_url, redis_url)
    out = liaowang(cfg, "archive", code, "--out", str(tmp_path / "a.zip"))
    assert out.returncode == 0, out.stderr
    for stream in (out.stdout, out.stderr):
        assert not [line for line in stream.splitlines() if NOISE.search(line)], stream
    assert "sha256" in out.stdout, "ours still speak"
    package = zipfile.ZipFile(tmp_path / "a.zip")
    data = package.read("案卷封面与经过.pdf")
    assert pdfa_problems(data) == []
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None
    assert reader.metadata.title.startswith("舆情处置案卷 ")
    assert code in reader.metadata.title
    pages = [re.sub(r"[\s\x00]", "", p.extract_text()) for p in reader.pages]
    assert len(pages) >= 4, "cover, 卷内目录, timeline, 备考表"
    assert all(f"—{n}—" in text for n, text in enumerate(pages, 1)), "every page is numbered"
    assert "推搡〓〓" in pages[0], "a character the font lacks is drawn as 〓, not as an empty box"
    again = tmp_path / "b.zip"
    assert liaowang(cfg, "archive", code, "--out", str(again)).returncode == 0
    assert zipfile.ZipFile(again).read("案卷封面与经过.pdf") == data, "made again, byte for byte the same"


def test_the_pdf_alone_meets_the_checks_and_says_its_date_in_beijing_time() -> None:
    from models import Item, Person
    from workflow.record import archive

    at = datetime(2026, 12, 5, 17, 30, 5, 123456, tzinfo=UTC)
    item = Item(code="YQ-20261206-001", title=f"网传执法冲突 & <视频> {ODD}", source="weibo", text="内容",
                state="archived", reported_at=at, reporter=Person(userid="zhangsan", name="张三"))  # fmt: skip
    data = archive.pdf(
        item, [("12月6日 01:30", "张三", "上报", ODD)], "2026年12月6日 01:30", at, "2026-D30-X", "30年", []
    )
    assert pdfa_problems(data) == []
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20261206013005+08'00'"
    assert reader.metadata.title == "舆情处置案卷 2026-D30-X 网传执法冲突 & <视频> 〓〓"


def test_the_checks_catch_what_pdfa_forbids() -> None:
    from fpdf import FPDF

    plain = FPDF()
    plain.add_page()
    plain.set_font("helvetica", size=12)
    plain.cell(0, 10, "hello")
    problems = pdfa_problems(bytes(plain.output()))
    assert "header b'%PDF-1.3': PDF/A-2 is PDF 1.7" in problems
    assert "no XMP metadata" in problems
    assert "0 GTS_PDFA1 output intents" in problems
    assert "font Helvetica not embedded" in problems or "font /Helvetica not embedded" in problems
    locked = FPDF()
    locked.add_page()
    locked.set_encryption("owner")
    assert "encrypted" in pdfa_problems(bytes(locked.output()))
