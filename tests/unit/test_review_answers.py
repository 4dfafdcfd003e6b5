"""Every « Vérifiez vos acquis » / "Check yourself" question has a model answer (lessons/review/), in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.lessons import load_lesson
from workbench.core.review import check_review, load_review, review_questions, section_questions
from workbench.core.settings import LANGUAGES

from tests.conftest import REPO_ROOT

LESSONS = REPO_ROOT / "lessons"


def test_every_question_of_every_lesson_has_a_model_answer_and_none_is_left_over() -> None:
    assert check_review(LESSONS) == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", [c.key for c in CHAPTERS])
def test_each_chapter_asks_three_to_six_questions_and_answers_each_in_a_few_sentences(key: str, lang: str) -> None:
    questions = review_questions(load_lesson(key, lang, LESSONS), LESSONS)
    assert 3 <= len(questions) <= 6, key
    for question in questions:
        assert question.answer, f"{key} [{lang}] « {question.text} »"
        sentences = len(re.findall(r"[.!?](?:\s|$)", re.sub(r"`[^`]*`|\$[^$]*\$", "", question.answer)))
        assert 3 <= sentences <= 8, f"{key} [{lang}] « {question.text} »: {sentences} sentences"


def test_the_course_has_47_questions_per_language() -> None:
    for lang in LANGUAGES:
        assert sum(len(review_questions(load_lesson(c.key, lang, LESSONS), LESSONS)) for c in CHAPTERS) == 47


def test_french_model_answers_are_written_the_french_way() -> None:
    """Numbers and percentages in French: `0,03` and `69 %`, not `0.03` or `69%` (code, math, versions aside)."""
    for chapter in CHAPTERS:
        for entry in load_review(chapter.key, LESSONS):
            prose = re.sub(r"```.*?```|`[^`]*`|\$[^$]*\$|Python \d+(?:\.\d+)+", "", entry["answer"]["fr"], flags=re.S)
            where = f"{chapter.key}: « {entry['question']['fr']} »"
            assert not re.search(r"\d%", prose), f"{where}: write `69 %` in French"
            assert not re.search(r"(?<![\w.])\d+\.\d+(?![\w.])", prose), f"{where}: decimal comma"
            assert not re.search(r"\d,\d{3}\b", prose), f"{where}: `50 000`, not `50,000`"


def _copy(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(LESSONS, tmp_path / "lessons")
    return tmp_path / "lessons"


def test_a_reworded_bullet_is_named_until_its_answer_follows(tmp_path: Path) -> None:
    lessons = _copy(tmp_path)
    path = lessons / "en" / "08_cicd.md"
    old = "What happens to the production model when the test stage fails?"
    path.write_text(path.read_text(encoding="utf-8").replace(old, "What happens to production when tests fail?"))
    problems = check_review(lessons)
    assert any("no en model answer for « What happens to production when tests fail? »" in p for p in problems)
    assert any(f"the en question « {old} » is no longer in the lesson" in p for p in problems)
    assert len(problems) == 2, problems


def test_a_new_bullet_without_an_answer_is_named(tmp_path: Path) -> None:
    lessons = _copy(tmp_path)
    path = lessons / "fr" / "06_docker.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("## Vérifiez vos acquis\n\n", "## Vérifiez vos acquis\n\n- Qu'est-ce qu'une image ?\n")
    )
    assert check_review(lessons) == [
        "lessons/review/06_docker.yaml: no fr model answer for « Qu'est-ce qu'une image ? » (lessons/fr)"
    ]


def test_a_wrapped_bullet_is_one_question() -> None:
    body = "- Pour chaque rôle (expert métier),\n  donnez un artefact.\n- Deux ?\n\nTexte."
    assert section_questions(body) == ["Pour chaque rôle (expert métier), donnez un artefact.", "Deux ?"]


def test_a_chapter_without_a_review_file_shows_its_questions_without_answers(tmp_path: Path) -> None:
    lessons = _copy(tmp_path)
    (lessons / "review" / "02_fundamentals.yaml").unlink()
    questions = review_questions(load_lesson("02_fundamentals", "fr", lessons), lessons)
    assert len(questions) == 4 and all(q.answer is None for q in questions)


def test_a_question_keeps_its_key_across_languages() -> None:
    fr, en = (review_questions(load_lesson("05_mlflow", lang, LESSONS), LESSONS) for lang in ("fr", "en"))
    assert [q.key for q in fr] == [q.key for q in en]
    assert fr[0].text != en[0].text
