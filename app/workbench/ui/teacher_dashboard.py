"""The teacher's dashboard: the class's progress, the questions it gets wrong, who is stuck, live view, one learner.

Only a signed-in teacher (`current_person().is_teacher`) sees it; anyone else who opens its address gets a
refusal. Every number comes from `workbench.core.classroom_report`, read once per run into a snapshot.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.chapters import CHAPTERS
from workbench.core import classroom_report as cr
from workbench.core import formatting as fmt
from workbench.core.lessons import load_lesson
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, error_text, progress_store, t
from workbench.ui.identity import current_person, roster
from workbench.ui.widgets import dataframe, plotly_chart

P = "teacher"
#: Seconds between two refreshes of the live view.
LIVE_SECONDS = 10
_BY_KEY = {c.key: c for c in CHAPTERS}


def class_learners(store: ProgressStore) -> list[str]:
    """The class's learners: the roster's learners, then anyone else with activity (an OIDC user not in the
    roster), never a teacher (the roster's, or the one signed in)."""
    return cr.class_learners(roster(), store, exclude=[current_person().name])


def chapter_label(key: str | None) -> str:
    """`V. MLflow`: a chapter's Roman number and its short title, in the current language."""
    if key is None or key not in _BY_KEY:
        return fmt.MISSING if key is None else key
    return f"{_BY_KEY[key].roman}. {load_lesson(key, current_lang()).nav_title}"


def render_teacher_dashboard() -> None:
    """The page: refused to anyone but a teacher; else the class in five tabs."""
    st.title(t("teacher.title"))
    if not current_person().is_teacher:
        st.error(t("teacher.refused"), icon=":material/lock:")
        return
    store = progress_store()
    learners = class_learners(store)
    snapshot = cr.load_class(store, learners)
    head, button = st.columns([5, 1], vertical_alignment="center")
    head.caption(t("teacher.summary", n=len(learners), when=fmt.date_time(snapshot.taken_at, current_lang())))
    button.button(t("teacher.refresh"), key=f"{P}_refresh", icon=":material/refresh:")  # a click reruns the page
    if not learners:
        st.info(t("teacher.no_learners"), icon=":material/group_off:")
        return
    progress, questions, stuck, live, one = st.tabs(
        [t(f"teacher.tab_{name}") for name in ("progress", "questions", "stuck", "live", "learner")]
    )
    with progress:
        _progress_tab(snapshot)
    with questions:
        _questions_tab(snapshot)
    with stuck:
        _stuck_tab(snapshot)
    with live:
        _live_tab(store, learners)
    with one:
        _learner_tab(snapshot, store)


def _progress_tab(snapshot: cr.ClassSnapshot) -> None:
    """The class × chapter heat map and the CSV export."""
    lang = current_lang()
    st.caption(t("teacher.heatmap_caption"))
    labels = {
        "learner": t("teacher.axis_learner"),
        "chapter": t("teacher.axis_chapter"),
        "done": t("teacher.axis_done"),
        "solution_seen": t("teacher.axis_solution_seen"),
    }
    plotly_chart(cr.progress_heatmap_figure(snapshot, lang, labels), key=f"{P}_heatmap")
    st.download_button(
        t("teacher.csv_download"),
        cr.report_csv(cr.report_rows(snapshot)),
        file_name=f"class-report-{pd.Timestamp(snapshot.taken_at, unit='s'):%Y-%m-%d}.csv",
        mime="text/csv",
        key=f"{P}_csv",
        icon=":material/download:",
        help=t("teacher.csv_help"),
    )
    _time_table(snapshot)


def _time_table(snapshot: cr.ClassSnapshot) -> None:
    """Per chapter: the minutes learners really spent (median, 75th percentile) next to the measured plan."""
    from workbench.core.lessons import LessonError

    st.subheader(t("teacher.time_title"))
    st.caption(t("teacher.time_caption", cap=cr.IDLE_CAP_MINUTES))
    planned = {}
    for chapter in CHAPTERS:
        try:
            planned[chapter.key] = load_lesson(chapter.key, current_lang()).minutes
        except LessonError:
            continue  # the course map says what is wrong with the lesson
    times = cr.chapter_times(snapshot, planned)
    table = pd.DataFrame(
        {
            t("teacher.col_chapter"): times["chapter"].map(chapter_label),
            t("teacher.col_time_learners"): times["learners"],
            t("teacher.col_time_median"): times["median"],
            t("teacher.col_time_p75"): times["p75"],
            t("teacher.col_time_planned"): times["planned"],
        }
    )
    dataframe(
        table,
        {
            t("teacher.col_time_median"): "number:0",
            t("teacher.col_time_p75"): "number:0",
            t("teacher.col_time_planned"): "number:0",
        },
        key=f"{P}_time",
    )


def _questions_tab(snapshot: cr.ClassSnapshot) -> None:
    """Per question and exercise: first-try success across the class, hardest first."""
    stats = cr.question_stats(snapshot, current_lang())
    if stats.empty:
        st.info(t("teacher.questions_none"), icon=":material/quiz:")
        return
    st.caption(t("teacher.questions_caption"))
    table = pd.DataFrame(
        {
            t("teacher.col_chapter"): stats["chapter"].map(chapter_label),
            t("teacher.col_question"): stats["text"],
            t("teacher.col_kind"): stats["kind"].map(lambda kind: t(f"teacher.kind_{kind}")),
            t("teacher.col_attempted"): stats["attempted"],
            t("teacher.col_first_try"): stats["first_try"],
            t("teacher.col_completed"): stats["completed"],
            t("teacher.col_mean_attempts"): stats["mean_attempts"],
        }
    )
    dataframe(
        table,
        {
            t("teacher.col_first_try"): "percent:0",
            t("teacher.col_completed"): "percent:0",
            t("teacher.col_mean_attempts"): "number:1",
        },
        key=f"{P}_questions",
        column_config={t("teacher.col_question"): st.column_config.TextColumn(width="large")},
    )


def _stuck_tab(snapshot: cr.ClassSnapshot) -> None:
    """Learners with failed attempts piling up, or here without progress, with what they last tried."""
    lang = current_lang()
    minutes = st.number_input(
        t("teacher.idle_minutes"),
        min_value=1,
        max_value=240,
        value=cr.IDLE_MINUTES,
        step=5,
        key=f"{P}_idle_minutes",
        help=t("teacher.idle_help"),
    )
    st.caption(t("teacher.stuck_caption", n=cr.STUCK_ATTEMPTS, minutes=int(minutes)))
    stuck = cr.stuck_learners(snapshot, lang, idle_minutes=float(minutes))
    if not stuck:
        st.success(t("teacher.stuck_none"), icon=":material/sentiment_satisfied:")
        return
    st.warning(t("teacher.stuck_count", n=len({s.learner for s in stuck})), icon=":material/support:")
    table = pd.DataFrame(
        {
            t("teacher.col_learner"): [s.learner for s in stuck],
            t("teacher.col_why"): [t(f"teacher.why_{s.reason}", attempts=s.attempts, minutes=s.minutes) for s in stuck],
            t("teacher.col_chapter"): [chapter_label(s.chapter) for s in stuck],
            t("teacher.col_question"): [s.text or fmt.MISSING for s in stuck],
            t("teacher.col_last_answer"): [s.last_answer or fmt.MISSING for s in stuck],
            t("teacher.col_since"): [
                fmt.date_time(s.since, lang, short=True) if s.since else t("teacher.never") for s in stuck
            ],
        }
    )
    dataframe(
        table,
        key=f"{P}_stuck",
        column_config={
            t("teacher.col_question"): st.column_config.TextColumn(width="medium"),
            t("teacher.col_last_answer"): st.column_config.TextColumn(width="large"),
        },
    )


def _live_tab(store: ProgressStore, learners: list[str]) -> None:
    """Who is on which chapter now, re-read every few seconds while the toggle is on."""
    auto = st.toggle(t("teacher.live_auto", seconds=LIVE_SECONDS), value=True, key=f"{P}_live_auto")
    st.fragment(_live_view, run_every=LIVE_SECONDS if auto else None)(store, learners)


def _live_view(store: ProgressStore, learners: list[str]) -> None:
    """The live table (a fragment: only it reruns on each refresh)."""
    lang = current_lang()
    presence = cr.live_presence(store, learners)  # one query, whatever the size of the class
    here = [p for p in presence if p.present]
    st.caption(t("teacher.live_caption", minutes=cr.PRESENT_MINUTES))
    counts = pd.Series([p.chapter for p in here], dtype=object).value_counts()
    colon = "\u00a0: " if lang == "fr" else ": "  # French puts a (non-breaking) space before a colon
    line = " · ".join(f"**{chapter_label(key)}**{colon}{n}" for key, n in counts.items())
    st.markdown(t("teacher.live_count", n=len(here)) + (f" — {line}" if line else ""))
    table = pd.DataFrame(
        {
            t("teacher.col_learner"): [p.learner for p in presence],
            t("teacher.col_present"): [
                t("teacher.answer_yes") if p.present else t("teacher.answer_no") for p in presence
            ],
            t("teacher.col_now_on"): [chapter_label(p.chapter) for p in presence],
            t("teacher.col_last_seen"): [
                fmt.date_time(p.last_seen, lang, short=True) if p.last_seen else t("teacher.never") for p in presence
            ],
        }
    )
    dataframe(table, key=f"{P}_live")


def _learner_tab(snapshot: cr.ClassSnapshot, store: ProgressStore) -> None:
    """One learner: their checks and answers, their MLflow runs and aliases, and resetting one of their chapters."""
    lang = current_lang()
    learner = st.selectbox(t("teacher.pick_learner"), snapshot.learners, key=f"{P}_learner")
    if learner is None:
        return
    detail = cr.learner_detail(snapshot, learner, lang)
    st.subheader(t("teacher.learner_checks"))
    if detail.empty:
        st.info(t("teacher.learner_none"), icon=":material/hourglass_empty:")
    else:
        yes_no = {True: t("teacher.answer_yes"), False: t("teacher.answer_no")}
        table = pd.DataFrame(
            {
                t("teacher.col_chapter"): detail["chapter"].map(chapter_label),
                t("teacher.col_question"): detail["text"],
                t("teacher.col_attempts"): detail["attempts"],
                t("teacher.col_done"): [
                    t("teacher.done_solution_seen") if done and seen else yes_no[bool(done)]
                    for done, seen in zip(detail["completed"], detail["solution_seen"], strict=True)
                ],
                t("teacher.col_first_correct"): detail["first_correct"].map(lambda v: yes_no.get(v, fmt.MISSING)),
                t("teacher.col_last_answer"): detail["last_answer"].replace("", fmt.MISSING),
                t("teacher.col_updated"): detail["updated_at"].map(lambda v: fmt.date_time(v, lang, short=True)),
            }
        )
        dataframe(
            table,
            key=f"{P}_detail",
            column_config={t("teacher.col_question"): st.column_config.TextColumn(width="large")},
        )
    _learner_mlflow(learner)
    _reset_chapter(learner, store)


def _learner_mlflow(learner: str) -> None:
    """The learner's runs and model aliases, read from MLflow on a click (MLflow is slow to import)."""
    lang = current_lang()
    st.subheader(t("teacher.learner_mlflow"))
    cache_key = f"{P}_mlflow_{learner}"
    if st.button(t("teacher.learner_mlflow_button"), key=f"{P}_mlflow_read", icon=":material/science:"):
        try:
            st.session_state[cache_key] = cr.learner_tracking(learner)
        except Exception as exc:  # noqa: BLE001 - the store is down or unreadable: said, not raised
            st.session_state.pop(cache_key, None)
            st.error(t("teacher.mlflow_unavailable", error=error_text(exc)), icon=":material/cloud_off:")
    found = st.session_state.get(cache_key)
    if found is None:
        return
    st.markdown(t("teacher.learner_model", name=found.model_name))
    if not get_settings().class_mode:
        st.caption(t("teacher.learner_shared_model"))
    if found.aliases:
        st.markdown(t("teacher.learner_aliases", aliases=", ".join(f"`@{a}` → v{v}" for a, v in found.aliases.items())))
    else:
        st.caption(t("teacher.learner_no_alias"))
    st.markdown(t("teacher.learner_runs", n=len(found.runs)))
    if not found.runs.empty:
        runs = found.runs
        metrics = [c for c in runs.columns if c.startswith("metrics.")][:4]
        table = pd.DataFrame(
            {
                t("teacher.col_run"): runs["run_name"].fillna(runs["run_id"]),
                t("teacher.col_model"): runs["model"],
                t("teacher.col_started"): runs["start_time"].map(lambda v: fmt.date_time(v, lang, short=True)),
                **{c.removeprefix("metrics."): runs[c] for c in metrics},
            }
        )
        dataframe(table, key=f"{P}_runs")


def _reset_chapter(learner: str, store: ProgressStore) -> None:
    """Erase the learner's answers in one chapter, after an explicit confirmation."""
    st.subheader(t("teacher.reset_title"))
    st.caption(t("teacher.reset_note"))
    if st.session_state.pop(f"{P}_reset_clear", False):  # after a reset: the next one needs a new confirmation
        st.session_state[f"{P}_reset_confirm"] = False
    message = st.session_state.pop(f"{P}_reset_message", None)
    if message:
        st.success(message, icon=":material/restart_alt:")
    chapter = st.selectbox(
        t("teacher.reset_chapter"), [c.key for c in CHAPTERS], format_func=chapter_label, key=f"{P}_reset_chapter"
    )
    roman = _BY_KEY[chapter].roman
    confirmed = st.checkbox(t("teacher.reset_confirm", learner=learner, roman=roman), key=f"{P}_reset_confirm")
    if st.button(
        t("teacher.reset_button"), key=f"{P}_reset", disabled=not confirmed, type="primary", icon=":material/delete:"
    ):
        erased = store.reset(learner, chapter)
        st.session_state[f"{P}_reset_message"] = t("teacher.reset_done", n=erased, learner=learner, roman=roman)
        st.session_state[f"{P}_reset_clear"] = True
        st.rerun()
