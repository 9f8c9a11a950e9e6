"""The offline bundle's download for another machine: wheels only, the source-only packages apart, nothing lost."""

from __future__ import annotations

from pathlib import Path

from tools import wheelhouse

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_splits_into_wheels_and_the_source_only_archives(tmp_path: Path) -> None:
    lock = ROOT / wheelhouse.LOCK
    names = [name for name, _ in wheelhouse._blocks(lock)]
    assert "lunar-python" in names
    assert "sqlalchemy" in names
    binary = wheelhouse._part([lock], tmp_path / "b.lock", source=False).read_text("utf-8")
    source = wheelhouse._part([lock], tmp_path / "s.lock", source=True).read_text("utf-8")
    assert source.startswith("lunar-python==")
    assert "--hash=sha256:" in source, "still checked against the lock's hash"
    assert "lunar-python" not in binary
    split = [n for n, _ in wheelhouse._blocks(tmp_path / "b.lock")] + ["lunar-python"]
    assert sorted(split) == sorted(names), "every locked entry (some twice, under markers) in one of the two"


def test_a_bundle_installs_as_the_version_it_was_built_from(tmp_path: Path) -> None:
    from core.version import version

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "liaowang"\nversion = "0.2.0"\n', encoding="utf-8")
    wheelhouse._stamp(tmp_path / "pyproject.toml")
    assert f'version = "{version()}"' in (tmp_path / "pyproject.toml").read_text("utf-8")
