"""The chapter summary in a real browser: downloaded from the page, opened offline, printed on one A4 page."""

from __future__ import annotations

import re

import pytest
from workbench.chapters import CHAPTERS
from workbench.core import currency
from workbench.core import summary as sm
from workbench.core.lessons import load_lesson
from workbench.core.settings import LANGUAGES

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.mark.parametrize("lang, label", [("fr", "Fiche résumé (HTML)"), ("en", "One-page summary (HTML)")])
def test_download_the_summary_and_open_it_offline(browser, app_url, tmp_path, lang: str, label: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{app_url}/05_mlflow" + ("?lang=en" if lang == "en" else ""))
    wait_until_idle(page)
    start = "À jour au " if lang == "fr" else "Up to date as of "
    assert page.get_by_text(start).count() == 1
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == f"05_mlflow-{'resume' if lang == 'fr' else 'summary'}-{lang}.html"
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(target.as_uri())
    assert page.locator("h1").inner_text().startswith("Chapitre V" if lang == "fr" else "Chapter V")
    assert outside == []  # self-contained: nothing fetched
    assert _pages(page.pdf(format="A4", prefer_css_page_size=True)) == 1
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_summary_prints_on_one_a4_page(page, lang: str) -> None:
    pins = currency.load_pins()
    for chapter in CHAPTERS:
        lesson = load_lesson(chapter.key, lang)
        page.set_content(sm.summary_html(sm.build_summary(lesson, currency.currency_line(lesson.text, lang, pins))))
        assert _pages(page.pdf(format="A4", prefer_css_page_size=True)) == 1, chapter.key
