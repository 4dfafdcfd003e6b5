"""One-page chapter summaries: objectives, key terms and points to remember, as HTML and PDF."""

from __future__ import annotations

import re

import pytest
from workbench.chapters import CHAPTERS
from workbench.core import summary as sm
from workbench.core.lessons import load_lesson, parse_lesson
from workbench.core.settings import LANGUAGES

LESSON = """---
title: Surveiller un modèle
objectives: [Mesurer la **dérive** avec `PSI`, "Lire $P(\\\\hat{Y})$"]
minutes: 30
key_terms:
  - term: PSI
    definition: Indice de stabilité <script>alert(1)</script> ; au-delà de 0,25 la dérive est forte.
---
Intro.

## Le concept
Texte.

## À retenir
- La dérive des données $P(X)$, la dérive de concept $P(Y \\mid X)$.
- Deux lignes
  pour un seul point.
"""


def _summary(lang: str = "fr"):
    return sm.build_summary(parse_lesson(LESSON, "10_monitoring", lang), "À jour au 3 décembre 2026")


def test_build_summary_takes_objectives_terms_and_takeaways() -> None:
    summary = _summary()
    assert summary.heading == "Chapitre X — Surveiller un modèle"
    assert summary.objectives == ("Mesurer la **dérive** avec `PSI`", "Lire $P(\\hat{Y})$")
    assert summary.key_terms[0][0] == "PSI"
    assert summary.takeaways == (
        "La dérive des données $P(X)$, la dérive de concept $P(Y \\mid X)$.",
        "Deux lignes pour un seul point.",
    )
    assert summary.filename == "10_monitoring-resume-fr"


def test_math_becomes_unicode() -> None:
    assert sm.plain_math("$P(\\hat{Y}) \\neq P_{ref}(Y \\mid X)$") == "P(Ŷ) ≠ P_ref(Y | X)"


def test_html_is_self_contained_escaped_and_printable() -> None:
    page = sm.summary_html(_summary())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page and "@page" in page
    assert "<strong>dérive</strong>" in page and "<code>PSI</code>" in page and "P(Ŷ)" in page
    assert "<script>" not in page and "&lt;script&gt;" in page  # a definition cannot inject HTML
    assert "À jour au 3 décembre 2026" in page and "Deux lignes pour un seul point." in page
    # nothing fetched from anywhere: no URL, no external style sheet, script, font or image
    assert not re.search(r"https?://|<link|<script|<img|@import|url\(", page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_summary_fits_one_page(lang: str) -> None:
    for chapter in CHAPTERS:
        lesson = load_lesson(chapter.key, lang)
        summary = sm.build_summary(lesson, "x")
        assert summary.objectives and summary.key_terms and len(summary.takeaways) >= 5, chapter.key
        page = sm.summary_html(summary)
        assert "$" not in page and "\\" not in page, chapter.key  # all math turned into text
        pdf = sm.summary_pdf(summary)
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1, chapter.key


def test_pdf_embeds_a_unicode_font_or_falls_back_to_latin1() -> None:
    summary = _summary()
    font = sm.unicode_font()
    assert font is not None and font.name == "DejaVuSans.ttf"
    assert b"DejaVu" in sm.summary_pdf(summary)
    plain = sm._latin1(sm.build_summary(parse_lesson(LESSON.replace("0,25", "≈ 0,25 → ε"), "10_monitoring", "fr")))
    assert "~ 0,25 -> e" in plain.key_terms[0][1]
