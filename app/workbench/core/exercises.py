"""Exercises: quizzes and hands-on checks, defined next to the lessons.

`lessons/exercises/NN_slug.yaml` holds both languages side by side::

    quiz:
      - id: alias-vs-stage            # unique in the chapter, never renamed (progress is keyed on it)
        kind: single                  # single | multiple
        prompt: {fr: "...", en: "..."}
        options:
          - {fr: "...", en: "..."}
        answer: [1]                   # indices of the right options
        explanation: {fr: "...", en: "..."}
    hands_on:
      - id: first-model
        check: workbench.chapters.ch01_introduction.lab:check_first_model   # module:function in the core package
        params: {min_f1: 0.7}                     # passed to the check as keyword arguments
        title: {fr: "...", en: "..."}
        instructions: {fr: "...", en: "..."}

A check function inspects real state (a file, an MLflow run, an API answer) and returns a
`CheckResult` saying what is missing. Checks are imported only when they run, so a chapter's
heavy dependencies (mlflow, evidently, art) never load with Home.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from workbench.core.settings import LANGUAGES, Settings, get_settings

QUIZ_KINDS = ("single", "multiple")
CAPSTONE_KEY = "capstone"  # lessons/exercises/capstone.yaml: the final project's checks (progress "chapter")
CHECKPOINT_ID = "checkpoint"  # the progress item of a chapter's checkpoint (see core/quiz.py)


class ExerciseError(ValueError):
    """An exercise file is malformed."""


@dataclass(frozen=True)
class QuizQuestion:
    """A single- or multiple-choice question with its explanation."""

    id: str
    kind: str
    prompt: dict[str, str]
    options: tuple[dict[str, str], ...]
    answer: frozenset[int]
    explanation: dict[str, str]
    why: tuple[dict[str, str] | None, ...] = ()  # per option: why it is right or wrong (multiple choice)
    tests: tuple[str, ...] = ()  # the objectives and points it tests (`objective:id`, `point:id`)

    def option_why(self, index: int) -> dict[str, str] | None:
        """Why option `index` is right or wrong, when the question says."""
        return self.why[index] if index < len(self.why) else None


@dataclass(frozen=True)
class HandsOn:
    """A hands-on exercise verified by a check function of the core package."""

    id: str
    check: str
    params: dict
    title: dict[str, str]
    instructions: dict[str, str]
    solution: dict[str, str] | None = None  # a walkthrough: teachers see it; a learner opens it on demand


@dataclass(frozen=True)
class CheckpointRules:
    """A chapter's checkpoint: how many questions are drawn, and the mean score that passes (0–1)."""

    size: int = 6
    pass_mark: float = 0.75


@dataclass(frozen=True)
class ChapterExercises:
    """All exercises of one chapter."""

    chapter_key: str
    quiz: tuple[QuizQuestion, ...] = ()
    hands_on: tuple[HandsOn, ...] = ()
    checkpoint: CheckpointRules = CheckpointRules()

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Ids of every item that counts towards the chapter's completion: "done" means understood, so the
        hands-on checks and the checkpoint count; practice questions (retries, answers revealed) do not."""
        return tuple(h.id for h in self.hands_on) + ((CHECKPOINT_ID,) if self.quiz else ())


@dataclass(frozen=True)
class CheckContext:
    """What a check needs to know: who is checked, in which language, with which settings."""

    learner: str
    lang: str
    settings: Settings


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a hands-on check: passed, or the list of what is still missing."""

    passed: bool
    missing: tuple[str, ...] = ()
    detail: str = ""
    score: float | None = None
    evidence: dict = field(default_factory=dict)


def passed(detail: str = "", *, score: float | None = None, evidence: dict | None = None) -> CheckResult:
    """A check that passed, with what the learner sees (`detail`) and what it found (`evidence`)."""
    return CheckResult(True, detail=detail, score=score, evidence=evidence or {})


def failed(*missing: str, detail: str = "", score: float | None = None, evidence: dict | None = None) -> CheckResult:
    """A check that failed, with what is still missing (one sentence each, in the learner's language)."""
    return CheckResult(False, tuple(missing), detail=detail, score=score, evidence=evidence or {})


def _bilingual(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(not str(value.get(lang, "")).strip() for lang in LANGUAGES):
        raise ExerciseError(f"{where}: needs a non-empty text in each of {', '.join(LANGUAGES)}")
    return {lang: str(value[lang]).strip() for lang in LANGUAGES}


def parse_exercises(data: dict, chapter_key: str) -> ChapterExercises:
    """Validate and convert the YAML of a chapter's exercises.

    Raises:
        ExerciseError: a field is missing or inconsistent (with the question id in the message).
    """
    where = f"lessons/exercises/{chapter_key}.yaml"
    seen: set[str] = set()
    quiz = []
    for raw in data.get("quiz") or []:
        qid = str(raw.get("id", "")).strip()
        at = f"{where} [{qid or '?'}]"
        if not qid or qid in seen or qid == CHECKPOINT_ID:
            raise ExerciseError(f"{at}: each question needs a unique 'id'")
        seen.add(qid)
        kind = raw.get("kind", "single")
        if kind not in QUIZ_KINDS:
            raise ExerciseError(f"{at}: 'kind' must be one of {QUIZ_KINDS}")
        raw_options = raw.get("options") or []
        options = tuple(_bilingual(o, f"{at} option") for o in raw_options)
        why = tuple(
            _bilingual(o["why"], f"{at} option why") if isinstance(o, dict) and "why" in o else None
            for o in raw_options
        )
        if len(options) < 2:
            raise ExerciseError(f"{at}: at least two options")
        answer = frozenset(int(i) for i in raw.get("answer") or [])
        if not answer or any(i < 0 or i >= len(options) for i in answer):
            raise ExerciseError(f"{at}: 'answer' must list option indices (0-based)")
        if kind == "single" and len(answer) != 1:
            raise ExerciseError(f"{at}: a single-choice question has exactly one answer")
        quiz.append(
            QuizQuestion(
                id=qid,
                kind=kind,
                prompt=_bilingual(raw.get("prompt"), f"{at} prompt"),
                options=options,
                answer=answer,
                explanation=_bilingual(raw.get("explanation"), f"{at} explanation"),
                why=why if any(why) else (),
                tests=tuple(str(x) for x in raw.get("tests") or []),
            )
        )
    hands_on = []
    for raw in data.get("hands_on") or []:
        hid = str(raw.get("id", "")).strip()
        at = f"{where} [{hid or '?'}]"
        if not hid or hid in seen or hid == CHECKPOINT_ID:
            raise ExerciseError(f"{at}: each exercise needs a unique 'id'")
        seen.add(hid)
        check = str(raw.get("check", ""))
        if ":" not in check:
            raise ExerciseError(f"{at}: 'check' must be 'module:function'")
        hands_on.append(
            HandsOn(
                id=hid,
                check=check,
                params=dict(raw.get("params") or {}),
                title=_bilingual(raw.get("title"), f"{at} title"),
                instructions=_bilingual(raw.get("instructions"), f"{at} instructions"),
                solution=_bilingual(raw["solution"], f"{at} solution") if raw.get("solution") else None,
            )
        )
    return ChapterExercises(chapter_key, tuple(quiz), tuple(hands_on), _checkpoint_rules(data.get("checkpoint"), where))


def _checkpoint_rules(raw: object, where: str) -> CheckpointRules:
    """The `checkpoint: {size: 6, pass_mark: 0.75}` block (both optional)."""
    if raw is None:
        return CheckpointRules()
    if not isinstance(raw, dict):
        raise ExerciseError(f"{where} [checkpoint]: expected 'size' and 'pass_mark'")
    default = CheckpointRules()
    try:
        size, mark = int(raw.get("size", default.size)), float(raw.get("pass_mark", default.pass_mark))
    except (TypeError, ValueError) as exc:
        raise ExerciseError(f"{where} [checkpoint]: 'size' is a whole number, 'pass_mark' a number") from exc
    if size < 1 or not 0 < mark <= 1:
        raise ExerciseError(f"{where} [checkpoint]: 'size' ≥ 1 and 0 < 'pass_mark' ≤ 1")
    return CheckpointRules(size, mark)


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime: float, chapter_key: str) -> ChapterExercises:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_exercises(data, chapter_key)


def load_exercises(chapter_key: str, lessons_dir: Path | None = None) -> ChapterExercises:
    """Load a chapter's exercises (an empty set when the chapter has no file)."""
    base = lessons_dir or get_settings().lessons_dir
    path = base / "exercises" / f"{chapter_key}.yaml"
    if not path.is_file():
        return ChapterExercises(chapter_key)
    return _load_cached(path, path.stat().st_mtime, chapter_key)


def solution_visible(exercise: HandsOn, *, teacher: bool, completed: bool, solution_seen: bool) -> bool:
    """Whether the walkthrough is shown open: always to a teacher; to a learner once passed (it costs nothing then)
    or once they chose to open it (`solution_seen`). Otherwise the learner gets a button that asks first."""
    if exercise.solution is None:
        return False
    return teacher or completed or solution_seen


def grade_quiz(question: QuizQuestion, selected: Iterable[int]) -> bool:
    """True when exactly the right options are selected."""
    return frozenset(selected) == question.answer


def resolve_check(reference: str) -> Callable[..., CheckResult]:
    """Import the check function named `module:function` (a function a chapter declares is found by its name).

    Raises:
        ExerciseError: the module or function does not exist.
    """
    module_name, _, func_name = reference.partition(":")
    from workbench.chapters import find_check  # the chapters declare their checks (data only)

    declared = find_check(func_name)
    if declared is not None:  # lessons/exercises name checks by function; the chapter knows where they live
        module_name = declared.partition(":")[0]
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ExerciseError(f"unknown check '{reference}'") from exc
    if not callable(func):
        raise ExerciseError(f"check '{reference}' is not a function")
    return func


def run_check(exercise: HandsOn, ctx: CheckContext) -> CheckResult:
    """Run a hands-on exercise's check with its parameters."""
    return resolve_check(exercise.check)(ctx, **exercise.params)
