"""Names are never paths: core.safename.safe_name, property-tested, and extracted by a naive extractor."""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.safename import FALLBACK, MAX_NAME_CHARS, safe_name

HOSTILE = [
    "../../../../x/pwn",
    "..\\..\\win.ini",
    "/etc/passwd",
    "C:\\boot.ini",
    "..",
    ".",
    "",
    "a\x00b",
    "CON",
    "nul.txt",
]
names = st.one_of(
    st.text(), st.sampled_from(HOSTILE), st.lists(st.sampled_from(["..", "/", "\\", ".", "x"])).map("".join)
)


@settings(max_examples=500)
@given(names)
def test_a_safe_name_is_one_bounded_path_component(name: str) -> None:
    out = safe_name(name)
    assert out
    assert len(out) <= MAX_NAME_CHARS
    assert "/" not in out
    assert "\\" not in out
    assert ".." not in out
    assert out not in (".", "..")
    assert not out.startswith((".", " "))
    assert not out.endswith((".", " "))
    assert not any(unicodedata.category(c)[0] == "C" for c in out)
    assert safe_name(out) == out, "idempotent"


def test_hostile_names_keep_what_they_say() -> None:
    assert safe_name("../../../../x/pwn") == "_._._._x_pwn"
    assert safe_name("..") == safe_name("") == FALLBACK
    assert safe_name("CON") == "_CON"
    assert safe_name("长" * 300 + ".pdf").endswith(".pdf")


@settings(max_examples=100)
@given(st.lists(names, min_size=1, max_size=5))
def test_a_naive_extractor_writes_only_inside_its_folder(parts: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "out"
        root.mkdir()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for i, p in enumerate(parts):
                zf.writestr(f"附件/{i:03d}-{safe_name(p)}", b"x")
        with zipfile.ZipFile(buf) as zf:
            for info in zf.infolist():  # the naive extractor: join and write, no checks
                target = os.path.join(root, info.filename)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                Path(target).write_bytes(zf.read(info))
        written = {str(p.resolve()) for p in Path(d).rglob("*") if p.is_file()}
        assert written
        assert all(w.startswith(str(root.resolve()) + os.sep) for w in written)
