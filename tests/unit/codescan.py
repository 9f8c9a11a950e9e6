"""Reading our own code for the architecture tests: every call in some files, and a call's dotted name."""

from __future__ import annotations

import ast
from pathlib import Path


def calls(paths: list[Path]) -> list[tuple[Path, ast.Call]]:
    """Return every call expression in paths, with its file."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [(path, node) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return found


def dotted(func: ast.expr) -> str:
    """Return a call target as written ("procedure.apply", "record"), or "" for anything else."""
    if isinstance(func, ast.Attribute):
        return f"{dotted(func.value)}.{func.attr}"
    return func.id if isinstance(func, ast.Name) else ""
