"""Find CJK characters a page renders as tofu (the missing-glyph box) by comparing canvas pixels."""

from __future__ import annotations

from typing import Any

PROBE = """
(extra) => {
  const text = document.body.innerText + extra;
  const chars = Array.from(new Set(text.match(/[\\u4e00-\\u9fff\\ue000-\\uf8ff]/g) || []));
  const c = document.createElement("canvas"); c.width = 48; c.height = 48;
  const g = c.getContext("2d", {willReadFrequently: true});
  const font = "32px " + getComputedStyle(document.body).fontFamily;
  const draw = (ch) => { g.clearRect(0, 0, 48, 48); g.font = font; g.fillStyle = "#000"; g.fillText(ch, 4, 38);
                         return g.getImageData(0, 0, 48, 48).data.join(""); };
  const blank = (() => { g.clearRect(0, 0, 48, 48); return g.getImageData(0, 0, 48, 48).data.join(""); })();
  const missing = draw("\\ue000");
  const bad = (ch) => { const s = draw(ch); return s === missing || s === blank; };
  return {checked: chars.length, tofu: chars.filter(bad)};
}
"""


def tofu(page_or_frame: Any, extra: str = "") -> dict[str, Any]:
    """Return {"checked": n, "tofu": [chars]} for the CJK text shown (plus extra, used to prove the probe works)."""
    result: dict[str, Any] = page_or_frame.evaluate(PROBE, extra)
    return result
