"""The lesson panel every chapter page opens with."""

from __future__ import annotations

import streamlit as st

from workbench.chapters import get_chapter
from workbench.core.lessons import Lesson, LessonError, load_lesson
from workbench.ui.context import current_lang, current_learner, progress_store, t


def lesson_panel(chapter_key: str) -> Lesson | None:
    """Show the chapter title, objectives and its lesson as collapsible sections; remember the visit."""
    chapter = get_chapter(chapter_key)
    try:
        lesson = load_lesson(chapter_key, current_lang())
    except LessonError as exc:
        st.error(t("lesson.unavailable", error=str(exc)))
        return None
    progress_store().record_visit(current_learner(), chapter_key)

    st.title(t("lesson.chapter_title", roman=chapter.roman, title=lesson.title))
    st.caption(t("lesson.meta", minutes=lesson.minutes, terms=len(lesson.key_terms)))
    with st.container(border=True):
        st.markdown(f"**{t('lesson.objectives')}**")
        st.markdown("\n".join(f"- {objective}" for objective in lesson.objectives))
    if lesson.intro:
        st.markdown(lesson.intro)
    for index, section in enumerate(lesson.sections):
        with st.expander(section.title, expanded=index == 0):
            st.markdown(section.body)
    return lesson
