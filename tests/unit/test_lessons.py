"""Lessons: every chapter in both languages, front matter parses, key terms present."""

from __future__ import annotations

import os

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.lessons import (
    LessonError,
    build_glossary,
    check_lessons,
    fold,
    load_lesson,
    parse_lesson,
    search_glossary,
    split_sections,
)
from workbench.core.settings import LANGUAGES


def test_all_lessons_are_complete() -> None:
    assert check_lessons() == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_lesson_front_matter(chapter, lang) -> None:
    lesson = load_lesson(chapter.key, lang)
    assert lesson.title.strip()
    assert 5 <= lesson.minutes <= 240
    assert len(lesson.objectives) >= 2
    assert len(lesson.key_terms) >= 3
    assert lesson.intro


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_languages_have_the_same_shape(chapter) -> None:
    fr, en = (load_lesson(chapter.key, lang) for lang in ("fr", "en"))
    assert len(fr.sections) == len(en.sections)
    assert len(fr.key_terms) == len(en.key_terms)
    assert len(fr.objectives) == len(en.objectives)
    assert fr.parts is not None and en.parts is not None
    assert fr.parts.lab == en.parts.lab  # the lab is the same work; reading and exercises are measured per language


def test_parse_lesson_splits_sections_outside_code_fences() -> None:
    text = (
        "---\ntitle: T\nobjectives: [a, b]\nminutes: 10\n"
        "key_terms:\n  - {term: Run, definition: one execution}\n---\n"
        "Lead.\n\n## One\nA Run.\n```\n## not a heading\n```\n## Two\nB\n"
    )
    lesson = parse_lesson(text, "01_introduction", "en")
    assert lesson.intro == "Lead."
    assert [s.title for s in lesson.sections] == ["One", "Two"]
    assert "## not a heading" in lesson.sections[0].body
    assert lesson.key_terms[0].term == "Run"


@pytest.mark.parametrize(
    "front, message",
    [
        ("title: T\nobjectives: [a]\nminutes: 10\n", "key_terms"),
        ("title: T\nobjectives: []\nminutes: 10\nkey_terms: []\n", "objectives"),
        ("title: T\nobjectives: [a]\nminutes: ten\nkey_terms: []\n", "minutes"),
        ("title: T\nobjectives: [a]\nminutes: 5\nkey_terms: [{term: X}]\n", "definition"),
    ],
)
def test_parse_lesson_rejects_bad_front_matter(front, message) -> None:
    with pytest.raises(LessonError, match=message):
        parse_lesson(f"---\n{front}---\nbody\n", "01_introduction", "fr")


def test_split_sections_without_headings() -> None:
    assert split_sections("just text") == ("just text", [])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_glossary_collects_all_terms_sorted_each_once(lang) -> None:
    glossary = build_glossary(lang)
    defined = [(t.term, t.definition) for c in CHAPTERS for t in load_lesson(c.key, lang).key_terms]
    assert sorted((e.term, d) for e in glossary for d, _ in e.definitions) == sorted(defined)  # nothing lost
    terms = [fold(e.term) for e in glossary]
    assert terms == sorted(terms) and len(terms) == len(set(terms))
    rest = next(e for e in glossary if e.term in ("API REST", "REST API"))
    assert [ch.roman for _, ch in rest.definitions] == ["III"]
    # duplicates merged: a term is defined by one chapter only (REST API, continuous training, pipeline, GitHub
    # Actions were each defined twice, with two different definitions)
    assert [e.term for e in glossary if len(e.definitions) > 1] == []
    assert {ch.number for e in glossary for _, ch in e.definitions} == {c.number for c in CHAPTERS}


def test_glossary_search_matches_every_word() -> None:
    glossary = build_glossary("en")
    hits = search_glossary(glossary, "mlflow")
    assert hits and all("mlflow" in e.text.casefold() for e in hits)
    assert search_glossary(glossary, "zzzz-no-such-term") == []
    assert len(search_glossary(glossary, "")) == len(glossary)


@pytest.mark.parametrize(
    "typed, found",
    [
        ("deploiement continu", "Déploiement continu"),
        ("DÉPLOIEMENT", "Déploiement continu"),
        ("entrainement continu", "Entraînement continu"),
        ("modele", "Registre de modèles"),
        ("l’URI", "Alias"),
    ],
)
def test_glossary_search_ignores_accents_case_and_apostrophes(typed, found) -> None:
    assert found in [e.term for e in search_glossary(build_glossary("fr"), typed)]


def test_annotations_are_reread_when_a_teacher_edits_them(tmp_path) -> None:
    from workbench.core.lessons import load_annotations

    (tmp_path / "annotations").mkdir()
    path = tmp_path / "annotations" / "deploy.yaml"
    path.write_text("dockerfile:\n  FROM: {fr: 'Image de base', en: 'Base image'}\n", encoding="utf-8")
    assert load_annotations("deploy", tmp_path)["dockerfile"]["FROM"]["en"] == "Base image"
    path.write_text("dockerfile:\n  FROM: {fr: 'Image de départ', en: 'Starting image'}\n", encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert load_annotations("deploy", tmp_path)["dockerfile"]["FROM"]["en"] == "Starting image"
