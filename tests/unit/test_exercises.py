"""Exercises: every chapter's quiz parses, has >= 3 questions, and every check resolves."""

from __future__ import annotations

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.exercises import (
    ExerciseError,
    grade_quiz,
    load_exercises,
    parse_exercises,
    resolve_check,
)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_each_chapter_has_a_quiz_of_at_least_three_questions(chapter) -> None:
    exercises = load_exercises(chapter.key)
    assert len(exercises.quiz) >= 3
    assert len(set(exercises.item_ids)) == len(exercises.item_ids)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_every_hands_on_check_resolves_to_a_function(chapter) -> None:
    for exercise in load_exercises(chapter.key).hands_on:
        assert callable(resolve_check(exercise.check))


def _question(**overrides):
    q = {
        "id": "q1",
        "kind": "single",
        "prompt": {"fr": "Question ?", "en": "Question?"},
        "options": [{"fr": "oui", "en": "yes"}, {"fr": "non", "en": "no"}],
        "answer": [1],
        "explanation": {"fr": "Parce que.", "en": "Because."},
    }
    q.update(overrides)
    return q


def test_grade_single_and_multiple() -> None:
    ex = parse_exercises({"quiz": [_question(), _question(id="q2", kind="multiple", answer=[0, 1])]}, "x")
    single, multiple = ex.quiz
    assert grade_quiz(single, [1]) and not grade_quiz(single, [0])
    assert grade_quiz(multiple, [1, 0]) and not grade_quiz(multiple, [0])
    assert not grade_quiz(multiple, [])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"id": ""}, "unique 'id'"),
        ({"kind": "open"}, "kind"),
        ({"answer": [5]}, "answer"),
        ({"answer": [0, 1]}, "exactly one"),
        ({"prompt": {"fr": "seulement"}}, "prompt"),
        ({"options": [{"fr": "a", "en": "a"}]}, "two options"),
    ],
)
def test_parse_rejects_malformed_questions(overrides, message) -> None:
    with pytest.raises(ExerciseError, match=message):
        parse_exercises({"quiz": [_question(**overrides)]}, "x")


def test_parse_rejects_duplicate_ids() -> None:
    with pytest.raises(ExerciseError, match="unique"):
        parse_exercises({"quiz": [_question(), _question()]}, "x")


def test_resolve_check_rejects_unknown_function() -> None:
    with pytest.raises(ExerciseError, match="unknown check"):
        resolve_check("workbench.core.exercises:no_such_check")


def test_passed_and_failed_build_the_one_check_result() -> None:
    from workbench.core.exercises import CheckResult, failed, passed

    ok = passed("done", score=0.9, evidence={"run": "abc"})
    assert ok == CheckResult(True, (), "done", 0.9, {"run": "abc"})
    ko = failed("no run yet", "no alias", evidence={"runs": 0})
    assert ko == CheckResult(False, ("no run yet", "no alias"), "", None, {"runs": 0})
    assert passed().evidence == {} and failed("x").evidence == {}
