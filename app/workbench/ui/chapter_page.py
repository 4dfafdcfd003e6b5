"""A chapter's page: its lesson, its lab (the tabs its package declares), its exercises."""

from __future__ import annotations

import importlib

import streamlit as st

from workbench.chapters import Chapter, Tab, get_chapter
from workbench.core.pacing import unfinished_prerequisites
from workbench.ui.context import current_learner, progress_store, t
from workbench.ui.exercise_panel import exercise_panel
from workbench.ui.lesson_panel import lesson_panel


def render_chapter(key: str) -> None:
    """Render chapter `key` (`08_cicd`): lesson panel, lab tabs, exercise panel."""
    chapter = get_chapter(key)
    prerequisites_note(chapter)
    lesson_panel(chapter.key)
    module = importlib.import_module(f"workbench.ui.chapters.{chapter.package}")
    if chapter.tabs or hasattr(module, "render_lab"):
        st.header(t("common.lab"))
    if hasattr(module, "render_lab"):  # a chapter whose tabs share work (one MLflow search for two tabs)
        module.render_lab(chapter)
    else:
        render_tabs(chapter)
    exercise_panel(chapter.key)


def prerequisites_note(chapter: Chapter) -> None:
    """Suggest the earlier chapters this one builds on while the learner has not finished them (no lock)."""
    if not chapter.prerequisites:
        return
    missing = unfinished_prerequisites(chapter.prerequisites, progress_store().completed_items(current_learner()))
    if not missing:
        return
    chapters = [get_chapter(key) for key in missing]
    names = ", ".join(t("exercises.chapter_name", roman=c.roman) for c in chapters)
    st.info(t("exercises.prerequisites", chapters=names), icon=":material/route:")
    for prerequisite in chapters:
        st.page_link(prerequisite.page_path, label=t("exercises.prerequisite_link", roman=prerequisite.roman))


def render_tabs(chapter: Chapter, tabs: tuple[Tab, ...] | None = None) -> None:
    """One Streamlit tab per declared `Tab`, each calling its function of the chapter's UI module."""
    tabs = chapter.tabs if tabs is None else tabs
    for tab, container in zip(tabs, st.tabs([t(tab.label) for tab in tabs])):
        with container:
            tab_function(chapter, tab)(*tab.args)


def tab_function(chapter: Chapter, tab: Tab):
    """The function that renders `tab`: `name` in `ui.chapters.chNN_slug`, or `module.name` in its package."""
    module_name, _, name = tab.render.rpartition(".")
    base = f"workbench.ui.chapters.{chapter.package}"
    return getattr(importlib.import_module(f"{base}.{module_name}" if module_name else base), name)
