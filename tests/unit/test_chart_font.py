"""Charts are drawn with the bundled CJK font: every character of the labels has a real glyph, not tofu."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.ft2font import FT2Font
from PIL import Image

from workflow.appraisal.bulletin_files import font_path, png

LABELS = "舆情处置考核通报各单位扣分环节用时上报交办签收首报书面报告批准回复来源中位数小时执法一队城东区局"


def _glyph(font: FT2Font, ch: str) -> np.ndarray:
    font.set_size(48, 72)
    font.set_text(ch, 0.0)
    font.draw_glyphs_to_bitmap()
    return np.asarray(font.get_image()).copy()


def test_every_label_character_has_a_glyph_and_none_is_drawn_as_the_notdef_box() -> None:
    path = str(font_path())
    with pytest.warns(UserWarning, match="missing from font"):  # a character no font has is drawn as .notdef
        notdef = _glyph(FT2Font(path), "\U0010fffd")
    for ch in LABELS:
        font = FT2Font(path)
        assert font.get_char_index(ord(ch)) != 0, f"{ch} has no glyph"
        drawn = _glyph(font, ch)
        assert drawn.any(), f"{ch} drew nothing"
        assert drawn.shape != notdef.shape or not np.array_equal(drawn, notdef), f"{ch} is drawn as tofu"


def test_the_bulletin_chart_is_a_png_with_ink_in_both_panels() -> None:
    fig = {
        "month": "2026-11",
        "base": 100,
        "units": [{"name": "执法一队", "deductions": [{"points": -2}]}, {"name": "城东区局", "deductions": []}],
        "times": {"a": {"label": "交办→签收", "median": 600, "p90": 1800}},
    }
    image = Image.open(io.BytesIO(png(fig))).convert("L")
    assert image.format is None or image.mode == "L"
    pixels = np.asarray(image)
    width = pixels.shape[1]
    assert (pixels[:, : width // 2] < 128).any(), "the deductions panel has bars and labels"
    assert (pixels[:, width // 2 :] < 128).any(), "the times panel has bars and labels"
