"""The lesson's « Vérifiez vos acquis » section: the learner writes an answer, then compares it with a model one.

A teacher signed in (class mode) sees every model answer at once. A learner's answers, and which model answers
they opened, are learner records under the chapter's prefix (`chNN_slug/review_answers.json`): a chapter reset
clears them.
"""

from __future__ import annotations

import streamlit as st

from workbench.chapters import get_chapter
from workbench.core.lessons import Lesson, LessonError
from workbench.core.people import Role
from workbench.core.records import records_for
from workbench.core.review import ANSWERS_RECORD, ReviewQuestion, review_questions
from workbench.core.settings import get_settings
from workbench.ui.context import current_learner, error_text, t
from workbench.ui.identity import current_person

#: A learner's answer is a few sentences: the box stops there (a record stays small, in class mode too).
MAX_ANSWER_CHARS = 3000


def review_section(lesson: Lesson) -> None:
    """Each question of the section, with the learner's answer box and the model answer (or the teacher view)."""
    try:
        questions = review_questions(lesson)
    except LessonError as exc:
        st.error(t("review.unavailable", error=error_text(exc)))
        return
    if current_person().role == Role.TEACHER:
        _teacher_view(questions)
        return
    chapter = get_chapter(lesson.chapter_key)
    records = records_for(get_settings(), current_learner())
    record_key = f"{chapter.package}/{ANSWERS_RECORD}"
    saved = records.get_json(record_key, {}) or {}
    answers, compared = dict(saved.get("answers") or {}), set(saved.get("compared") or [])
    st.caption(t("review.intro"))
    changed = False
    for index, question in enumerate(questions):
        box = f"{chapter.prefix}_review_answer_{index}"
        if box not in st.session_state:
            st.session_state[box] = answers.get(question.key, "")
        st.markdown(f"**{index + 1}.** {question.text}")
        written = st.text_area(
            t("review.your_answer"),
            key=box,
            placeholder=t("review.placeholder"),
            label_visibility="collapsed",
            max_chars=MAX_ANSWER_CHARS,
        )
        if written.strip() != answers.get(question.key, "").strip():
            answers[question.key] = written
            changed = True
        if question.answer is None:
            st.caption(t("review.no_model_answer"))
            continue
        reveal = f"{chapter.prefix}_review_reveal_{index}"
        if st.session_state.pop(reveal, False) and written.strip():  # the button was clicked
            compared.add(question.key)
            changed = True
        if question.key in compared and written.strip():
            _model_answer(question, t("review.model_answer"))
            continue
        st.button(
            t("review.compare"),
            key=f"{chapter.prefix}_review_compare_{index}",
            icon=":material/compare_arrows:",
            disabled=not written.strip(),
            help=t("review.compare_disabled") if not written.strip() else t("review.compare_help"),
            on_click=_set_state,
            args=(reveal,),
        )
    if changed:
        records.put_json(record_key, {"answers": answers, "compared": sorted(compared)})


def _set_state(key: str) -> None:
    """Button callback: remember the click for the next run (callbacks only set session state)."""
    st.session_state[key] = True


def _teacher_view(questions: list[ReviewQuestion]) -> None:
    """Every question with its model answer, nothing to write."""
    st.caption(t("review.teacher_intro"))
    for index, question in enumerate(questions):
        st.markdown(f"**{index + 1}.** {question.text}")
        if question.answer is None:
            st.caption(t("review.no_model_answer"))
        else:
            _model_answer(question, t("review.model_answer_teacher"))


def _model_answer(question: ReviewQuestion, label: str) -> None:
    """The model answer, set apart from the learner's own."""
    with st.container(border=True):
        st.markdown(f"**{label}**")
        st.markdown(question.answer or "")
