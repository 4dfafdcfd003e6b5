"""Check results are built one way: `passed(...)` / `failed(...)` from core/exercises.py, never by hand."""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

EXERCISES = REPO_ROOT / "app" / "workbench" / "core" / "exercises.py"


def _constructions(source: str) -> list[int]:
    """Lines where `CheckResult(...)` (or `x.CheckResult(...)`) is called."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "CheckResult":
                lines.append(node.lineno)
    return lines


def test_the_scan_sees_a_direct_construction() -> None:
    assert _constructions("r = CheckResult(False, ('no model',))\ns = exercises.CheckResult(True)") == [1, 2]
    assert _constructions("def f() -> CheckResult:\n    return failed('no model')") == []


def test_no_check_result_is_built_outside_the_helpers() -> None:
    """A check says `return passed(detail, evidence=...)` or `return failed(why, ...)`: one way everywhere."""
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in sorted((REPO_ROOT / "app").rglob("*.py"))
        if path != EXERCISES
        for line in _constructions(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use workbench.core.exercises.passed/failed"
