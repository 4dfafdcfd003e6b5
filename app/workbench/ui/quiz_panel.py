"""The quiz: practice questions (retries, explained at once) and the chapter checkpoint (scored at the end)."""

from __future__ import annotations

import streamlit as st

from workbench.core.exercises import CHECKPOINT_ID, ChapterExercises, QuizQuestion
from workbench.core.formatting import date_time, percent
from workbench.core.i18n import pick
from workbench.core.progress import ItemProgress
from workbench.core.quiz import (
    CheckpointResult,
    QuizScore,
    checkpoint_attempts,
    checkpoint_record,
    draw_checkpoint,
    grade_checkpoint,
    option_order,
    regrade_attempt,
    score_answer,
)
from workbench.ui.context import current_lang, current_learner, progress_store, t

VERDICT_ICONS = {
    "hit": ":green[:material/check_circle:]",
    "wrong": ":red[:material/cancel:]",
    "missed": ":orange[:material/radio_button_unchecked:]",
    "skipped": ":gray[:material/remove:]",
}


def widget_key(chapter_key: str, item_id: str, suffix: str) -> str:
    """The key of an exercise widget: chapter prefix, item id, role."""
    return f"ch{chapter_key[:2]}_{item_id.replace('-', '_')}_{suffix}"


def quiz_section(
    chapter_key: str, exercises: ChapterExercises, items: dict[str, ItemProgress], teacher: bool = False
) -> None:
    """The chapter's practice questions, then its checkpoint, each in a tab; a teacher gets the answer key first."""
    labels = [t("quiz.practice"), t("checkpoint.title")]
    if teacher:
        key_tab, practice_tab, checkpoint_tab = st.tabs([t("quiz.answer_key"), *labels])
        with key_tab:
            answer_key(exercises)
    else:
        practice_tab, checkpoint_tab = st.tabs(labels)
    with checkpoint_tab:
        checkpoint_panel(chapter_key, exercises, items.get(CHECKPOINT_ID))
    with practice_tab:
        st.caption(t("quiz.practice_intro"))
        for number, question in enumerate(exercises.quiz, start=1):
            practice_question(chapter_key, number, question, items.get(question.id))


def answer_key(exercises: ChapterExercises) -> None:
    """The teacher view: every question with its right option(s), why each option is right or wrong, and the
    explanation, in the YAML's order, with nothing to answer (never rendered for a learner)."""
    lang = current_lang()
    st.caption(t("quiz.answer_key_intro"))
    for number, question in enumerate(exercises.quiz, start=1):
        with st.container(border=True):
            kind = t("quiz.answer_key_single" if question.kind == "single" else "quiz.answer_key_multiple")
            st.markdown(f"**{number}.** {pick(question.prompt, lang)}  \n:gray[{kind}]")
            lines = []
            for index, option in enumerate(question.options):
                right = index in question.answer
                mark = VERDICT_ICONS["hit"] if right else VERDICT_ICONS["skipped"]
                label = f" **{t('quiz.answer_key_right')}**" if right else ""
                why = question.option_why(index)
                reason = f" — {pick(why, lang)}" if why else ""
                lines.append(f"- {mark}{label} · {pick(option, lang)}{reason}")
            st.markdown("\n".join(lines))
            st.info(pick(question.explanation, lang), icon=":material/lightbulb:")


def _answer_widgets(question: QuizQuestion, order: list[int], key: str, lang: str) -> list[int]:
    """The options in the learner's order; returns the original indices chosen."""
    if question.kind == "single":
        choice = st.radio(
            t("quiz.choose_one"),
            order,
            index=None,
            key=key,
            format_func=lambda i: pick(question.options[i], lang),
            label_visibility="collapsed",
        )
        return [] if choice is None else [choice]
    st.caption(t("quiz.choose_all"))
    return [i for i in order if st.checkbox(pick(question.options[i], lang), key=f"{key}_{i}")]


def _first_try_badge(progress: ItemProgress | None) -> None:
    if progress is None or not progress.completed:
        return
    if progress.first_correct:
        st.badge(t("quiz.first_try"), icon=":material/bolt:", color="green")
    else:
        st.badge(t("quiz.after_retries"), icon=":material/check_circle:", color="blue")


def practice_question(chapter_key: str, number: int, question: QuizQuestion, progress: ItemProgress | None) -> None:
    """One practice question: answer, feedback with every option explained, retries allowed."""
    lang, learner = current_lang(), current_learner()
    key = widget_key(chapter_key, question.id, "answer")
    result_key = widget_key(chapter_key, question.id, "result")
    if progress is not None and result_key not in st.session_state:
        _restore_answer(key, question, progress, result_key)
    order = option_order(learner, chapter_key, question)
    with st.container(border=True):
        _first_try_badge(progress)
        st.markdown(f"**{number}.** {pick(question.prompt, lang)}")
        selected = _answer_widgets(question, order, key, lang)
        if st.button(t("quiz.submit"), key=widget_key(chapter_key, question.id, "submit"), disabled=not selected):
            scored = score_answer(question, selected)
            progress_store().record_attempt(
                learner, chapter_key, question.id, "quiz", scored.correct, answer=sorted(selected), score=scored.score
            )
            st.session_state[result_key] = sorted(selected)
            st.rerun()  # so the badges and progress bars count this answer
        answered = st.session_state.get(result_key)
        if isinstance(answered, list):
            show_feedback(question, score_answer(question, answered), order, lang)


def show_feedback(question: QuizQuestion, scored: QuizScore, order: list[int], lang: str) -> None:
    """What was right, what was missed and why, then the explanation."""
    if scored.correct:
        st.success(t("quiz.correct"), icon=":material/check:")
    elif question.kind == "single" and not question.why:
        right = ", ".join(pick(question.options[i], lang) for i in sorted(question.answer))
        st.error(t("quiz.incorrect", answer=right), icon=":material/close:")
    elif scored.score > 0:
        st.warning(
            t("quiz.partial", score=scored.score, hits=scored.hits, total=len(question.answer), wrong=scored.wrong),
            icon=":material/rule:",
        )
    else:
        st.error(t("quiz.wrong_all"), icon=":material/close:")
    if question.kind == "multiple" or question.why:
        lines = []
        for index in order:
            verdict = scored.options[index]
            why = question.option_why(index)
            reason = f" — {pick(why, lang)}" if why else ""
            lines.append(
                f"- {VERDICT_ICONS[verdict.outcome]} **{t(f'quiz.verdict_{verdict.outcome}')}** · "
                f"{pick(question.options[index], lang)}{reason}"
            )
        st.markdown("\n".join(lines))
    st.info(pick(question.explanation, lang), icon=":material/lightbulb:")


def _restore_answer(key: str, question: QuizQuestion, progress: ItemProgress, result_key: str) -> None:
    """Show a saved answer again after a restart (the widgets start from it)."""
    saved = [i for i in (progress.answer or []) if isinstance(i, int) and 0 <= i < len(question.options)]
    if question.kind == "single" and saved:
        st.session_state[key] = saved[0]
    else:
        for i in saved:
            st.session_state[f"{key}_{i}"] = True
    if saved:
        st.session_state[result_key] = saved


def checkpoint_panel(chapter_key: str, exercises: ChapterExercises, progress: ItemProgress | None) -> None:
    """The checkpoint: a per-learner draw, all answers submitted at once, then the score and explanations."""
    lang, learner = current_lang(), current_learner()
    rules = exercises.checkpoint
    attempts = checkpoint_attempts(progress.answer if progress else None)
    retake_key = f"ch{chapter_key[:2]}_checkpoint_retake"
    st.caption(t("checkpoint.rules", n=min(rules.size, len(exercises.quiz)), mark=rules.pass_mark))
    if progress is not None and progress.completed:
        st.success(t("checkpoint.already_passed", best=progress.score or 0.0), icon=":material/verified:")
    if attempts and not st.session_state.get(retake_key):
        last = regrade_attempt(exercises, attempts[-1])
        if last is None:
            st.info(t("checkpoint.outdated"), icon=":material/update:")
        else:
            _checkpoint_result(chapter_key, last, attempts[-1].get("answers", {}), lang)
        st.button(
            t("checkpoint.retake"),
            key=f"ch{chapter_key[:2]}_checkpoint_retake_button",
            icon=":material/refresh:",
            on_click=_set_state,
            args=(retake_key, True),
        )
    else:
        _checkpoint_form(chapter_key, exercises, learner, len(attempts) + 1, lang, progress)
    if attempts:
        with st.expander(t("checkpoint.history"), icon=":material/history:"):
            st.markdown("\n".join(_history_row(a, lang) for a in reversed(attempts)))


def _set_state(key: str, value: object) -> None:
    st.session_state[key] = value


def _history_row(attempt: dict, lang: str) -> str:
    verdict = t("checkpoint.verdict_passed" if attempt.get("passed") else "checkpoint.verdict_failed")
    when = date_time(attempt.get("at"), lang, short=True)
    return "- " + t(
        "checkpoint.history_row",
        n=attempt.get("attempt", "?"),
        when=when,
        score=float(attempt.get("score") or 0),
        verdict=verdict,
    )


def _checkpoint_form(
    chapter_key: str, exercises: ChapterExercises, learner: str, attempt: int, lang: str, progress: ItemProgress | None
) -> None:
    questions = draw_checkpoint(exercises, learner, attempt)
    prefix = f"ch{chapter_key[:2]}_cp{attempt}"
    answers: dict[str, list[int]] = {}
    with st.form(f"{prefix}_form"):
        st.markdown(f"**{t('checkpoint.attempt', n=attempt)}**")
        for number, question in enumerate(questions, start=1):
            with st.container(border=True):
                st.markdown(f"**{number}.** {pick(question.prompt, lang)}")
                order = option_order(learner, chapter_key, question)
                answers[question.id] = _answer_widgets(
                    question, order, widget_key(chapter_key, question.id, f"cp{attempt}"), lang
                )
        submitted = st.form_submit_button(t("checkpoint.submit"), type="primary", icon=":material/send:")
    if not submitted:
        return
    left = sum(1 for chosen in answers.values() if not chosen)
    if left:
        st.warning(t("checkpoint.unanswered", n=left), icon=":material/warning:")
        return
    result = grade_checkpoint(exercises, questions, answers)
    progress_store().record_attempt(
        learner,
        chapter_key,
        CHECKPOINT_ID,
        "checkpoint",
        result.passed,
        answer=checkpoint_record(progress.answer if progress else None, result, answers),
        score=result.score,
    )
    st.session_state[f"ch{chapter_key[:2]}_checkpoint_retake"] = False
    st.rerun()


def _checkpoint_result(chapter_key: str, result: CheckpointResult, answers: dict, lang: str) -> None:
    """The score of the last attempt, then each question with its feedback."""
    learner = current_learner()
    st.metric(t("checkpoint.score"), percent(result.score, lang, 0))
    st.caption(t("checkpoint.points", points=result.points, total=len(result.questions)))
    if result.passed:
        st.success(t("checkpoint.passed", mark=result.pass_mark), icon=":material/check:")
    else:
        st.warning(t("checkpoint.failed", mark=result.pass_mark), icon=":material/pending:")
    for number, (question, scored) in enumerate(zip(result.questions, result.scores, strict=True), start=1):
        icon = ":material/check_circle:" if scored.correct else ":material/cancel:"
        with st.expander(t("checkpoint.your_answer", number=number, score=scored.score), icon=icon):
            st.markdown(pick(question.prompt, lang))
            show_feedback(question, scored, option_order(learner, chapter_key, question), lang)
