"""A chapter's page: its lesson, its lab (the tabs its package declares), its exercises."""

from __future__ import annotations

import importlib

import streamlit as st

from workbench.chapters import Chapter, Tab, get_chapter
from workbench.core.pacing import NEEDS_PRODUCTION_MODEL, unfinished_prerequisites
from workbench.core.settings import get_settings
from workbench.ui.context import current_learner, error_text, progress_store, t
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
    """Suggest the earlier chapters this one builds on while unfinished (no lock); offer to prepare what it needs."""
    if not chapter.prerequisites:
        return
    missing = unfinished_prerequisites(chapter.prerequisites, progress_store().completed_items(current_learner()))
    if missing:
        chapters = [get_chapter(key) for key in missing]
        names = ", ".join(t("exercises.chapter_name", roman=c.roman) for c in chapters)
        st.info(t("exercises.prerequisites", chapters=names), icon=":material/route:")
        for prerequisite in chapters:
            st.page_link(prerequisite.page_path, label=t("exercises.prerequisite_link", roman=prerequisite.roman))
    if NEEDS_PRODUCTION_MODEL in chapter.prerequisites:  # the registry's real state, whatever chapter V's progress
        prepare_panel(chapter)


def prepare_panel(chapter: Chapter) -> None:
    """While the learner's registry has no `@production` version: say so, with a button that prepares one."""
    from workbench.core.pacing import prepare_production_model, production_need
    from workbench.core.tracking import TrackingError
    from workbench.ui.resources import course_data

    settings, learner = get_settings(), current_learner()
    key = f"{chapter.prefix}_prepare"
    done = st.session_state.get(f"{key}_result")
    try:
        need = production_need(settings, learner)
    except TrackingError as exc:
        st.warning(t("pacing.prepare_failed", error=error_text(exc)))
        return
    if done is not None:
        text = "pacing.prepared_done" if done.created else "pacing.prepared_already"
        st.success(t(text, version=done.version, model=done.model, alias=done.alias), icon=":material/check_circle:")
    elif need.met and need.prepared:
        st.caption(t("pacing.prepared_note", version=need.version, model=need.model))
    if need.met:
        return
    st.warning(t("pacing.need_missing", model=need.model), icon=":material/inventory_2:")
    if not st.button(
        t("pacing.prepare_button"),
        key=key,
        icon=":material/auto_fix_high:",
        help=t("pacing.prepare_help", model=need.model),
        type="primary",
    ):
        return
    with st.status(t("pacing.preparing"), expanded=True) as status:
        try:
            prepared = prepare_production_model(
                settings, learner, course_data(), chapter.key, lambda step: st.write(t(f"pacing.step_{step}"))
            )
        except (TrackingError, OSError, ValueError) as exc:
            status.update(label=t("pacing.prepare_failed", error=error_text(exc)), state="error")
            return
        status.update(
            label=t("pacing.prepared_done", version=prepared.version, model=prepared.model, alias="production"),
            state="complete",
        )
    st.session_state[f"{key}_result"] = prepared
    st.rerun()


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
