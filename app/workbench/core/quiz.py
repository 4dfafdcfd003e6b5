"""The quiz engine: options shuffled per learner, per-option scoring, and the chapter checkpoint.

Practice questions give feedback after each answer and allow retries (the first try is recorded
apart, by `ProgressStore`). The checkpoint draws a few questions of the chapter's pool for one
learner, reveals nothing until all of them are submitted, then scores them with partial credit;
every attempt is kept. A chapter is done only when its hands-on checks pass and its checkpoint
is passed (`ChapterExercises.item_ids` lists exactly those).

Randomness is derived from a SHA-256 of the learner, chapter and question (never Python's `hash()`,
which changes between processes), so an order or a draw is the same across reruns and reloads.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workbench.core.exercises import CHECKPOINT_ID, ChapterExercises, QuizQuestion


def _rng(*parts: object) -> random.Random:
    """A random generator seeded by a stable digest of `parts`."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def option_order(learner: str, chapter_key: str, question: QuizQuestion) -> list[int]:
    """The order in which this learner sees the question's options (original indices, stable per learner)."""
    order = list(range(len(question.options)))
    _rng("options", learner, chapter_key, question.id).shuffle(order)
    return order


@dataclass(frozen=True)
class OptionVerdict:
    """One option after an answer: chosen or not, right or not."""

    index: int
    chosen: bool
    right: bool

    @property
    def outcome(self) -> str:
        """`hit` (right and chosen), `wrong` (chosen, not right), `missed` (right, not chosen) or `skipped`."""
        if self.chosen:
            return "hit" if self.right else "wrong"
        return "missed" if self.right else "skipped"


@dataclass(frozen=True)
class QuizScore:
    """The score of one answer: full credit, or partial credit for a multiple-choice question."""

    correct: bool
    score: float
    hits: int
    wrong: int
    missed: int
    options: tuple[OptionVerdict, ...]


def score_answer(question: QuizQuestion, selected: Iterable[int]) -> QuizScore:
    """Score an answer option by option.

    A single-choice question scores 1 or 0. A multiple-choice question scores
    (right options chosen − wrong options chosen) / right options, never below 0: ticking
    everything earns nothing, one right option of three earns a third.
    """
    chosen = {i for i in selected if 0 <= i < len(question.options)}
    verdicts = tuple(OptionVerdict(i, i in chosen, i in question.answer) for i in range(len(question.options)))
    hits = sum(v.outcome == "hit" for v in verdicts)
    wrong = sum(v.outcome == "wrong" for v in verdicts)
    missed = sum(v.outcome == "missed" for v in verdicts)
    correct = frozenset(chosen) == question.answer
    if question.kind == "single":
        score = 1.0 if correct else 0.0
    else:
        score = max(0.0, (hits - wrong) / len(question.answer))
    return QuizScore(correct, score, hits, wrong, missed, verdicts)


def draw_checkpoint(exercises: ChapterExercises, learner: str, attempt: int) -> tuple[QuizQuestion, ...]:
    """The questions of a learner's checkpoint attempt (1, 2, …): a fresh draw per attempt, stable for it.

    The draw covers as many of the chapter's targets (objectives, points to remember) as it can
    before repeating one, so a checkpoint never asks five variants of the same point.
    """
    rules = exercises.checkpoint
    pool = list(exercises.quiz)
    if not pool:
        return ()
    rng = _rng("checkpoint", learner, exercises.chapter_key, attempt)
    rng.shuffle(pool)
    chosen: list[QuizQuestion] = []
    covered: set[str] = set()
    for question in pool:  # first pass: each question must bring a target not covered yet
        if len(chosen) < rules.size and (not question.tests or not covered.issuperset(question.tests)):
            chosen.append(question)
            covered.update(question.tests)
    for question in pool:  # then fill up with the rest of the shuffled pool
        if len(chosen) < rules.size and question not in chosen:
            chosen.append(question)
    return tuple(chosen)


@dataclass(frozen=True)
class CheckpointResult:
    """A submitted checkpoint: the score (0–1), whether it passes, and each question's score."""

    score: float
    passed: bool
    pass_mark: float
    questions: tuple[QuizQuestion, ...]
    scores: tuple[QuizScore, ...]

    @property
    def points(self) -> float:
        """Points earned (one per question, partial credit included)."""
        return sum(s.score for s in self.scores)


def grade_checkpoint(
    exercises: ChapterExercises, questions: Iterable[QuizQuestion], answers: Mapping[str, Iterable[int]]
) -> CheckpointResult:
    """Score every question of a checkpoint; it passes when the mean score reaches the chapter's pass mark."""
    questions = tuple(questions)
    scores = tuple(score_answer(q, answers.get(q.id, ())) for q in questions)
    score = sum(s.score for s in scores) / len(scores) if scores else 0.0
    mark = exercises.checkpoint.pass_mark
    return CheckpointResult(score, score >= mark - 1e-9, mark, questions, scores)


def checkpoint_attempts(saved: object) -> list[dict]:
    """The learner's past checkpoint attempts, as kept in the progress record's answer (oldest first)."""
    if isinstance(saved, dict) and isinstance(saved.get("attempts"), list):
        return [a for a in saved["attempts"] if isinstance(a, dict)]
    return []


def checkpoint_record(saved: object, result: CheckpointResult, answers: Mapping[str, Iterable[int]]) -> dict:
    """The progress answer after one more attempt: every earlier attempt kept, this one appended."""
    attempts = checkpoint_attempts(saved)
    attempts.append(
        {
            "attempt": len(attempts) + 1,
            "at": time.time(),
            "score": round(result.score, 4),
            "passed": result.passed,
            "answers": {q.id: sorted(int(i) for i in answers.get(q.id, ())) for q in result.questions},
        }
    )
    return {"attempts": attempts}


def regrade_attempt(exercises: ChapterExercises, attempt: Mapping) -> CheckpointResult | None:
    """Grade a saved attempt again (to show it after a reload); None when its questions no longer exist."""
    by_id = {q.id: q for q in exercises.quiz}
    answers = attempt.get("answers")
    if not isinstance(answers, dict) or not answers or any(qid not in by_id for qid in answers):
        return None
    clean = {
        qid: [i for i in chosen if isinstance(i, int)] for qid, chosen in answers.items() if isinstance(chosen, list)
    }
    return grade_checkpoint(exercises, [by_id[qid] for qid in answers], clean)


__all__ = [
    "CHECKPOINT_ID",
    "CheckpointResult",
    "OptionVerdict",
    "QuizScore",
    "checkpoint_attempts",
    "checkpoint_record",
    "draw_checkpoint",
    "grade_checkpoint",
    "option_order",
    "regrade_attempt",
    "score_answer",
]
