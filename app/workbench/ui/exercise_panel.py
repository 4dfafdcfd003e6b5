"""The exercise panel: the chapter's quiz and hands-on checks, with saved progress."""

from __future__ import annotations

import logging

import streamlit as st

from workbench.core.exercises import (
    CAPSTONE_KEY,
    CheckContext,
    CheckResult,
    HandsOn,
    failed,
    load_exercises,
    run_check,
    solution_visible,
)
from workbench.core.i18n import pick
from workbench.core.people import Role
from workbench.core.progress import ItemProgress
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, progress_store, t
from workbench.ui.identity import current_person
from workbench.ui.quiz_panel import quiz_section, widget_key

log = logging.getLogger(__name__)


def exercise_panel(chapter_key: str) -> None:
    """Render every quiz question and hands-on exercise of a chapter, and the chapter's progress."""
    exercises = load_exercises(chapter_key)
    learner = current_learner()
    store = progress_store()
    items = store.chapter_items(learner, chapter_key)
    done = sum(1 for i in exercises.item_ids if i in items and items[i].done)
    total = len(exercises.item_ids)

    st.divider()
    st.header(t("exercises.title"), anchor="exercises")
    st.progress(done / total if total else 0.0, text=t("exercises.progress", done=done, total=total))

    if exercises.hands_on:
        st.subheader(t("exercises.hands_on"))
        for exercise in exercises.hands_on:
            _hands_on(chapter_key, exercise, items.get(exercise.id))
    if exercises.quiz:
        st.subheader(t("exercises.quiz"))
        quiz_section(chapter_key, exercises, items, teacher=current_person().role == Role.TEACHER)
    _reset_chapter(chapter_key, learner)


def capstone_panel() -> None:
    """The final project: its rubric (one check per criterion, over the learner's real state)."""
    exercises = load_exercises(CAPSTONE_KEY)
    if not exercises.hands_on:
        return
    items = progress_store().chapter_items(current_learner(), CAPSTONE_KEY)
    done = sum(1 for i in exercises.item_ids if i in items and items[i].done)
    st.header(t("capstone.title"), anchor="capstone")
    st.markdown(t("capstone.intro"))
    st.progress(done / len(exercises.item_ids), text=t("capstone.progress", n=done, total=len(exercises.item_ids)))
    with st.expander(t("capstone.rubric"), icon=":material/checklist:"):
        for exercise in exercises.hands_on:
            _hands_on(CAPSTONE_KEY, exercise, items.get(exercise.id))


def _status_badge(progress: ItemProgress | None) -> None:
    if progress is None:
        return
    if progress.done:
        st.badge(t("exercises.done"), icon=":material/check_circle:", color="green")
    elif progress.passed_with_solution:
        st.badge(t("exercises.done_solution_seen"), icon=":material/visibility:", color="orange")
    elif progress.solution_seen:
        st.badge(t("exercises.solution_seen"), icon=":material/visibility:", color="gray")


def _hands_on(chapter_key: str, exercise: HandsOn, progress: ItemProgress | None) -> None:
    lang = current_lang()
    result_key = widget_key(chapter_key, exercise.id, "check_result")
    with st.container(border=True):
        _status_badge(progress)
        st.markdown(f"**{pick(exercise.title, lang)}**")
        st.markdown(pick(exercise.instructions, lang))
        if st.button(
            t("exercises.check"), key=widget_key(chapter_key, exercise.id, "check"), icon=":material/fact_check:"
        ):
            with st.spinner(t("exercises.checking")):
                result = _run_check_safely(exercise, lang)
            progress_store().record_attempt(
                current_learner(),
                chapter_key,
                exercise.id,
                "hands_on",
                result.passed,
                answer=result.evidence,
                score=result.score,
            )
            st.session_state[result_key] = result
            st.rerun()
        result = st.session_state.get(result_key)
        if result is not None:
            if result.passed:
                st.success(result.detail or t("exercises.passed"), icon=":material/check:")
                if progress is not None and progress.passed_with_solution:
                    st.caption(t("exercises.passed_solution_seen"))
            elif progress is not None and progress.done:  # done before: never "not yet" beside "completed"
                st.info(t("exercises.no_longer_passes"), icon=":material/history:")
                st.markdown("\n".join(f"- {m}" for m in result.missing))
            else:
                st.warning(t("exercises.not_yet"), icon=":material/pending:")
                st.markdown("\n".join(f"- {m}" for m in result.missing))
        _solution(chapter_key, exercise, progress)


def _solution(chapter_key: str, exercise: HandsOn, progress: ItemProgress | None) -> None:
    """The walkthrough: open to teachers; a learner opens it on demand, after a confirmation that says what it
    costs (not passed yet: the exercise will no longer count as done; passed already: nothing)."""
    if exercise.solution is None:
        return
    teacher = current_person().role == Role.TEACHER
    completed, seen = (progress.completed, progress.solution_seen) if progress else (False, False)
    ask_key = widget_key(chapter_key, exercise.id, "solution_ask")
    if solution_visible(exercise, teacher=teacher, completed=completed, solution_seen=seen):
        label = t("exercises.solution_teacher" if teacher else "exercises.solution")
        with st.expander(label, icon=":material/menu_book:", expanded=st.session_state.pop(ask_key, False)):
            st.markdown(pick(exercise.solution, current_lang()))
        return
    if not st.session_state.get(ask_key):
        st.button(
            t("exercises.solution_open"),
            key=widget_key(chapter_key, exercise.id, "solution_open"),
            icon=":material/menu_book:",
            on_click=_set_state,
            args=(ask_key, True),
        )
        return
    st.warning(t("exercises.solution_confirm"), icon=":material/visibility:")
    yes, no = st.columns(2)
    if yes.button(
        t("exercises.solution_confirm_yes"), key=widget_key(chapter_key, exercise.id, "solution_yes"), type="primary"
    ):
        progress_store().record_solution_seen(current_learner(), chapter_key, exercise.id)
        st.rerun()
    no.button(
        t("exercises.solution_confirm_no"),
        key=widget_key(chapter_key, exercise.id, "solution_no"),
        on_click=_set_state,
        args=(ask_key, False),
    )


def _set_state(key: str, value: object) -> None:
    st.session_state[key] = value


def forget_check_results(chapter_key: str) -> None:
    """Drop the chapter's "not yet" verdicts: called by a lab when the learner saves new work, so a card
    never lists what was missing before that work (the learner checks again to see where they stand)."""
    prefix, suffix = f"ch{chapter_key[:2]}_", "_check_result"
    for key in [k for k in st.session_state if str(k).startswith(prefix) and str(k).endswith(suffix)]:
        result = st.session_state[key]
        if isinstance(result, CheckResult) and not result.passed:
            del st.session_state[key]


def _run_check_safely(exercise: HandsOn, lang: str) -> CheckResult:
    """Run a check; an unexpected failure becomes a readable message, never a traceback."""
    ctx = CheckContext(learner=current_learner(), lang=lang, settings=get_settings())
    try:
        return run_check(exercise, ctx)
    except Exception as exc:  # a check must not break the page; the learner sees why
        log.exception("check %s failed", exercise.check)
        return failed(t("exercises.check_failed", error=error_text(exc, with_type=True)))


def _reset_chapter(chapter_key: str, learner: str) -> None:
    with st.expander(t("exercises.reset_title"), icon=":material/restart_alt:"):
        confirm = st.checkbox(t("exercises.reset_confirm", learner=learner), key=f"ch{chapter_key[:2]}_reset_confirm")
        if st.button(
            t("exercises.reset_button"), key=f"ch{chapter_key[:2]}_reset", disabled=not confirm, type="primary"
        ):
            from workbench.chapters import get_chapter
            from workbench.ui.chapter_state import reset_chapter

            erased = reset_chapter(get_chapter(chapter_key), learner).answers
            st.toast(t("exercises.reset_done", n=erased))
            st.rerun()
