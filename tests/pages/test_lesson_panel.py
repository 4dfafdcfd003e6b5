"""Every chapter page says how current it is and offers its one-page summary, in both languages."""

from __future__ import annotations

import pytest
from workbench.core import currency, formatting

from tests.pages.conftest import assert_no_exception, open_app


@pytest.mark.parametrize("lang, start", [("fr", "À jour au "), ("en", "Up to date as of ")])
def test_chapter_shows_up_to_date_line_and_summary_downloads(lang: str, start: str) -> None:
    at = open_app(lang, "05_mlflow")
    assert_no_exception(at)
    pins = currency.load_pins()
    [line] = [c.value for c in at.caption if c.value.startswith(start)]
    assert f"MLflow {pins.versions['mlflow']}" in line and f"Python {pins.python_floor}" in line
    assert formatting.date(pins.tested_on, lang) in line  # "3 décembre 2026" in French, "December 3, 2026" in English
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    html_label = "Fiche résumé (HTML)" if lang == "fr" else "One-page summary (HTML)"
    pdf_label = "Fiche résumé (PDF)" if lang == "fr" else "One-page summary (PDF)"
    assert {html_label, pdf_label} <= set(buttons)
