"""The Home page: course map with progress, "continue where you left off", glossary."""

from __future__ import annotations

import streamlit as st

from workbench.chapters import CHAPTERS, SECTIONS, get_chapter
from workbench.core.lessons import (
    GlossaryEntry,
    LessonError,
    Minutes,
    build_glossary,
    load_all_lessons,
    load_lesson,
    search_glossary,
)
from workbench.core.pacing import NEEDS_PRODUCTION_MODEL
from workbench.core.progress import continue_chapter, course_progress, overall_fraction
from workbench.ui.context import current_lang, current_learner, error_text, progress_store, t
from workbench.ui.exercise_panel import capstone_panel

CARDS_PER_ROW = 3


def render_home() -> None:
    """Course map, continue button, glossary and progress reset."""
    lang = current_lang()
    learner = current_learner()
    store = progress_store()
    progress = course_progress(store, learner)
    by_key = {p.chapter_key: p for p in progress}

    st.title(t("home.title"))
    st.markdown(t("home.tagline"))

    next_key = continue_chapter(store, learner, progress)
    next_chapter = get_chapter(next_key)
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(t("home.welcome", learner=learner, percent=round(100 * overall_fraction(progress))))
        right.page_link(
            next_chapter.page_path,
            label=t("home.continue", roman=next_chapter.roman),
            icon=":material/play_arrow:",
        )

    _certificate(learner, lang)

    st.header(t("home.map"))
    _course_time(lang)
    for section in SECTIONS:
        chapters = [c for c in CHAPTERS if c.section == section]
        st.subheader(t(f"nav.section_{section}"))
        for start in range(0, len(chapters), CARDS_PER_ROW):
            columns = st.columns(CARDS_PER_ROW)
            for column, chapter in zip(columns, chapters[start : start + CARDS_PER_ROW]):
                with column:
                    _chapter_card(chapter.key, lang, by_key[chapter.key])

    capstone_panel()

    st.header(t("home.glossary"))
    _glossary(lang)
    _reset_all(learner)


def _certificate(learner: str, lang: str) -> None:
    """The certificate to download once every chapter is done and understood, else how far it is."""
    from workbench.core.certificate import build_certificate, certificate_html
    from workbench.core.exercises import CAPSTONE_KEY

    store = progress_store()
    keys = [*(c.key for c in CHAPTERS), CAPSTONE_KEY]
    certificate = build_certificate(learner, {key: store.chapter_items(learner, key) for key in keys}, lang)
    if certificate.complete:
        st.download_button(
            t("certificate.download"),
            certificate_html(certificate, lang),
            file_name=f"certificate-{lang}.html",
            mime="text/html",
            icon=":material/workspace_premium:",
            key="home_certificate",
            type="primary",
        )
    else:
        done = sum(c.done for c in certificate.chapters)
        st.caption(t("certificate.not_yet", n=done, total=len(certificate.chapters)))
        st.caption(t("certificate.capstone_progress", n=certificate.capstone_done, total=certificate.capstone_total))


def _course_time(lang: str) -> None:
    """The whole course's measured minutes: reading, labs, exercises (lessons that give one number count whole)."""
    try:
        lessons = load_all_lessons(lang)
    except LessonError:
        return  # the card of the broken lesson says what is wrong
    parts = [lesson.parts or Minutes(lesson.minutes, 0, 0) for lesson in lessons]
    reading, lab, exercises = (sum(getattr(p, name) for p in parts) for name in ("reading", "lab", "exercises"))
    minutes = reading + lab + exercises
    hours = f"{minutes // 60}\u00a0h\u00a0{minutes % 60:02d}"
    st.markdown(
        t("home.course_time", hours=hours, minutes=minutes, reading=reading, lab=lab, exercises=exercises),
        help=t("home.course_time_help"),
    )


def _chapter_card(chapter_key: str, lang: str, progress) -> None:
    chapter = get_chapter(chapter_key)
    with st.container(border=True, height="stretch"):
        try:
            lesson = load_lesson(chapter_key, lang)
        except LessonError as exc:
            st.error(t("lesson.unavailable", error=error_text(exc)))
            return
        st.markdown(f"#### {chapter.roman}. {lesson.title}")
        if lesson.parts is None:
            st.caption(t("home.card_meta", minutes=lesson.minutes, done=progress.done, total=progress.total))
        else:
            parts = lesson.parts
            st.caption(
                t(
                    "home.card_meta_parts",
                    minutes=parts.total,
                    reading=parts.reading,
                    lab=parts.lab,
                    exercises=parts.exercises,
                    done=progress.done,
                    total=progress.total,
                )
            )
        st.markdown("\n".join(f"- {o}" for o in lesson.objectives))
        if chapter.prerequisites:  # suggested on the map too, never a lock
            names = ", ".join(
                t("exercises.chapter_name", roman=get_chapter(key).roman) for key in chapter.prerequisites
            )
            needs_model = NEEDS_PRODUCTION_MODEL in chapter.prerequisites
            st.caption(t("home.card_prerequisites_model" if needs_model else "home.card_prerequisites", chapters=names))
        st.progress(progress.fraction)
        st.page_link(chapter.page_path, label=t("home.open"), icon=chapter.icon)


def _glossary(lang: str) -> None:
    """Search box and matching terms as a scrollable definition list (light to render: no data grid)."""
    query = st.text_input(
        t("home.glossary_search"), key="home_glossary_query", placeholder=t("home.glossary_placeholder")
    )
    try:
        entries = search_glossary(build_glossary(lang), query)
    except LessonError as exc:
        st.warning(t("lesson.unavailable", error=error_text(exc)))
        return
    st.caption(t("home.glossary_count", n=len(entries)))
    if not entries:
        st.info(t("home.glossary_none"))
        return
    chapter = t("home.glossary_chapter")
    with st.container(height=420, key="home_glossary"):
        st.markdown("\n".join(_glossary_item(e, chapter) for e in entries))


def _glossary_item(entry: GlossaryEntry, chapter: str) -> str:
    """One term: its definition on the same line, or one sub-item per definition when chapters give several."""
    senses = [f"{definition} _({chapter} {ch.roman})_" for definition, ch in entry.definitions]
    if len(senses) == 1:
        return f"- **{entry.term}** — {senses[0]}"
    return f"- **{entry.term}**\n" + "\n".join(f"    - {sense}" for sense in senses)


def _reset_all(learner: str) -> None:
    with st.expander(t("home.reset_title"), icon=":material/restart_alt:"):
        st.markdown(t("home.reset_text", learner=learner))
        confirm = st.checkbox(t("home.reset_confirm", learner=learner), key="home_reset_confirm")
        if st.button(t("home.reset_button"), key="home_reset", disabled=not confirm, type="primary"):
            from workbench.ui.chapter_state import reset_chapter

            erased = sum(reset_chapter(chapter, learner).answers for chapter in CHAPTERS)
            erased += progress_store().reset(learner)  # answers of a chapter the course no longer has
            del st.session_state["home_reset_confirm"]
            st.toast(t("exercises.reset_done", n=erased))
            st.rerun()
