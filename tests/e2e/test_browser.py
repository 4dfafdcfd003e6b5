"""The real app in headless Chromium: every page opens without an error box; language switch works."""

from __future__ import annotations

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.lessons import load_lesson

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e

PAGES = [("home", "")] + [(c.key, c.key) for c in CHAPTERS]


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_opens_without_an_error(page, app_url, tmp_path, name, path) -> None:
    page.goto(f"{app_url}/{path}")
    wait_until_idle(page)
    heading = page.locator("h1").first.inner_text(timeout=30_000)
    if path:
        assert load_lesson(path, "fr").title in heading
    else:
        assert "Atelier MLOps" in heading
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_switching_to_english_translates_the_page(page, app_url) -> None:
    page.goto(f"{app_url}/05_mlflow")
    wait_until_idle(page)
    assert page.locator("h1").first.inner_text().startswith("Chapitre V")
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.wait_for_function(
        "document.querySelector('h1') && document.querySelector('h1').innerText.startsWith('Chapter V')"
    )
    wait_until_idle(page)
    assert load_lesson("05_mlflow", "en").title in page.locator("h1").first.inner_text()
    assert page.get_by_text("Your name").count() >= 1


def test_a_right_quiz_answer_in_the_browser_is_recorded_as_a_first_try(page, app_url) -> None:
    from workbench.core.exercises import load_exercises

    exercises = load_exercises("06_docker")
    plain = [q for q in exercises.quiz if q.kind == "single" and not set("`*_[") & set(q.prompt["fr"])]
    question = plain[0]
    right = question.options[sorted(question.answer)[0]]["fr"].replace("`", "")
    page.goto(f"{app_url}/06_docker")
    wait_until_idle(page)
    total = len(exercises.item_ids)
    page.get_by_text(f"0 sur {total} exercices réussis").wait_for(timeout=30_000)
    card = page.locator('[data-testid="stVerticalBlock"]').filter(has_text=question.prompt["fr"]).last
    submit = card.get_by_role("button", name="Valider")
    assert submit.is_disabled()
    card.locator('[data-testid="stRadio"] label').filter(has_text=right).first.click()
    wait_until_idle(page)
    submit.click()
    wait_until_idle(page)
    page.get_by_text("Bonne réponse").first.wait_for(timeout=15_000)
    page.get_by_text("Réussi du premier coup").first.wait_for(timeout=15_000)
    assert page.get_by_text(f"0 sur {total} exercices réussis").count() == 1  # practice alone does not finish a chapter


def test_streamlit_s_own_texts_and_the_tab_title_are_in_the_learner_s_language(page, app_url) -> None:
    """The browser tab names the page; the file uploader and "Press Enter" read French (Streamlit writes English)."""
    page.goto(f"{app_url}/07_web_apps_api")
    wait_until_idle(page)
    assert page.title() == "VII. Applications web et API · Atelier MLOps"
    page.get_by_role("tab", name="Lot (CSV)").click()
    dropzone = page.locator('[data-testid="stFileUploaderDropzone"]').first
    dropzone.wait_for(timeout=30_000)
    page.wait_for_function(  # the style sheet arrives with the page's script run, possibly after the uploader
        """() => getComputedStyle(document.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span'),
                                  '::after').content !== 'none'""",
        timeout=30_000,
    )
    shown = page.evaluate(
        """() => {
          const after = (selector) => getComputedStyle(document.querySelector(selector), '::after').content;
          const hidden = (selector) => getComputedStyle(document.querySelector(selector)).fontSize;
          const instructions = '[data-testid="stFileUploaderDropzoneInstructions"] span';
          const button = '[data-testid="stFileUploaderDropzone"] button p';
          return [after(instructions), hidden(instructions), after(button), hidden(button)];
        }"""
    )
    assert shown == ['"20 Mo au plus par fichier"', "0px", '"Parcourir"', "0px"]  # English hidden, French shown
    name = page.locator('[data-testid="stSidebar"] input[type="text"]').first
    name.click()
    name.press("End")
    name.type("x")
    hint = page.locator('[data-testid="InputInstructions"] > span').first
    hint.wait_for(state="attached", timeout=10_000)  # zero-sized: its English is hidden
    assert (
        page.evaluate("(e) => getComputedStyle(e, '::after').content", hint.element_handle()) == '"Entrée pour valider"'
    )
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.wait_for_function("document.title.startsWith('VII. Web apps') || document.title.includes('Workbench')")
    wait_until_idle(page)
    assert page.title().endswith("· MLOps Workbench")


CUT_LABELS_JS = """() => {
  const selectors = ['[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', '[data-testid="stMetricDelta"]',
                     '[data-testid="stButton"] button', '[data-testid="stWidgetLabel"]', '[data-testid="stTab"]',
                     '[data-testid="stDownloadButton"] button', '[data-testid="stPageLink"]'];
  const cut = [];
  for (const selector of selectors) for (const element of document.querySelectorAll(selector)) {
    if (!element.offsetParent) continue;
    for (const part of [element, ...element.querySelectorAll('*')]) {
      if (part.clientWidth > 0 && part.scrollWidth > part.clientWidth + 1 && getComputedStyle(part).overflow !== 'visible') {
        cut.push(element.innerText.replace(/\\s+/g, ' ').trim());
        break;
      }
    }
  }
  return cut;
}"""


def test_no_label_is_cut_in_french_on_a_laptop_screen(browser, app_url) -> None:
    """Metric labels, buttons, widget labels and tabs fit (Streamlit cuts them with "…" otherwise)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cut = {}
    for name, path in PAGES:
        page.goto(f"{app_url}/{path}")
        wait_until_idle(page)
        tabs = page.locator('[data-testid="stMain"] [data-testid="stTab"]')
        found = set(page.evaluate(CUT_LABELS_JS))
        for i in range(tabs.count()):
            if tabs.nth(i).is_visible():
                tabs.nth(i).click()
                page.wait_for_timeout(300)
                found |= set(page.evaluate(CUT_LABELS_JS))
        if found:
            cut[name] = sorted(found)
    context.close()
    assert cut == {}
