"""The FR/EN style sheet (lessons/STYLE-SHEET.md) holds over the lessons and the UI strings."""

from __future__ import annotations

import pytest
from workbench.core import style_sheet

from tests.conftest import REPO_ROOT


def _rules(text: str, lang: str) -> list[str]:
    return [p.rule for p in style_sheet.check_text(text, lang)]


@pytest.mark.parametrize(
    "text, lang, rules",
    [
        ("Il faut ré-entraîner le modèle.", "fr", ["fr-reentrainer"]),
        ("Il faut re-entraîner le modèle.", "fr", ["fr-reentrainer"]),
        ("Il faut réentraîner le modèle.", "fr", []),
        ("Quelles features dérivent ?", "fr", ["fr-features"]),
        ("Les caractéristiques (features) dérivent.", "fr", []),
        ("On emballe le code.", "fr", ["fr-empaqueter"]),
        ("On empaquette le code.", "fr", []),
        ("Pourquoi? Parce que: voilà", "fr", ["fr-space-before", "fr-space-before"]),
        ("Pourquoi ? Parce que : voilà ; « ici »", "fr", []),
        ("le «modèle»", "fr", ["fr-guillemets", "fr-guillemets"]),
        ("Why ? Because : here", "en", ["en-space-before", "en-space-before"]),
        ("Why? Because: here; there!", "en", []),
        ("We optimise and normalise the behaviour.", "en", ["en-british", "en-british", "en-british-our"]),
        ("We optimize and normalize the behavior.", "en", []),
        ("A labelled centre.", "en", ["en-british-other", "en-british-other"]),
        ("the «model»", "en", ["en-guillemets", "en-guillemets"]),
    ],
)
def test_rules(text: str, lang: str, rules: list[str]) -> None:
    assert _rules(text, lang) == rules


def test_code_math_urls_and_placeholders_are_not_prose() -> None:
    assert _rules("Lancez `python train.py --features a:b` puis :\n```\nre-entraîner: x\n```\n", "fr") == []
    assert _rules("See https://example.com/a:b and $P(Y \\mid X)$ and {count:,}", "en") == []
    # the punctuation after code is still checked, as after a word
    assert _rules("Run `pytest` ; then `build` :", "en") == ["en-space-before", "en-space-before"]


def test_a_french_rule_never_applies_to_english_and_back() -> None:
    assert _rules("Pourquoi ? Optimise.", "en") == ["en-space-before", "en-british"]
    assert _rules("Pourquoi ? On optimise.", "fr") == []


def test_problems_point_at_the_line() -> None:
    [problem] = style_sheet.check_text("first\nsecond line ré-entraîne\n", "fr", "x.md", first_line=10)
    assert (problem.path, problem.line, problem.found) == ("x.md", 11, "ré-entraîne")


def test_lessons_their_yaml_and_the_ui_strings_follow_the_style_sheet() -> None:
    problems = style_sheet.check_style(REPO_ROOT)  # lessons, quizzes, annotations, UI strings
    assert problems == [], "\n".join(map(str, problems))


def test_the_style_sheet_is_documented_for_teachers() -> None:
    text = (REPO_ROOT / "lessons" / "STYLE-SHEET.md").read_text(encoding="utf-8")
    for word in ("réentraîner", "caractéristiques (features)", "empaqueter", "American", "**Ce qui a changé :**"):
        assert word in text
