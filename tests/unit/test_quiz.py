"""The quiz engine: per-learner shuffling, per-option credit, the checkpoint draw and its records."""

from __future__ import annotations

import subprocess
import sys

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.exercises import (
    CHECKPOINT_ID,
    CheckpointRules,
    ExerciseError,
    QuizQuestion,
    load_exercises,
    parse_exercises,
)
from workbench.core.quiz import (
    checkpoint_attempts,
    checkpoint_record,
    draw_checkpoint,
    grade_checkpoint,
    option_order,
    regrade_attempt,
    score_answer,
)

from tests.conftest import REPO_ROOT

TEXT = {"fr": "x", "en": "x"}


def _question(qid: str = "q", kind: str = "multiple", n: int = 5, answer=(0, 1, 3)) -> QuizQuestion:
    return QuizQuestion(
        qid, kind, TEXT, tuple({"fr": f"o{i}", "en": f"o{i}"} for i in range(n)), frozenset(answer), TEXT
    )


def test_option_order_is_a_stable_permutation_that_depends_on_the_learner() -> None:
    question = load_exercises("05_mlflow").quiz[0]
    order = option_order("ana", "05_mlflow", question)
    assert sorted(order) == list(range(len(question.options)))
    assert option_order("ana", "05_mlflow", question) == order  # every rerun
    pool = [q for c in CHAPTERS for q in load_exercises(c.key).quiz]
    differs = sum(option_order("ana", "x", q) != option_order("bob", "x", q) for q in pool)
    assert differs > len(pool) // 2  # two learners mostly see different orders
    moved = sum(option_order("ana", "x", q) != list(range(len(q.options))) for q in pool)
    assert moved > len(pool) // 2  # the YAML order is not what learners see


def test_option_order_is_the_same_in_another_process() -> None:
    """A reload may land in another server process: the order must not come from Python's salted hash()."""
    code = (
        "from workbench.core.exercises import load_exercises; from workbench.core.quiz import option_order;"
        "print([option_order('ana', '05_mlflow', q) for q in load_exercises('05_mlflow').quiz])"
    )
    env_runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO_ROOT / "app"), "PATH": "/usr/bin:/bin"},
        ).stdout
        for seed in ("1", "2")
    ]
    here = str([option_order("ana", "05_mlflow", q) for q in load_exercises("05_mlflow").quiz])
    assert env_runs[0].strip() == env_runs[1].strip() == here


@pytest.mark.parametrize(
    ("selected", "score", "hits", "wrong", "missed"),
    [
        ([0, 1, 3], 1.0, 3, 0, 0),
        ([0, 1], 2 / 3, 2, 0, 1),
        ([0, 2], 0.0, 1, 1, 2),
        ([0, 1, 2], 1 / 3, 2, 1, 1),
        ([0, 1, 2, 3, 4], 1 / 3, 3, 2, 0),  # ticking everything is not a strategy
        ([2, 4], 0.0, 0, 2, 3),
    ],
)
def test_multiple_choice_earns_partial_credit_option_by_option(selected, score, hits, wrong, missed) -> None:
    scored = score_answer(_question(), selected)
    assert scored.score == pytest.approx(score)
    assert (scored.hits, scored.wrong, scored.missed) == (hits, wrong, missed)
    assert scored.correct == (sorted(selected) == [0, 1, 3])
    outcomes = [v.outcome for v in scored.options]
    assert outcomes.count("hit") == hits and outcomes.count("missed") == missed


def test_single_choice_is_all_or_nothing() -> None:
    question = _question(kind="single", n=4, answer=(2,))
    assert score_answer(question, [2]).score == 1.0 and score_answer(question, [2]).correct
    assert score_answer(question, [1]).score == 0.0 and not score_answer(question, [1]).correct
    assert score_answer(question, [9]).score == 0.0  # an index from a stale page counts for nothing


def test_the_pools_carry_a_why_per_option_of_multiple_choice_questions() -> None:
    multiples = [q for c in CHAPTERS for q in load_exercises(c.key).quiz if q.kind == "multiple"]
    assert multiples
    for question in multiples:
        assert all(question.option_why(i) for i in range(len(question.options))), question.id
        assert question.tests, question.id


def test_chapter_done_counts_hands_on_and_checkpoint_not_practice() -> None:
    exercises = load_exercises("05_mlflow")
    assert exercises.item_ids == (*(h.id for h in exercises.hands_on), CHECKPOINT_ID)
    assert not set(exercises.item_ids) & {q.id for q in exercises.quiz}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_a_checkpoint_draw_is_stable_per_attempt_and_fresh_on_retake(chapter) -> None:
    exercises = load_exercises(chapter.key)
    first = draw_checkpoint(exercises, "ana", 1)
    assert len(first) == min(exercises.checkpoint.size, len(exercises.quiz))
    assert len({q.id for q in first}) == len(first)
    assert draw_checkpoint(exercises, "ana", 1) == first
    assert draw_checkpoint(exercises, "ana", 2) != first
    assert draw_checkpoint(exercises, "bob", 1) != first
    targets = [t for q in first for t in q.tests]
    all_targets = {t for q in exercises.quiz for t in q.tests}
    assert len(set(targets)) >= min(len(first), len(all_targets))  # no draw asks one point over and over


def test_grading_a_checkpoint_uses_the_pass_mark_and_keeps_every_attempt() -> None:
    exercises = load_exercises("05_mlflow")
    questions = draw_checkpoint(exercises, "ana", 1)
    right = {q.id: sorted(q.answer) for q in questions}
    result = grade_checkpoint(exercises, questions, right)
    assert result.score == 1.0 and result.passed and result.points == len(questions)
    one_wrong = dict(right)
    single = next(q for q in questions if q.kind == "single")
    one_wrong[single.id] = [next(i for i in range(len(single.options)) if i not in single.answer)]
    partial = grade_checkpoint(exercises, questions, one_wrong)
    assert partial.score == pytest.approx((len(questions) - 1) / len(questions))
    assert partial.passed == (partial.score >= exercises.checkpoint.pass_mark)
    nothing = grade_checkpoint(exercises, questions, {})
    assert nothing.score == 0 and not nothing.passed

    saved = checkpoint_record(None, partial, one_wrong)
    saved = checkpoint_record(saved, result, right)
    attempts = checkpoint_attempts(saved)
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert [a["passed"] for a in attempts] == [partial.passed, True]
    again = regrade_attempt(exercises, attempts[0])
    assert again is not None and again.score == pytest.approx(partial.score)
    assert regrade_attempt(exercises, {"answers": {"no-such-question": [0]}}) is None
    assert checkpoint_attempts("garbage") == [] and checkpoint_attempts({"attempts": "x"}) == []


def test_checkpoint_rules_come_from_the_yaml() -> None:
    base = {"quiz": [], "hands_on": []}
    assert parse_exercises(base, "x").checkpoint == CheckpointRules()
    assert parse_exercises({**base, "checkpoint": {"size": 4, "pass_mark": 0.5}}, "x").checkpoint == CheckpointRules(
        4, 0.5
    )
    for bad in ({"size": 0}, {"pass_mark": 1.5}, {"size": "many"}, "six"):
        with pytest.raises(ExerciseError, match="checkpoint"):
            parse_exercises({**base, "checkpoint": bad}, "x")


def test_no_exercise_may_take_the_checkpoint_id() -> None:
    question = {"id": CHECKPOINT_ID, "prompt": TEXT, "options": [TEXT, TEXT], "answer": [0], "explanation": TEXT}
    with pytest.raises(ExerciseError, match="unique"):
        parse_exercises({"quiz": [question]}, "x")


def test_a_walkthrough_is_open_to_teachers_and_to_a_learner_who_passed_or_chose_to_see_it() -> None:
    from workbench.core.exercises import solution_visible

    exercise = next(h for h in load_exercises("06_docker").hands_on if h.id == "entrypoint-cmd")
    assert exercise.solution and "ENTRYPOINT" in exercise.solution["fr"]
    assert not solution_visible(exercise, teacher=False, completed=False, solution_seen=False)
    assert solution_visible(exercise, teacher=False, completed=False, solution_seen=True)
    assert solution_visible(exercise, teacher=False, completed=True, solution_seen=False)
    assert solution_visible(exercise, teacher=True, completed=False, solution_seen=False)
