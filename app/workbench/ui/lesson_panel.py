"""The lesson panel every chapter page opens with."""

from __future__ import annotations

import streamlit as st

from workbench.chapters import get_chapter
from workbench.core.lessons import Lesson, LessonError, load_lesson
from workbench.core.review import check_section
from workbench.ui.context import current_lang, current_learner, error_text, progress_store, t
from workbench.ui.review_panel import review_section


def lesson_panel(chapter_key: str) -> Lesson | None:
    """Show the chapter title, objectives and its lesson as collapsible sections; remember the visit."""
    chapter = get_chapter(chapter_key)
    try:
        lesson = load_lesson(chapter_key, current_lang())
    except LessonError as exc:
        st.error(t("lesson.unavailable", error=error_text(exc)))
        return None
    progress_store().record_visit(current_learner(), chapter_key)

    st.title(t("lesson.chapter_title", roman=chapter.roman, title=lesson.title))
    if lesson.parts is None:  # a lesson whose front matter gives one number
        st.caption(t("lesson.meta", minutes=lesson.minutes, terms=len(lesson.key_terms)))
    else:
        parts = lesson.parts
        st.caption(
            t(
                "lesson.meta_parts",
                minutes=parts.total,
                reading=parts.reading,
                lab=parts.lab,
                exercises=parts.exercises,
                terms=len(lesson.key_terms),
            )
        )
    summary_downloads(lesson)
    with st.container(border=True):
        st.markdown(f"**{t('lesson.objectives')}**")
        st.markdown("\n".join(f"- {objective}" for objective in lesson.objectives))
    if lesson.intro:
        st.markdown(lesson.intro)
    review = check_section(lesson)
    for index, section in enumerate(lesson.sections):
        with st.expander(section.title, expanded=index == 0):
            if section is review:
                review_section(lesson)
            else:
                st.markdown(section.body)
    return lesson


def summary_downloads(lesson: Lesson) -> None:
    """The chapter's "up to date" line and its one-page summary to download (built only when clicked)."""
    from workbench.core.currency import currency_line
    from workbench.core.summary import build_summary, summary_html, summary_pdf

    lang = current_lang()
    line = currency_line(lesson.text, lang)
    if line:
        st.caption(line, help=t("lesson.currency_help"))
    summary = build_summary(lesson, line)
    row = st.container(horizontal=True)
    row.download_button(
        t("lesson.summary_download"),
        lambda: summary_html(summary).encode("utf-8"),
        f"{summary.filename}.html",
        "text/html",
        key=f"lesson_summary_html_{lesson.chapter_key}",
        on_click="ignore",
        icon=":material/description:",
        help=t("lesson.summary_help"),
    )
    row.download_button(
        t("lesson.summary_download_pdf"),
        lambda: summary_pdf(summary),
        f"{summary.filename}.pdf",
        "application/pdf",
        key=f"lesson_summary_pdf_{lesson.chapter_key}",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        help=t("lesson.summary_help"),
    )
