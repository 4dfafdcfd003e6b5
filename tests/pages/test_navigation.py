"""AppTest: Home and every chapter page, in French and English; quizzes update progress."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest
from workbench.chapters import CHAPTERS
from workbench.core.exercises import load_exercises
from workbench.core.lessons import load_lesson
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT
from tests.pages.conftest import HOME, assert_no_exception, open_app


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_home_shows_the_course_map_and_glossary(lang) -> None:
    at = open_app(lang)
    assert_no_exception(at)
    assert at.title[0].value == ("Atelier MLOps" if lang == "fr" else "MLOps Workbench")
    headings = [m.value for m in at.markdown if m.value.startswith("####")]
    assert len(headings) == len(CHAPTERS)
    for chapter in CHAPTERS:
        assert any(load_lesson(chapter.key, lang).title in h for h in headings)
    prerequisites = [c.value for c in at.caption if "@production" in c.value]
    assert len(prerequisites) == sum(1 for c in CHAPTERS if c.prerequisites)  # VII, VIII and X on the map
    assert all(("chapitre V" if lang == "fr" else "chapter V") in p for p in prerequisites)
    glossary = _glossary_lines(at)
    assert len(glossary) > 50 and all(line.startswith("- **") for line in glossary)


def _glossary_lines(at) -> list[str]:
    """One line per term (a term with several definitions has indented sub-items, left out)."""
    markdown = next(m.value for m in at.markdown if m.value.startswith("- **"))
    return [line for line in markdown.splitlines() if not line.startswith(" ")]


def test_glossary_search_filters_terms() -> None:
    at = open_app("en")
    at.text_input(key="home_glossary_query").input("alias").run()
    lines = _glossary_lines(at)
    assert 0 < len(lines) < 10
    assert all("alias" in line.lower() for line in lines)
    assert any(c.value == f"{len(lines)} term{'s' if len(lines) > 1 else ''}" for c in at.caption)
    at.text_input(key="home_glossary_query").input("no-such-term-xyz").run()
    assert any("No term matches" in i.value for i in at.info)


def test_glossary_lists_a_term_once_and_finds_it_without_accents() -> None:
    at = open_app("fr")
    at.text_input(key="home_glossary_query").input("api rest").run()
    markdown = next(m.value for m in at.markdown if m.value.startswith("- **"))
    assert markdown.count("**API REST**") == 1
    assert "_(Chapitre III)_" in markdown and "_(Chapitre VII)_" not in markdown  # duplicates merged: one definition
    at.text_input(key="home_glossary_query").input("deploiement continu").run()
    assert any(line.startswith("- **Déploiement continu**") for line in _glossary_lines(at))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_every_chapter_opens_with_its_lesson(chapter, lang) -> None:
    at = open_app(lang, chapter.key)
    assert_no_exception(at)
    lesson = load_lesson(chapter.key, lang)
    assert lesson.title in at.title[0].value
    assert chapter.roman in at.title[0].value
    section_titles = [e.label for e in at.expander]
    assert lesson.sections[0].title in section_titles
    assert len(at.button) >= len(load_exercises(chapter.key).quiz)


def test_language_switch_in_the_sidebar() -> None:
    at = open_app("fr", "05_mlflow")
    assert at.title[0].value.startswith("Chapitre V")
    at.segmented_control(key="lang").set_value("en").run()
    assert_no_exception(at)
    assert at.title[0].value.startswith("Chapter V")
    assert load_lesson("05_mlflow", "en").title in at.title[0].value


def _answer_first_question(at, chapter_key: str, correct: bool):
    question = load_exercises(chapter_key).quiz[0]
    right = sorted(question.answer)[0]
    choice = right if correct else next(i for i in range(len(question.options)) if i not in question.answer)
    prefix = f"ch{chapter_key[:2]}_{question.id.replace('-', '_')}"
    if question.kind == "single":
        at.radio(key=f"{prefix}_answer").set_value(choice).run()
    else:
        for i in question.answer if correct else [choice]:
            at.checkbox(key=f"{prefix}_answer_{i}").check().run()
    at.button(key=f"{prefix}_submit").click().run()
    return question


def test_answering_a_quiz_question_updates_progress() -> None:
    at = open_app("en", "02_fundamentals")
    question = _answer_first_question(at, "02_fundamentals", correct=True)
    assert_no_exception(at)
    assert any("Correct" in s.value for s in at.success)
    assert any(question.explanation["en"] in i.value for i in at.info)
    store = ProgressStore(get_settings().progress_db)
    assert store.completed_items(get_settings().learner) == {"02_fundamentals": {question.id}}
    total = len(load_exercises("02_fundamentals").item_ids)  # done means understood: practice alone is not enough
    assert any(p.text == f"0 of {total} exercises completed" for p in at.progress)


def test_a_wrong_answer_is_explained_and_not_counted() -> None:
    at = open_app("fr", "03_deployment_challenges")
    question = _answer_first_question(at, "03_deployment_challenges", correct=False)
    assert any("Pas tout à fait" in e.value for e in at.error)
    assert any(question.explanation["fr"] in i.value for i in at.info)
    store = ProgressStore(get_settings().progress_db)
    item = store.chapter_items(get_settings().learner, "03_deployment_challenges")[question.id]
    assert item.attempts == 1 and not item.completed


def test_saved_answers_come_back_after_a_restart() -> None:
    at = open_app("en", "02_fundamentals")
    question = _answer_first_question(at, "02_fundamentals", correct=True)
    again = open_app("en", "02_fundamentals")  # a new session, same learner and store
    assert any("Correct" in s.value for s in again.success)
    key = f"ch02_{question.id.replace('-', '_')}_answer"
    if question.kind == "single":
        assert again.radio(key=key).value == sorted(question.answer)[0]
    else:
        assert all(again.checkbox(key=f"{key}_{i}").value for i in question.answer)


def test_learner_name_keeps_progress_separate() -> None:
    at = open_app("en", "02_fundamentals")
    at.text_input(key="learner").input("zoe").run()
    _answer_first_question(at, "02_fundamentals", correct=True)
    store = ProgressStore(get_settings().progress_db)
    assert "02_fundamentals" in store.completed_items("zoe")
    assert store.completed_items(get_settings().learner) == {}


def test_the_learner_in_the_url_is_the_session_learner_on_every_page() -> None:
    """`?learner=` (a reload, a bookmark) restores the learner; the old shared folder is adopted on the way."""
    from workbench.core.learner_files import write_json

    settings = get_settings()
    write_json(settings.legacy_learner_dir("O'Brien") / "intro" / "old.json", {"kept": True})
    at = AppTest.from_file(HOME, default_timeout=60)
    at.query_params["learner"] = "O'Brien"
    at.query_params["lang"] = "en"
    at.run()
    assert at.text_input(key="learner").value == "O'Brien" and at.session_state["lang"] == "en"
    assert (settings.learner_dir("O'Brien") / "intro" / "old.json").is_file()
    at.switch_page("../pages/02_fundamentals.py")
    at.run()
    assert at.text_input(key="learner").value == "O'Brien"
    _answer_first_question(at, "02_fundamentals", correct=True)
    store = ProgressStore(settings.progress_db)
    assert "02_fundamentals" in store.completed_items("O'Brien")
    assert store.completed_items(settings.learner) == {}


def test_reset_all_progress_needs_confirmation() -> None:
    at = open_app("en", "02_fundamentals")
    _answer_first_question(at, "02_fundamentals", correct=True)
    at = open_app("en")  # Home, same learner and store
    store = ProgressStore(get_settings().progress_db)
    learner = get_settings().learner
    assert at.button(key="home_reset").disabled
    at.checkbox(key="home_reset_confirm").check().run()
    at.button(key="home_reset").click().run()
    assert_no_exception(at)
    assert store.completed_items(learner) == {}


def test_a_chapter_reset_erases_its_answers_records_and_widgets_and_nothing_else() -> None:
    from workbench.core.records import records_for

    settings = get_settings()
    learner = settings.learner
    records = records_for(settings, learner)
    records.put_json("ch03_deployment_challenges/robustness.json", [{"kept": True}])
    at = open_app("en", "02_fundamentals")
    question = _answer_first_question(at, "02_fundamentals", correct=True)
    records.update_json("ch02_fundamentals/answers.json", {"approval_rate_Urban": 70.0})
    at.session_state["ch03_marker"] = "kept"
    store = ProgressStore(settings.progress_db)
    assert "02_fundamentals" in store.completed_items(learner)
    at.checkbox(key="ch02_reset_confirm").check().run()
    at.button(key="ch02_reset").click().run()
    assert_no_exception(at)
    assert "02_fundamentals" not in store.completed_items(learner)
    assert records.keys() == ["ch03_deployment_challenges/robustness.json"]
    assert at.session_state["ch03_marker"] == "kept"
    assert f"ch02_{question.id.replace('-', '_')}_result" not in at.session_state


def test_home_does_not_import_heavy_libraries() -> None:
    code = f"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(REPO_ROOT / "app" / "Home.py")!r}, default_timeout=60)
at.run()
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({{m: m in sys.modules for m in ("mlflow", "evidently", "art", "sklearn")}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {"mlflow": False, "evidently": False, "art": False, "sklearn": False}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_unexpected_error_becomes_a_message_not_a_traceback(lang, monkeypatch) -> None:
    """The last-resort boundary: a failure the lab did not expect (here a locked store) is explained."""
    from workbench.core import tracking

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(tracking, "aliases", locked)
    monkeypatch.delenv("WORKBENCH_RAISE_ERRORS")
    at = open_app(lang, "08_cicd")
    assert_no_exception(at)
    message = at.error[-1].value
    assert "RuntimeError: database is locked" in message
    assert ("journal du serveur" if lang == "fr" else "server's log") in message
    assert at.title[0].value.startswith("Chapitre VIII" if lang == "fr" else "Chapter VIII")


def test_with_raise_errors_set_the_error_reaches_the_test(monkeypatch) -> None:
    from workbench.core import tracking

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(tracking, "aliases", locked)
    at = open_app("en", "08_cicd")
    assert [e.value for e in at.exception] and "database is locked" in at.exception[0].value
