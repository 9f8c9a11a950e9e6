"""The colour profile the archive PDF declares as its PDF/A output intent: the ICC's sRGB2014 (LICENCE.txt here).

A fixed file rather than a profile made at run time (Pillow's LittleCMS writes the current time into the profile's
header, and an ICC v4.4 profile), so a re-made case file is byte for byte the same and any PDF/A reader accepts it.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SRGB = HERE / "sRGB2014.icc"
LICENCE = HERE / "LICENCE.txt"
SRGB_NAME = "sRGB IEC61966-2.1"  # the ICC registry's name for the condition (OutputConditionIdentifier)


def srgb() -> bytes:
    """Return the sRGB ICC profile's bytes; raise RuntimeError (naming the file) if the install lost it."""
    if not SRGB.is_file():
        raise RuntimeError(f"找不到色彩配置文件 {SRGB}（sRGB ICC profile missing: reinstall Liaowang)")
    return SRGB.read_bytes()
