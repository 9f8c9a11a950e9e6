"""The layers import one way: every import of every application module (top-level or inside a function) is read with
ast and checked against the layering of docs/architecture.md; the wiring of a process is done in one place (wiring)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package → the application packages it may import (anything else of ours is a violation). cli and wiring sit on top
# and may import everything; sandbox (the WeCom emulator) stands apart and imports none of Liaowang.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "models": frozenset({"core"}),
    "migrations": frozenset({"core", "models"}),
    "workflow": frozenset({"core", "models"}),
    "handlers": frozenset({"core", "models", "workflow"}),
    "jobs": frozenset({"core", "models", "workflow"}),
    "bot": frozenset({"core", "models", "workflow", "migrations"}),
    "sandbox": frozenset(),
}
OURS = frozenset(MAY_IMPORT) | {"cli", "wiring", "wsgi"}
# what hands a higher layer's function to a lower one: called only by the composition root
WIRING_CALLS = frozenset({"set_runtime", "set_notifier", "set_job_runner", "set_handler", "subscribe"})
WIRING_HOME = frozenset({"wiring"})
# modules that write records and must not send anything themselves (their subscribers do, declared by wiring)
SILENT = {
    "workflow.engine.audit": frozenset(
        {"workflow.people.appchat", "workflow.engine.outbox", "workflow.engine.notify", "jobs", "bot"}
    )
}


def modules() -> Iterator[tuple[str, Path]]:
    """Yield (dotted name, path) of every application module."""
    for package in sorted(OURS):
        folder = ROOT / package
        if folder.is_dir():
            for path in sorted(folder.rglob("*.py")):
                yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path
        elif (ROOT / f"{package}.py").is_file():
            yield package, ROOT / f"{package}.py"


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line, dotted module) of every absolute import in the file, wherever it stands."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def calls(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line, name) of every call of a plain or attribute name in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                yield node.lineno, node.func.id
            elif isinstance(node.func, ast.Attribute):
                yield node.lineno, node.func.attr


def test_the_modules_are_found() -> None:
    found = {name.split(".")[0] for name, _path in modules()}
    assert {"core", "models", "workflow", "handlers", "jobs", "bot", "wiring"} <= found


def test_every_layer_imports_only_the_layers_below_it() -> None:
    wrong: dict[str, str] = {}  # "file:line" → the module it imports (the shortest name seen on that line)
    for name, path in modules():
        package = name.split(".")[0]
        allowed = MAY_IMPORT.get(package)
        if allowed is None:  # cli, wiring, wsgi: the top
            continue
        for line, target in imports(path):
            top = target.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line}"
            if top in OURS and top != package and top not in allowed:
                wrong[where] = min(wrong.get(where, target), target, key=len)
    assert not wrong, "imports against the layering:\n" + "\n".join(
        f"{w} imports {t}" for w, t in sorted(wrong.items())
    )


@pytest.mark.parametrize(("module", "banned"), sorted(SILENT.items()))
def test_writing_a_record_sends_nothing(module: str, banned: frozenset[str]) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    wrong = [
        f"{module}:{line} imports {target}"
        for line, target in imports(path)
        if any(target == b or target.startswith(b + ".") for b in banned)
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_composition_root_wires_the_process() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} calls {called}()"
        for name, path in modules()
        if name.split(".")[0] not in WIRING_HOME
        for line, called in calls(path)
        if called in WIRING_CALLS
    ]
    assert not wrong, "only wiring.wire connects the layers:\n" + "\n".join(wrong)


def test_a_violation_would_be_seen(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from handlers.runner import handle\n    import bot.app\n", encoding="utf-8")
    assert sorted(target for _line, target in imports(sample)) == [
        "bot.app",
        "handlers.runner",
        "handlers.runner.handle",
    ]


def test_workflow_is_rooms_by_domain_each_saying_what_it_owns() -> None:
    """workflow/ holds subpackages only (engine, incident, duty, record, appraisal, people, views), each with a
    docstring of what it owns, so a newcomer finds a rule by its domain."""
    workflow = ROOT / "workflow"
    loose = sorted(p.name for p in workflow.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules outside a domain package: {loose}"
    rooms = sorted(p for p in workflow.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert {r.name for r in rooms} >= {"engine", "incident", "duty", "record", "appraisal", "people", "views"}
    for room in rooms:
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"workflow/{room.name} has no docstring"
        assert len(doc) > 60, f"workflow/{room.name} says too little about what it owns"


def test_the_type_checker_runs_strict_with_allowances_only_at_untyped_libraries() -> None:
    """mypy --strict on the application packages: pyproject keeps `strict = true`; the overrides name only modules
    that extend an untyped library class, and the untyped calls allowed are the libraries'."""
    import tomllib

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert conf["strict"] is True
    assert set(conf["files"]) >= {"models", "core", "workflow", "handlers", "jobs", "bot", "wiring"}
    assert set(conf.get("untyped_calls_exclude", [])) <= {"prometheus_client", "rq"}
    ours = [o for o in conf.get("overrides", []) if any(m.split(".")[0] in MAY_IMPORT for m in o["module"])]
    for o in ours:
        assert set(o) == {"module", "disallow_subclassing_any"}, o
