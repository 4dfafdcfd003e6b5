"""The exercise panel: the chapter's quiz and hands-on checks, with saved progress."""

from __future__ import annotations

import logging

import streamlit as st

from workbench.core.exercises import (
    CheckContext,
    CheckResult,
    HandsOn,
    QuizQuestion,
    failed,
    grade_quiz,
    load_exercises,
    run_check,
)
from workbench.core.i18n import pick
from workbench.core.progress import ItemProgress
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, progress_store, t

log = logging.getLogger(__name__)


def _widget_key(chapter_key: str, item_id: str, suffix: str) -> str:
    return f"ch{chapter_key[:2]}_{item_id.replace('-', '_')}_{suffix}"


def exercise_panel(chapter_key: str) -> None:
    """Render every quiz question and hands-on exercise of a chapter, and the chapter's progress."""
    exercises = load_exercises(chapter_key)
    learner = current_learner()
    store = progress_store()
    items = store.chapter_items(learner, chapter_key)
    done = sum(1 for i in exercises.item_ids if i in items and items[i].completed)
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
        for number, question in enumerate(exercises.quiz, start=1):
            _quiz_question(chapter_key, number, question, items.get(question.id))
    _reset_chapter(chapter_key, learner)


def _status_badge(progress: ItemProgress | None) -> None:
    if progress is not None and progress.completed:
        st.badge(t("exercises.done"), icon=":material/check_circle:", color="green")


def _quiz_question(chapter_key: str, number: int, question: QuizQuestion, progress: ItemProgress | None) -> None:
    lang = current_lang()
    key = _widget_key(chapter_key, question.id, "answer")
    options = list(range(len(question.options)))
    result_key = _widget_key(chapter_key, question.id, "result")
    if progress is not None and result_key not in st.session_state:
        _restore_answer(key, question, progress, result_key)
    with st.container(border=True):
        _status_badge(progress)
        st.markdown(f"**{number}.** {pick(question.prompt, lang)}")
        if question.kind == "single":
            choice = st.radio(
                t("quiz.choose_one"),
                options,
                index=None,
                key=key,
                format_func=lambda i: pick(question.options[i], lang),
                label_visibility="collapsed",
            )
            selected = [] if choice is None else [choice]
        else:
            st.caption(t("quiz.choose_all"))
            selected = [i for i in options if st.checkbox(pick(question.options[i], lang), key=f"{key}_{i}")]
        if st.button(t("quiz.submit"), key=_widget_key(chapter_key, question.id, "submit"), disabled=not selected):
            correct = grade_quiz(question, selected)
            progress_store().record_attempt(
                current_learner(), chapter_key, question.id, "quiz", correct, answer=sorted(selected)
            )
            st.session_state[result_key] = correct
            st.rerun()  # so the chapter and sidebar progress bars count this answer
        if result_key in st.session_state:
            if st.session_state[result_key]:
                st.success(t("quiz.correct"), icon=":material/check:")
            else:
                right = ", ".join(pick(question.options[i], lang) for i in sorted(question.answer))
                st.error(t("quiz.incorrect", answer=right), icon=":material/close:")
            st.info(pick(question.explanation, lang), icon=":material/lightbulb:")


def _restore_answer(key: str, question: QuizQuestion, progress: ItemProgress, result_key: str) -> None:
    """Show a saved answer again after a restart (the widgets start from it)."""
    saved = [i for i in (progress.answer or []) if isinstance(i, int) and 0 <= i < len(question.options)]
    if question.kind == "single" and saved:
        st.session_state[key] = saved[0]
    else:
        for i in saved:
            st.session_state[f"{key}_{i}"] = True
    st.session_state[result_key] = progress.last_correct


def _hands_on(chapter_key: str, exercise: HandsOn, progress: ItemProgress | None) -> None:
    lang = current_lang()
    result_key = _widget_key(chapter_key, exercise.id, "check_result")
    with st.container(border=True):
        _status_badge(progress)
        st.markdown(f"**{pick(exercise.title, lang)}**")
        st.markdown(pick(exercise.instructions, lang))
        if st.button(
            t("exercises.check"), key=_widget_key(chapter_key, exercise.id, "check"), icon=":material/fact_check:"
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
            elif progress is not None and progress.completed:  # done before: never "not yet" beside "completed"
                st.info(t("exercises.no_longer_passes"), icon=":material/history:")
                st.markdown("\n".join(f"- {m}" for m in result.missing))
            else:
                st.warning(t("exercises.not_yet"), icon=":material/pending:")
                st.markdown("\n".join(f"- {m}" for m in result.missing))


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
