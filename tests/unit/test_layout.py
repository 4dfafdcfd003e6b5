"""The layout holds: one home per chapter, named by its key, and no file in app/ over 700 lines."""

from __future__ import annotations

import ast

import pytest
import yaml
from workbench.chapters import CHAPTERS, get_chapter

from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "app"
MAX_LINES = 700


def test_no_file_in_app_is_over_700_lines() -> None:
    too_long = {
        str(path.relative_to(REPO_ROOT)): n
        for path in sorted(APP.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by concern (lab logic, snippets, figures, checks): {too_long}"


def test_the_chapters_are_the_chapter_packages() -> None:
    packages = sorted(p.name for p in (APP / "workbench" / "chapters").iterdir() if (p / "__init__.py").is_file())
    assert [c.package for c in CHAPTERS] == packages
    assert [c.number for c in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_one_key_names_every_place_of_a_chapter(chapter) -> None:
    """A newcomer who knows the chapter's key knows its files."""
    places = [
        REPO_ROOT / "pages" / f"{chapter.key}.py",
        REPO_ROOT / "lessons" / "fr" / f"{chapter.key}.md",
        REPO_ROOT / "lessons" / "en" / f"{chapter.key}.md",
        REPO_ROOT / "lessons" / "exercises" / f"{chapter.key}.yaml",
        APP / "workbench" / "strings" / chapter.package,
        REPO_ROOT / "tests" / "pages" / f"test_{chapter.package}.py",
    ]
    ui = APP / "workbench" / "ui" / "chapters"
    places.append(ui / f"{chapter.package}.py" if (ui / f"{chapter.package}.py").exists() else ui / chapter.package)
    missing = [str(p.relative_to(REPO_ROOT)) for p in places if not p.exists()]
    assert not missing
    assert get_chapter(chapter.key) is chapter


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_pages_are_one_call(chapter) -> None:
    tree = ast.parse((REPO_ROOT / "pages" / f"{chapter.key}.py").read_text(encoding="utf-8"))
    calls = [node for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    assert len(calls) == 1
    assert ast.unparse(calls[0]) == f"render_chapter({chapter.key!r})"


def test_declared_tabs_and_checks_exist() -> None:
    import importlib

    from workbench.core.exercises import load_exercises, resolve_check
    from workbench.ui.chapter_page import tab_function

    for chapter in CHAPTERS:
        for tab in chapter.tabs:
            assert callable(tab_function(chapter, tab)), (chapter.key, tab)
        for ref in chapter.checks:
            module, _, name = ref.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), ref
        declared = {ref.partition(":")[2] for ref in chapter.checks}
        used = {h.check.partition(":")[2] for h in load_exercises(chapter.key).hands_on}
        assert used == declared, chapter.key
        for hands_on in load_exercises(chapter.key).hands_on:
            assert resolve_check(hands_on.check) is not None


def test_navigation_titles_come_from_the_lessons() -> None:
    nav = yaml.safe_load((APP / "workbench" / "strings" / "nav.yaml").read_text(encoding="utf-8"))
    assert not [key for key in nav if key.startswith("ch")]
