"""The app's pages for `st.navigation`: Home plus one page per chapter, grouped in sections."""

from __future__ import annotations

import logging

import streamlit as st

from workbench.chapters import CHAPTERS, SECTIONS, Chapter
from workbench.core.lessons import load_lesson
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, error_text, t
from workbench.ui.home import render_home
from workbench.ui.identity import current_person

log = logging.getLogger(__name__)

#: The teacher's dashboard (a file page, so a test can open it), and its address (`/teacher`).
TEACHER_PAGE = "../pages/teacher.py"
TEACHER_URL = "teacher"


def build_pages() -> dict[str, list]:
    """Navigation sections → pages, with titles in the current language."""
    pages: dict[str, list] = {
        t("nav.section_start"): [
            st.Page(render_home, title=t("nav.home"), icon=":material/home:", url_path="home", default=True)
        ]
    }
    for section in SECTIONS:
        pages[t(f"nav.section_{section}")] = [
            st.Page(c.page_path, title=nav_title(c), icon=c.icon, url_path=c.key)
            for c in CHAPTERS
            if c.section == section
        ]
    # Teachers see their dashboard in the navigation; for everyone else it is hidden, and its address
    # answers with a refusal (the page checks the role again) rather than a "page not found".
    teacher = current_person().is_teacher
    dashboard = st.Page(
        TEACHER_PAGE,
        title=t("teacher.nav_title"),
        icon=":material/school:",
        url_path=TEACHER_URL,
        visibility="visible" if teacher else "hidden",
    )
    if teacher:
        pages[t("teacher.nav_section")] = [dashboard]
    else:
        pages[t("nav.section_start")].append(dashboard)
    return pages


def nav_title(chapter: Chapter) -> str:
    """The chapter's title in the navigation: its Roman number and its lesson's `nav_title`."""
    return f"{chapter.roman}. {load_lesson(chapter.key, current_lang()).nav_title}"


def run_page(page) -> None:
    """Run the chosen page; an unexpected error becomes a short message in the learner's language.

    Every lab catches the errors it expects (bad input, a stopped service) and explains them; this is
    the last resort for the rest (a locked database, a full disk): no traceback in front of a class, the
    work already saved stays saved, and the full traceback goes to the server's log for the teacher.
    """
    if get_settings().raise_errors:  # WORKBENCH_RAISE_ERRORS (the tests set it): fail loudly
        page.run()
        return
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - shown to the learner, logged with its traceback
        log.exception("page %s failed", getattr(page, "url_path", page))
        st.error(t("nav.unexpected_error", error=error_text(exc, with_type=True)), icon=":material/error:")
