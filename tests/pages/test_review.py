"""AppTest: the lesson's « Vérifiez vos acquis » questions, answered by the learner, then compared with a model answer."""

from __future__ import annotations

import pytest
from workbench.core.lessons import load_lesson
from workbench.core.records import records_for
from workbench.core.review import review_questions
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

CHAPTER = "05_mlflow"
LABELS = {
    "fr": ("Réponse modèle", "Comparer avec une réponse modèle"),
    "en": ("Model answer", "Compare with a model answer"),
}


def _shown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_learner_sees_a_model_answer_only_after_writing_and_comparing(lang: str) -> None:
    label, compare = LABELS[lang]
    questions = review_questions(load_lesson(CHAPTER, lang))
    at = open_app(lang, CHAPTER)
    assert_no_exception(at)
    shown = _shown(at)
    for question in questions:  # every question is asked, no answer is shown
        assert question.text in shown
        assert question.answer not in shown
    assert f"**{label}**" not in shown
    button = at.button(key="ch05_review_compare_1")
    assert button.label == compare and button.disabled  # nothing written yet: it says why
    assert "Écrivez d'abord" in button.help if lang == "fr" else "Write your answer first" in button.help

    at.text_area(key="ch05_review_answer_1").set_value("L'alias se déplace sans redéployer.").run()
    assert not at.button(key="ch05_review_compare_1").disabled
    assert questions[1].answer not in _shown(at)  # written, not compared yet
    at.button(key="ch05_review_compare_1").click().run()
    assert_no_exception(at)
    assert questions[1].answer in _shown(at)
    assert "ch05_review_compare_1" not in [b.key for b in at.button]  # compared: the button gives way to the answer
    assert all(q.answer not in _shown(at) for i, q in enumerate(questions) if i != 1)  # only the one compared

    at.run()  # a rerun keeps both the learner's answer and the model answer
    assert at.text_area(key="ch05_review_answer_1").value == "L'alias se déplace sans redéployer."
    assert questions[1].answer in _shown(at)
    saved = records_for(get_settings(), get_settings().learner).get_json("ch05_mlflow/review_answers.json")
    assert saved["answers"][questions[1].key] == "L'alias se déplace sans redéployer."

    again = open_app("en" if lang == "fr" else "fr", CHAPTER)  # a new session, in the other language
    other = review_questions(load_lesson(CHAPTER, "en" if lang == "fr" else "fr"))
    assert again.text_area(key="ch05_review_answer_1").value == "L'alias se déplace sans redéployer."
    assert other[1].answer in _shown(again)


def test_a_chapter_reset_clears_the_learner_answers() -> None:
    from workbench.chapters import get_chapter
    from workbench.ui.chapter_state import reset_chapter

    at = open_app("fr", CHAPTER)
    at.text_area(key="ch05_review_answer_0").set_value("Un paramètre est une entrée.").run()
    learner = get_settings().learner
    assert records_for(get_settings(), learner).get_json("ch05_mlflow/review_answers.json")
    from workbench.core.progress import ProgressStore

    state = {"ch05_review_answer_0": "Un paramètre est une entrée.", "lang": "fr"}
    reset_chapter(get_chapter(CHAPTER), learner, store=ProgressStore(get_settings().progress_db), state=state)
    assert state == {"lang": "fr"}
    assert records_for(get_settings(), learner).get_json("ch05_mlflow/review_answers.json") is None
    assert open_app("fr", CHAPTER).text_area(key="ch05_review_answer_0").value == ""


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_teacher_signed_in_by_a_join_link_sees_every_model_answer(monkeypatch, lang: str) -> None:
    from tests.pages.conftest import open_class_app

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    at = open_class_app(lang, "prof", CHAPTER, role="teacher")
    assert_no_exception(at)
    shown = _shown(at)
    questions = review_questions(load_lesson(CHAPTER, lang))
    for question in questions:
        assert question.answer in shown, question.text
    assert not [b for b in at.button if str(b.key).startswith("ch05_review_compare")]

    learner = open_class_app(lang, "lea", CHAPTER)  # the same page, for a learner of the class
    assert_no_exception(learner)
    assert all(q.answer not in _shown(learner) for q in questions)
