"""Pacing: when a chapter counts as done, which earlier chapters to suggest before one (never a lock), and the
one-click preparation of what a chapter needs from an earlier one (a model at `@production`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.exercises import load_exercises
from workbench.core.lessons import Minutes
from workbench.core.settings import Settings

if TYPE_CHECKING:
    import pandas as pd


def chapter_done(chapter_key: str, completed: Set[str], lessons_dir: Path | None = None) -> bool:
    """True when every item that makes the chapter done (hands-on checks, checkpoint) is completed."""
    needed = set(load_exercises(chapter_key, lessons_dir).item_ids)
    return bool(needed) and needed <= set(completed)


def unfinished_prerequisites(
    prerequisites: tuple[str, ...], completed: Mapping[str, Set[str]], lessons_dir: Path | None = None
) -> tuple[str, ...]:
    """The prerequisite chapters (keys, in the order given) the learner has not finished yet."""
    return tuple(key for key in prerequisites if not chapter_done(key, completed.get(key, set()), lessons_dir))


# --------------------------------------------------------------------------------------------
# "Prepare what this chapter needs": a model of the learner at @production (chapters VII, VIII, X)
# --------------------------------------------------------------------------------------------

#: A chapter that lists this prerequisite serves the learner's model at `@production` (VII, VIII, X).
NEEDS_PRODUCTION_MODEL = "05_mlflow"
#: What the workbench trains when it prepares the production model: the course's default (model form's first).
PREPARED_MODEL_FAMILY = "logistic_regression"


@dataclass(frozen=True)
class ProductionNeed:
    """Whether the learner's registered model has a version at `@production` (the registry's real state)."""

    model: str
    version: int | None
    prepared: bool  # that version was prepared by the workbench, not registered by the learner

    @property
    def met(self) -> bool:
        """True when `models:/<model>@production` resolves."""
        return self.version is not None


@dataclass(frozen=True)
class PreparedModel:
    """What `prepare_production_model` did: the version at `@production`, and whether it made a new one."""

    model: str
    version: int
    alias: str
    run_id: str
    created: bool


def production_need(settings: Settings, learner: str) -> ProductionNeed:
    """The learner's `@production` version as the registry holds it now (not what chapter V's progress says)."""
    from workbench.core.tracking import get_version, resolve_alias
    from workbench.core.tracking.store import PREPARED_TAG, owned_model

    model = owned_model(settings, learner)
    version = resolve_alias("production", settings, learner=learner)
    prepared = version is not None and get_version(version, settings, learner=learner).tags.get(PREPARED_TAG) == "true"
    return ProductionNeed(model, version, prepared)


def prepare_production_model(
    settings: Settings,
    learner: str,
    data: pd.DataFrame,
    chapter_key: str,
    step: Callable[[str], None] = lambda _: None,
) -> PreparedModel:
    """Give the learner a model at `@production` if they have none: train the default pipeline on `data`, log it
    with its signature, register it under the learner's model name and point `production` at it.

    The run and the version are tagged `PREPARED_TAG`, so chapter V's checks and the capstone never count them
    as the learner's work. Does nothing when `production` already resolves (safe to click twice).

    Args:
        step: called with `train`, `log`, `register`, `alias` as each step starts (progress display).
    """
    from workbench.core.modeling import train_model
    from workbench.core.tracking import get_version, register_run_model, set_alias, set_version_tag
    from workbench.core.tracking.store import PREPARED_TAG, client, log_training_run

    need = production_need(settings, learner)
    if need.version is not None:
        run_id = get_version(need.version, settings, learner=learner).run_id
        return PreparedModel(need.model, need.version, "production", run_id, created=False)
    step("train")
    result = train_model(data, PREPARED_MODEL_FAMILY, None)
    step("log")
    logged = log_training_run(
        result, data, learner, chapter=chapter_key, run_name=f"{PREPARED_MODEL_FAMILY} (prepared)", settings=settings
    )
    client(settings).set_tag(logged.run_id, PREPARED_TAG, "true")
    step("register")
    version = register_run_model(
        logged.run_id,
        learner,
        "Prepared by the workbench (not the learner's work) / Préparé par l'atelier (pas le travail de l'apprenant)",
        settings,
    )
    set_version_tag(version.version, PREPARED_TAG, "true", settings, learner=learner)
    step("alias")
    set_alias("production", version.version, learner, settings)
    return PreparedModel(need.model, version.version, "production", logged.run_id, created=True)


# --------------------------------------------------------------------------------------------
# Measured minutes per chapter: reading (the lesson's words and code), exercises (the quiz, the checkpoint, the
# hands-on checks); the lab is timed by benchmarks/pacing.py doing it. Written to the lesson's front matter.
# --------------------------------------------------------------------------------------------

#: Words per minute for reading technical text to learn from it. Carver's "learning" gear is 200 wpm for college
#: readers in English (R. P. Carver, "Reading rate: theory, research, and practical implications", Journal of
#: Reading 36(2), 1992: scanning 600, skimming 450, rauding 300, learning 200, memorizing 138), well under the
#: 238 wpm of ordinary non-fiction (M. Brysbaert, "How many words do we read per minute?", J. Memory and Language
#: 109, 2019). French is read slower by word: 195 vs 228 wpm in the IReST standardised texts (Trauzettel-Klosinski
#: & Dietz, IOVS 53(9), 2012), a 0.855 ratio, hence 171 wpm in French.
WORDS_PER_MINUTE: dict[str, float] = {"en": 200.0, "fr": 171.0}
#: Seconds per non-blank line of a code block (commands, YAML, Python): read once and matched to the prose around
#: it, not studied token by token. An assumption (no published rate for reading code snippets in a lesson):
#: 5 s is ~12 words per line at the learning rate.
CODE_SECONDS_PER_LINE = 5.0
#: Seconds to decide and answer one question once it is read (choose among 4 options, submit): an assumption.
DECISION_SECONDS = 15.0
#: Seconds per hands-on check beyond reading its instructions: run the check, read its verdict, fix once, check
#: again (an assumption; the work the check verifies is done in the lab, timed there).
HANDS_ON_SECONDS = 120.0

_FENCE = re.compile(r"^\s*(```|~~~)")
_URL = re.compile(r"\]\([^)]*\)|https?://\S+")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class TextCount:
    """Words of prose and non-blank lines of code of a Markdown text."""

    words: int
    code_lines: int

    def __add__(self, other: TextCount) -> TextCount:
        return TextCount(self.words + other.words, self.code_lines + other.code_lines)

    def seconds(self, lang: str) -> float:
        """How long reading it takes at the documented rates."""
        return 60.0 * self.words / WORDS_PER_MINUTE[lang] + CODE_SECONDS_PER_LINE * self.code_lines


def count_text(markdown: str) -> TextCount:
    """Count the prose words (links' targets and URLs left out) and the non-blank lines inside code fences."""
    words = code = 0
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            code += bool(line.strip())
        else:
            words += len(_WORD.findall(_URL.sub("]", line)))
    return TextCount(words, code)


def _minutes(seconds: float) -> int:
    """Whole minutes, rounded up (a started minute is spent)."""
    return math.ceil(seconds / 60 - 1e-9)


@dataclass(frozen=True)
class ReadingMeasure:
    """The lesson's size and its reading time in one language."""

    chapter_key: str
    lang: str
    count: TextCount

    @property
    def minutes(self) -> int:
        """Reading minutes at the documented rates."""
        return _minutes(self.count.seconds(self.lang))


def measure_reading(chapter_key: str, lang: str, lessons_dir: Path | None = None) -> ReadingMeasure:
    """The lesson as the page shows it: title, objectives, intro and sections (the glossary is read elsewhere)."""
    from workbench.core.lessons import load_lesson

    lesson = load_lesson(chapter_key, lang, lessons_dir)
    text = "\n".join([lesson.title, *lesson.objectives, lesson.text])
    return ReadingMeasure(chapter_key, lang, count_text(text))


@dataclass(frozen=True)
class ExerciseMeasure:
    """What a chapter asks in exercises, and how long it takes in one language."""

    chapter_key: str
    lang: str
    practice: int  # practice questions (the whole pool)
    checkpoint: int  # questions drawn for the checkpoint
    hands_on: int  # hands-on checks
    seconds: float

    @property
    def minutes(self) -> int:
        """Exercise minutes."""
        return _minutes(self.seconds)


def measure_exercises(chapter_key: str, lang: str, lessons_dir: Path | None = None) -> ExerciseMeasure:
    """Practice: every question read (prompt, options, then the explanation and each option's why) and answered;
    checkpoint: `size` questions of the pool's mean length read and answered; hands-on: instructions read and
    `HANDS_ON_SECONDS` each."""
    from workbench.core.i18n import pick

    exercises = load_exercises(chapter_key, lessons_dir)
    quiz = exercises.quiz
    asked = [count_text("\n".join([pick(q.prompt, lang), *(pick(o, lang) for o in q.options)])) for q in quiz]
    explained = [count_text("\n".join([pick(q.explanation, lang), *(pick(w, lang) for w in q.why if w)])) for q in quiz]
    practice = sum((a + e).seconds(lang) + DECISION_SECONDS for a, e in zip(asked, explained))
    drawn = min(exercises.checkpoint.size, len(quiz)) if quiz else 0
    mean_question = sum(a.seconds(lang) for a in asked) / len(asked) if asked else 0.0
    checkpoint = drawn * (mean_question + DECISION_SECONDS)
    hands_on = sum(count_text(pick(h.instructions, lang)).seconds(lang) + HANDS_ON_SECONDS for h in exercises.hands_on)
    return ExerciseMeasure(
        chapter_key, lang, len(quiz), drawn, len(exercises.hands_on), practice + checkpoint + hands_on
    )


#: Minutes per lab action beyond the computation it starts: find and set the control (the keystroke-level model
#: gives ~1.35 s of mental preparation + ~1.1 s pointing + a click per step, a few steps per action), then read
#: what it shows (a metric, a table or a chart with its caption: ~100–150 words at the learning rate). An
#: assumption built from those two parts, rounded to one minute.
ACTION_MINUTES = 1.0


def lab_minutes(compute_seconds: float, actions: int) -> int:
    """Lab minutes: the measured computation plus `ACTION_MINUTES` per action the learner performs."""
    return _minutes(compute_seconds + 60.0 * ACTION_MINUTES * actions)


_MINUTES_LINE = re.compile(r"^minutes:.*$", re.MULTILINE)


def write_minutes(path: Path, minutes: Minutes) -> bool:
    """Set the `minutes:` line of a lesson's front matter (the rest of the file untouched). True if it changed."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---")
    line = f"minutes: {{reading: {minutes.reading}, lab: {minutes.lab}, exercises: {minutes.exercises}}}"
    new_head, n = _MINUTES_LINE.subn(line, head, count=1)
    if n != 1:
        raise ValueError(f"{path}: no 'minutes:' line in the front matter")
    if new_head == head:
        return False
    path.write_text(new_head + sep + body, encoding="utf-8")
    return True
