"""Model answers to each lesson's « Vérifiez vos acquis » / "Check yourself" questions.

The questions are the bullets of that section of `lessons/{fr,en}/NN_slug.md`; their model answers live in
`lessons/review/NN_slug.yaml`, one entry per question, both languages side by side::

    - question: {fr: <the French bullet, word for word>, en: <the English bullet, word for word>}
      answer: {fr: <model answer>, en: <model answer>}

An entry is matched to a bullet by the bullet's text, so a reworded bullet is noticed (`check_review` names it)
instead of silently showing the answer to another question. A chapter without a review file still shows its
questions, without model answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from workbench.chapters import CHAPTERS
from workbench.core.lessons import Lesson, LessonError, Section, fold, load_lesson
from workbench.core.settings import LANGUAGES, get_settings

#: The title of the section that holds the questions, per language (the heading may go on after it).
CHECK_TITLES = {"fr": "Vérifiez vos acquis", "en": "Check yourself"}

#: Where a learner's own answers to a chapter's questions are saved (under the chapter's record prefix).
ANSWERS_RECORD = "review_answers.json"


@dataclass(frozen=True)
class ReviewQuestion:
    """One question of the section, with its model answer in the lesson's language (None: none written yet)."""

    key: str  # the same in both languages when a model answer pairs them: a learner's answer follows them
    text: str
    answer: str | None


def check_section(lesson: Lesson) -> Section | None:
    """The lesson's « Vérifiez vos acquis » / "Check yourself" section, if it has one."""
    title = CHECK_TITLES.get(lesson.lang, "")
    return next((s for s in lesson.sections if title and s.title.startswith(title)), None)


def section_questions(body: str) -> list[str]:
    """The bullets of a section's Markdown, each on one line (an indented continuation joins its bullet)."""
    questions: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if line.startswith(("- ", "* ")):
            questions.append(stripped[2:].strip())
        elif stripped and questions and line[:1].isspace():
            questions[-1] = f"{questions[-1]} {stripped}"
    return questions


def review_path(chapter_key: str, lessons_dir: Path | None = None) -> Path:
    """Where the model answers of a chapter live."""
    return (lessons_dir or get_settings().lessons_dir) / "review" / f"{chapter_key}.yaml"


@lru_cache(maxsize=32)
def _entries_cached(path: Path, mtime: float) -> tuple[dict, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    where = f"lessons/review/{path.name}"
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise LessonError("error_yaml", where=where, error="a list of {question, answer} entries")
    return tuple(data)


def load_review(chapter_key: str, lessons_dir: Path | None = None) -> tuple[dict, ...]:
    """The chapter's model-answer entries (none when it has no review file); re-read when the file changes.

    Raises:
        LessonError: the file is not a YAML list of mappings.
    """
    path = review_path(chapter_key, lessons_dir)
    if not path.is_file():
        return ()
    try:
        return _entries_cached(path, path.stat().st_mtime)
    except yaml.YAMLError as exc:
        raise LessonError("error_yaml", where=f"lessons/review/{path.name}", error=" ".join(str(exc).split())) from exc


def _text(entry: dict, field: str, lang: str) -> str:
    value = entry.get(field)
    return " ".join(str(value.get(lang) or "").split()) if isinstance(value, dict) else ""


def review_questions(lesson: Lesson, lessons_dir: Path | None = None) -> list[ReviewQuestion]:
    """The lesson's questions in its language, each with its model answer when the review file has one."""
    section = check_section(lesson)
    if section is None:
        return []
    entries = load_review(lesson.chapter_key, lessons_dir)
    by_text = {fold(_text(e, "question", lesson.lang)): e for e in entries}
    questions = []
    for text in section_questions(section.body):
        entry = by_text.get(fold(" ".join(text.split())))
        if entry is None:
            questions.append(ReviewQuestion(f"{lesson.lang}:{text}", text, None))
        else:
            answer = str((entry.get("answer") or {}).get(lesson.lang) or "").strip() or None
            questions.append(ReviewQuestion(_text(entry, "question", "fr"), text, answer))
    return questions


def check_review(lessons_dir: Path | None = None) -> list[str]:
    """Problems with the model answers: a question without one, an answer whose question no longer exists."""
    problems: list[str] = []
    for chapter in CHAPTERS:
        entries = load_review(chapter.key, lessons_dir)
        where = f"lessons/review/{chapter.key}.yaml"
        for lang in LANGUAGES:
            try:
                lesson = load_lesson(chapter.key, lang, lessons_dir)
            except LessonError as exc:
                problems.append(str(exc))
                continue
            section = check_section(lesson)
            bullets = {fold(" ".join(q.split())) for q in section_questions(section.body)} if section else set()
            for question in review_questions(lesson, lessons_dir):
                if question.answer is None:
                    problems.append(f"{where}: no {lang} model answer for « {question.text} » (lessons/{lang})")
            for entry in entries:
                asked = _text(entry, "question", lang)
                if fold(asked) not in bullets:
                    problems.append(f"{where}: the {lang} question « {asked} » is no longer in the lesson")
    return problems
