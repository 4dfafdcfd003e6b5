"""Chapter lessons: Markdown files with a small YAML front matter, one per chapter and language.

Format (see `lessons/README.md`)::

    ---
    title: Gérer le cycle de vie du ML avec MLflow
    objectives: [Suivre une expérience, ...]
    minutes: {reading: 25, lab: 40, exercises: 20}   # measured by benchmarks/pacing.py (or one number)
    key_terms:
      - term: Run
        definition: Une exécution de code suivie par MLflow ...
    ---
    Lead paragraph.

    ## First section
    ...

Every `## ` heading starts a section; the page shows each section as a collapsible block.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import frontmatter
import yaml

from workbench.chapters import CHAPTERS, Chapter
from workbench.core.i18n import LocalizedError
from workbench.core.settings import LANGUAGES, get_settings

TAKEAWAYS_TITLES = {"fr": "À retenir", "en": "Key takeaways"}


class LessonError(LocalizedError, ValueError):
    """A lesson file is missing or its front matter is malformed (strings `lesson.error_*`)."""

    namespace = "lesson"


@dataclass(frozen=True)
class KeyTerm:
    """A glossary entry defined by a lesson."""

    term: str
    definition: str


@dataclass(frozen=True)
class Section:
    """One `## ` section of a lesson."""

    title: str
    body: str


@dataclass(frozen=True)
class Minutes:
    """A chapter's time: reading the lesson, doing its lab, doing its exercises (front matter `minutes`)."""

    reading: int
    lab: int
    exercises: int

    @property
    def total(self) -> int:
        """All three together."""
        return self.reading + self.lab + self.exercises


@dataclass(frozen=True)
class Lesson:
    """A parsed lesson."""

    chapter_key: str
    lang: str
    title: str
    objectives: tuple[str, ...]
    minutes: int
    key_terms: tuple[KeyTerm, ...]
    intro: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    nav_title: str = ""  # the short title of the navigation (front matter `nav_title`, else the title)
    parts: Minutes | None = None  # reading/lab/exercises when the front matter gives them (`minutes` is their total)

    @property
    def text(self) -> str:
        """The whole Markdown body (intro and sections)."""
        parts = [self.intro] + [f"## {s.title}\n{s.body}" for s in self.sections]
        return "\n\n".join(p for p in parts if p)


def lesson_path(chapter_key: str, lang: str, lessons_dir: Path | None = None) -> Path:
    """Where the lesson of a chapter in a language lives."""
    base = lessons_dir or get_settings().lessons_dir
    return base / lang / f"{chapter_key}.md"


def parse_lesson(text: str, chapter_key: str, lang: str) -> Lesson:
    """Parse a lesson's Markdown text.

    Raises:
        LessonError: the front matter lacks a field or has the wrong type.
    """
    where = f"lessons/{lang}/{chapter_key}.md"
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise LessonError("error_yaml", where=where, error=" ".join(str(exc).split())) from exc
    meta = post.metadata
    for name in ("title", "objectives", "minutes", "key_terms"):
        if name not in meta:
            raise LessonError("error_no_field", where=where, name=name)
    if not isinstance(meta["objectives"], list) or not meta["objectives"]:
        raise LessonError("error_objectives", where=where)
    parts = parse_minutes(meta["minutes"], where)
    minutes = parts.total if isinstance(parts, Minutes) else parts
    terms = []
    for item in cast(list, meta["key_terms"] or []):
        if not isinstance(item, dict) or not item.get("term") or not item.get("definition"):
            raise LessonError("error_key_term", where=where)
        terms.append(KeyTerm(str(item["term"]), str(item["definition"]).strip()))
    intro, sections = split_sections(post.content)
    return Lesson(
        chapter_key=chapter_key,
        lang=lang,
        title=str(meta["title"]),
        objectives=tuple(str(o) for o in meta["objectives"]),
        minutes=minutes,
        parts=parts if isinstance(parts, Minutes) else None,
        key_terms=tuple(terms),
        intro=intro,
        sections=tuple(sections),
        nav_title=str(meta.get("nav_title") or meta["title"]),
    )


def parse_minutes(value: object, where: str) -> Minutes | int:
    """Front matter `minutes`: one number (older lessons), or `{reading: R, lab: L, exercises: E}`.

    Raises:
        LessonError: neither form, or a negative number.
    """
    try:
        if isinstance(value, dict):
            if set(value) != {"reading", "lab", "exercises"}:
                raise ValueError(value)
            parts = Minutes(*(int(cast(Any, value[k])) for k in ("reading", "lab", "exercises")))
            if min(parts.reading, parts.lab, parts.exercises) < 0:
                raise ValueError(value)
            return parts
        if isinstance(value, bool):
            raise ValueError(value)
        return int(cast(Any, value))
    except (TypeError, ValueError) as exc:
        raise LessonError("error_minutes", where=where) from exc


def split_sections(markdown: str) -> tuple[str, list[Section]]:
    """Split Markdown on `## ` headings (outside code fences) into an intro and sections."""
    intro_lines: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro_lines.append(line)
    return (
        "\n".join(intro_lines).strip(),
        [Section(title, "\n".join(body).strip()) for title, body in sections],
    )


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime: float, chapter_key: str, lang: str) -> Lesson:
    return parse_lesson(path.read_text(encoding="utf-8"), chapter_key, lang)


def load_lesson(chapter_key: str, lang: str, lessons_dir: Path | None = None) -> Lesson:
    """Load and parse one lesson (re-read when the file changes, so teachers see their edits).

    Raises:
        LessonError: the file is missing or malformed.
    """
    path = lesson_path(chapter_key, lang, lessons_dir)
    if not path.is_file():
        raise LessonError("error_not_found", path=str(path))
    return _load_cached(path, path.stat().st_mtime, chapter_key, lang)


@lru_cache(maxsize=64)
def _annotations_cached(path: Path, mtime: float) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_annotations(name: str, lessons_dir: Path | None = None) -> dict:
    """The explanations of the project's own files kept in `lessons/annotations/<name>.yaml`.

    `deploy` (Dockerfiles, compose, nginx, gunicorn: chapters VI-VII), `cicd` (workflow, Jenkinsfile:
    chapter VIII), `k8s` (cloudbuild.yaml, GKE steps, manifests: chapter IX). Re-read when the file changes.
    """
    path = (lessons_dir or get_settings().lessons_dir) / "annotations" / f"{name}.yaml"
    return _annotations_cached(path, path.stat().st_mtime)


def load_all_lessons(lang: str, lessons_dir: Path | None = None) -> list[Lesson]:
    """Every chapter's lesson in one language, in course order."""
    return [load_lesson(ch.key, lang, lessons_dir) for ch in CHAPTERS]


@dataclass(frozen=True)
class GlossaryEntry:
    """A key term, listed once, with each definition the lessons give and the chapter that gives it."""

    term: str
    definitions: tuple[tuple[str, Chapter], ...]  # (definition, chapter), in course order

    @property
    def text(self) -> str:
        """The term and all its definitions, as searched."""
        return " ".join([self.term, *(definition for definition, _ in self.definitions)])


def build_glossary(lang: str, lessons_dir: Path | None = None) -> list[GlossaryEntry]:
    """All key terms of all lessons, one entry per term (two chapters may define it), sorted alphabetically."""
    by_term: dict[str, list[tuple[str, str, Chapter]]] = {}
    for chapter, lesson in zip(CHAPTERS, load_all_lessons(lang, lessons_dir)):
        for term in lesson.key_terms:
            by_term.setdefault(fold(term.term), []).append((term.term, term.definition, chapter))
    entries = [
        GlossaryEntry(senses[0][0], tuple((definition, chapter) for _, definition, chapter in senses))
        for senses in by_term.values()
    ]
    return sorted(entries, key=lambda e: fold(e.term))


def fold(text: str) -> str:
    """`text` for comparing as a reader does: case, accents and the kind of apostrophe do not count."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_glossary(entries: list[GlossaryEntry], query: str) -> list[GlossaryEntry]:
    """Entries whose term or definitions contain every word of `query` (`modele` finds « modèle », and back)."""
    words = fold(query).split()
    return [e for e in entries if all(w in fold(e.text) for w in words)]


def check_lessons(lessons_dir: Path | None = None) -> list[str]:
    """Problems with the lesson files (empty list when all chapters are complete in both languages)."""
    problems: list[str] = []
    for chapter in CHAPTERS:
        for lang in LANGUAGES:
            try:
                lesson = load_lesson(chapter.key, lang, lessons_dir)
            except LessonError as exc:
                problems.append(str(exc))
                continue
            where = f"{lang}/{chapter.key}"
            body = lesson.text.casefold()
            for term in lesson.key_terms:
                if term.term.casefold() not in body:
                    problems.append(f"{where}: key term '{term.term}' never appears in the text")
            if not any(s.title.startswith(TAKEAWAYS_TITLES[lang]) for s in lesson.sections):
                problems.append(f"{where}: no '{TAKEAWAYS_TITLES[lang]}' section")
            if len(lesson.sections) < 3:
                problems.append(f"{where}: fewer than 3 sections")
    return problems
