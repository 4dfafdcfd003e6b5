"""The learner's name survives a reload, a page change and a bookmark (it travels in the URL as ?learner=)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from workbench.core.exercises import load_exercises

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e
NAME = "Zoé O'Brien"


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _name_field(page):
    return page.locator('[data-testid="stSidebar"] input[type="text"]').first


def test_the_learner_survives_reload_navigation_and_bookmark(browser, app_url) -> None:
    exercises = load_exercises("06_docker")
    question = next(q for q in exercises.quiz if q.kind == "single" and not set("`*_[") & set(q.prompt["fr"]))
    right = question.options[sorted(question.answer)[0]]["fr"].replace("`", "")
    total = len(exercises.item_ids)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_url}/06_docker")
    wait_until_idle(page)
    _name_field(page).fill(NAME)
    _name_field(page).press("Enter")
    wait_until_idle(page)
    assert _query(page)["learner"] == [NAME]
    card = page.locator('[data-testid="stVerticalBlock"]').filter(has_text=question.prompt["fr"]).last
    card.locator('[data-testid="stRadio"] label').filter(has_text=right).first.click()
    wait_until_idle(page)
    card.get_by_role("button", name="Valider").click()
    wait_until_idle(page)
    page.get_by_text("Réussi du premier coup").first.wait_for(timeout=30_000)  # the learner's answer, back

    page.reload()  # F5
    wait_until_idle(page)
    expect(_name_field(page)).to_have_value(NAME, timeout=15_000)
    page.get_by_text("Réussi du premier coup").first.wait_for(timeout=30_000)  # the learner's answer, back

    page.locator('[data-testid="stSidebarNav"] a').first.click()  # Home, through the navigation
    wait_until_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    wait_until_idle(page)
    assert _query(page) == {"learner": [NAME], "lang": ["en"]}
    bookmark = f"{app_url}/06_docker?{urlsplit(page.url).query}"
    context.close()

    other = browser.new_context(viewport={"width": 1400, "height": 1000})  # a new browser session
    page = other.new_page()
    page.goto(bookmark)
    wait_until_idle(page)
    expect(_name_field(page)).to_have_value(NAME, timeout=15_000)
    page.get_by_text("Right at the first try").first.wait_for(timeout=30_000)
    assert page.get_by_text(f"0 of {total} exercises completed").count() == 1
    other.close()
