"""Fonts with a licence the bureau can ship: one OFL CJK font in the repository, nothing proprietary installed,
charts at 200 dpi, PDFs embedding it without log noise."""

from __future__ import annotations

import importlib.util
import io
import logging
import sysconfig
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from core import fonts

PROPRIETARY = ("simhei", "simsun", "simkai", "simfang", "msyh", "stheiti", "stsong")  # Windows / macOS fonts
ROOT = Path(__file__).resolve().parents[2]


def test_nothing_proprietary_is_installed_in_the_environment() -> None:
    assert importlib.util.find_spec("mplfonts") is None, "mplfonts bundles SimHei.ttf"
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("mplfonts")
    found = []
    for where in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for path in Path(where).rglob("*"):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc") and path.stem.lower().startswith(PROPRIETARY):
                found.append(str(path))
    assert found == [], f"proprietary fonts in site-packages: {found}"


def test_the_shipped_font_is_noto_sans_cjk_sc_under_the_ofl_with_its_licence_beside_it() -> None:
    font = TTFont(str(fonts.cjk_font()), lazy=True)
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
    assert "Open Font License" in (font["name"].getDebugName(13) or "")
    assert "SIL OPEN FONT LICENSE" in fonts.LICENCE.read_text(encoding="utf-8")
    assert fonts.cjk_font().stat().st_size < 5_000_000, "a subset, not the 16 MB face"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"core.fonts" = ["*.otf", "OFL.txt"]' in pyproject, "a wheel carries the font and its licence"
    assert "mplfonts" not in pyproject


def test_the_font_covers_gb2312_and_the_words_of_the_documents() -> None:
    every = "".join(chr(c) for c in range(0x4E00, 0xA000) if _gb2312(chr(c)))
    assert len(every) == 6763
    assert fonts.covers(every)
    assert fonts.covers("舆情处置考核通报各单位扣分环节用时→“”（）《》、，。：；！？—…％０１")


def _gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def test_the_chart_is_200_dpi() -> None:
    from workflow.appraisal.bulletin_files import png

    fig = {
        "month": "2026-11",
        "base": 100,
        "units": [{"name": "执法一队", "deductions": [{"points": -2}]}, {"name": "城东区局", "deductions": []}],
        "times": {"a": {"label": "交办→签收", "median": 600, "p90": 1800}},
    }
    image = Image.open(io.BytesIO(png(fig)))
    assert image.size == (2200, 1100)
    assert round(image.info["dpi"][0]) == 200


def test_a_character_the_font_lacks_is_drawn_as_the_missing_mark_without_a_warning() -> None:
    import warnings

    from workflow.appraisal.bulletin_files import plain, png

    assert plain("𠀀字队") == "〓字队"
    fig = {
        "month": "2026-11",
        "base": 100,
        "units": [{"name": "𠀀字队", "deductions": [{"points": -1}]}],
        "times": {"a": {"label": "交办→签收", "median": 600, "p90": 1800}},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for an empty box
        assert png(fig).startswith(b"\x89PNG")


def test_the_archive_pdf_embeds_the_font_without_font_tools_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    from pypdf import PdfReader

    from models import Item, Person
    from workflow.record import archive

    caplog.set_level(logging.DEBUG)
    at = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    item = Item(code="YQ-20261206-001", title="网传执法冲突", source="weibo", text="内容", state="archived",
                reported_at=at, reporter=Person(userid="zhangsan", name="张三"))  # fmt: skip
    data = archive.pdf(item, [("12月6日 09:00", "张三", "上报", "网传执法冲突")], "2026年12月6日 09:00", at)
    assert not [r for r in caplog.records if r.name.startswith("fontTools")], "fontTools INFO lines"
    reader = PdfReader(io.BytesIO(data))
    names = {str(f.get_object()["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("NotoSansCJK" in n for n in names), names
    assert "舆情处置案卷" in reader.pages[0].extract_text().replace(" ", "").replace("\x00", "")


def test_every_chinese_character_liaowang_writes_itself_is_in_the_font() -> None:
    own = set()
    for folder in ("bot", "core", "handlers", "jobs", "models", "workflow", "cli"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".toml"):
                own |= {c for c in path.read_text(encoding="utf-8") if 0x3400 <= ord(c) <= 0x9FFF}
    assert "瞭" in own
    missing = sorted(c for c in own if not fonts.covers(c))
    assert missing == [], f"add them to core/fonts/extra.txt and run tools/make_cjk_font.py: {''.join(missing)}"
