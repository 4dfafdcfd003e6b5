"""Chapter II lab tabs: pandas on the course data, NumPy vs a loop, predict the output, the git sandbox."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import pick, translate
from workbench.core.records import records_for
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.resources import course_data, loaded_file
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

P = get_chapter("ch02_fundamentals").prefix  # widget key prefix, from the chapter
CHAPTER = "02_fundamentals"
ACTIONS = ("loc", "iloc", "filter", "groupby", "pivot", "merge", "files")


def _data() -> pd.DataFrame | None:
    try:
        return course_data()
    except (OSError, ValueError) as exc:
        st.error(t("fundamentals.data_error", error=error_text(exc)))
        return None


def _show_result(result: pd.DataFrame, code: str) -> None:
    from workbench.chapters.ch02_fundamentals.lab import with_preamble

    st.caption(t("fundamentals.shape", rows=result.shape[0], cols=result.shape[1]))
    dataframe(result.head(200), hide_index=False, key=f"{P}_pandas_result")
    show_code(with_preamble(code), expanded=True)


# ----------------------------------------------------------------------------------------------
# pandas
# ----------------------------------------------------------------------------------------------


def pandas_tab() -> None:
    """loc, iloc, filters, groupby, pivot, merge, CSV/Excel round trip, and the answer box of the exercise."""
    from workbench.chapters.ch02_fundamentals import lab as fu

    df = _data()
    if df is None:
        return
    lang = current_lang()
    st.markdown(t("fundamentals.pandas_intro", rows=len(df), cols=df.shape[1]))
    action = st.segmented_control(
        t("fundamentals.action"),
        ACTIONS,
        key=f"{P}_pandas_action",
        default="loc",
        required=True,
        format_func=lambda a: translate(f"fundamentals.action_{a}", lang),
    )
    st.caption(t(f"fundamentals.help_{action}"))
    try:
        {
            "loc": _loc,
            "iloc": _iloc,
            "filter": _filter,
            "groupby": _groupby,
            "pivot": _pivot,
            "merge": _merge,
            "files": _files,
        }[action](df)
    except fu.LabError as exc:
        st.warning(exc.message(lang), icon=":material/warning:")
    st.divider()
    _rate_answer(df)


def _loc(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import select_by_label

    ids = list(df["Loan_ID"])
    left, middle, right = st.columns([1, 1, 2])
    start = left.selectbox(t("fundamentals.start_label"), ids, index=0, key=f"{P}_loc_start")
    end = middle.selectbox(t("fundamentals.end_label"), ids, index=4, key=f"{P}_loc_end")
    columns = right.multiselect(
        t("fundamentals.columns"),
        [c for c in df.columns if c != "Loan_ID"],
        default=["Gender", "ApplicantIncome", "LoanAmount", "Loan_Status"],
        key=f"{P}_loc_columns",
        placeholder=t("common.choose_several"),
    )
    result, code = select_by_label(df, start, end, columns)
    _show_result(result, code)


def _iloc(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import select_by_position

    cols = st.columns(4)
    n_rows, n_cols = df.shape
    bounds = (
        ("row_start", 0, n_rows - 1, 0),
        ("row_stop", 1, n_rows, 5),
        ("col_start", 0, n_cols - 1, 0),
        ("col_stop", 1, n_cols, 4),
    )
    values = [
        number_field(
            t(f"fundamentals.{name}"),
            key=f"{P}_iloc_{name}",
            value=default,
            min_value=low,
            max_value=high,
            integer=True,
            container=col,
        )
        for col, (name, low, high, default) in zip(cols, bounds)
    ]
    if None in values:
        return
    row_start, row_stop, col_start, col_stop = values
    result, code = select_by_position(df, int(row_start), int(row_stop), int(col_start), int(col_stop))
    _show_result(result, code)


def _condition(df: pd.DataFrame, number: int, default_column: str, default_value: str):
    from workbench.chapters.ch02_fundamentals.lab import OPERATORS, Condition

    columns = [c for c in df.columns if c != "Loan_ID"]
    left, middle, right = st.columns([2, 1, 2])
    column = left.selectbox(
        t("fundamentals.column"), columns, index=columns.index(default_column), key=f"{P}_filter_column_{number}"
    )
    op = middle.selectbox(t("fundamentals.operator"), OPERATORS, key=f"{P}_filter_op_{number}")
    if pd.api.types.is_numeric_dtype(df[column]):
        value = right.text_input(t("fundamentals.value"), default_value, key=f"{P}_filter_value_{number}_{column}")
    else:
        values = sorted(df[column].dropna().unique())
        value = right.selectbox(t("fundamentals.value"), values, key=f"{P}_filter_value_{number}_{column}")
    return Condition(column, op, value)


def _filter(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import filter_rows

    conditions = [_condition(df, 1, "Credit_History", "1")]
    if st.checkbox(t("fundamentals.second_condition"), key=f"{P}_filter_second"):
        conditions.append(_condition(df, 2, "ApplicantIncome", "5000"))
    result, code = filter_rows(df, conditions)
    _show_result(result, code)


def _targets(df: pd.DataFrame) -> list[str]:
    from workbench.chapters.ch02_fundamentals.lab import APPROVED

    return [APPROVED, *[c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]]


def _groupby(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import AGGREGATIONS, group_by

    lang = current_lang()
    groupable = [c for c in df.columns if c not in ("Loan_ID", "ApplicantIncome", "CoapplicantIncome", "LoanAmount")]
    left, middle, right = st.columns(3)
    by = left.multiselect(
        t("fundamentals.group_by"),
        groupable,
        default=["Property_Area"],
        key=f"{P}_groupby_by",
        placeholder=t("common.choose_several"),
    )
    target = middle.selectbox(
        t("fundamentals.target"),
        _targets(df),
        key=f"{P}_groupby_target",
        format_func=lambda c: translate("fundamentals.approved_label", lang) if c == "approved" else c,
    )
    aggs = right.multiselect(
        t("fundamentals.aggs"),
        AGGREGATIONS,
        default=["mean", "count"],
        key=f"{P}_groupby_aggs",
        placeholder=t("common.choose_several"),
    )
    dropna = not st.checkbox(t("fundamentals.keep_missing"), key=f"{P}_groupby_keep_missing")
    result, code = group_by(df, by, target, aggs, dropna=dropna)
    _show_result(result, code)


def _pivot(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import AGGREGATIONS, pivot

    lang = current_lang()
    dims = ["Property_Area", "Credit_History", "Education", "Married", "Gender", "Self_Employed", "Dependents"]
    cols = st.columns(4)
    index = cols[0].selectbox(t("fundamentals.pivot_index"), dims, index=0, key=f"{P}_pivot_index")
    columns = cols[1].selectbox(t("fundamentals.pivot_columns"), dims, index=1, key=f"{P}_pivot_columns")
    values = cols[2].selectbox(
        t("fundamentals.target"),
        _targets(df),
        key=f"{P}_pivot_values",
        format_func=lambda c: translate("fundamentals.approved_label", lang) if c == "approved" else c,
    )
    aggfunc = cols[3].selectbox(t("fundamentals.aggfunc"), AGGREGATIONS, key=f"{P}_pivot_aggfunc")
    result, code = pivot(df, index, columns, values, aggfunc)
    _show_result(result, code)


def _merge(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import MERGE_HOWS, merge_counts, merge_regions, region_table

    st.markdown(t("fundamentals.regions_intro"))
    dataframe(region_table(), width="content", key=f"{P}_regions")
    how = st.radio(t("fundamentals.how"), MERGE_HOWS, index=1, horizontal=True, key=f"{P}_merge_how")
    result, code = merge_regions(df, how)
    counts = merge_counts(result)
    cols = st.columns(4)
    cols[0].metric(t("fundamentals.merged_rows"), len(result))
    for col, origin in zip(cols[1:], ("both", "left_only", "right_only")):
        col.metric(t(f"fundamentals.merge_{origin}"), counts[origin])
    st.caption(t(f"fundamentals.how_{how}"))
    _show_result(result, code)


def _files(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals.lab import round_trip

    folder = records_for(get_settings(), current_learner()).workspace("fundamentals")
    left, right = st.columns(2)
    for column, kind in ((left, "csv"), (right, "xlsx")):
        if column.button(t(f"fundamentals.round_trip_{kind}"), key=f"{P}_round_trip_{kind}", icon=":material/save:"):
            with st.spinner(t("fundamentals.saving")):
                st.session_state[f"{P}_round_trip"] = round_trip(df, folder, kind)
    trip = st.session_state.get(f"{P}_round_trip")
    if trip is None:
        st.info(t("fundamentals.round_trip_hint"))
        return
    lang = current_lang()
    cols = st.columns(3)
    cols[0].metric(t("fundamentals.file_size"), fmt.kilobytes(trip.size, lang))
    cols[1].metric(t("fundamentals.write_time"), fmt.milliseconds(trip.write_seconds * 1000, lang))
    cols[2].metric(t("fundamentals.read_time"), fmt.milliseconds(trip.read_seconds * 1000, lang))
    if trip.equal:
        st.success(t("fundamentals.round_trip_equal", name=trip.path.name), icon=":material/check:")
    elif trip.values_equal:
        st.warning(t("fundamentals.round_trip_dtypes", name=trip.path.name), icon=":material/warning:")
    else:
        st.error(t("fundamentals.round_trip_differs", name=trip.path.name), icon=":material/error:")
    dtypes = trip.dtypes.rename(columns={c: t(f"fundamentals.dtype_{c}") for c in trip.dtypes.columns})
    dataframe(dtypes, key=f"{P}_dtypes")
    mime = "text/csv" if trip.fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if trip.path.is_file():
        st.download_button(
            t("fundamentals.download", name=trip.path.name),
            trip.path.read_bytes(),
            file_name=trip.path.name,
            mime=mime,
            key=f"{P}_download",
            icon=":material/download:",
        )
    show_code(trip.code, expanded=True)


def _rate_area() -> tuple[str, float]:
    from workbench.core.exercises import load_exercises

    for exercise in load_exercises(CHAPTER).hands_on:
        if exercise.id == "groupby-answer":
            return str(exercise.params.get("area", "Semiurban")), float(exercise.params.get("tolerance", 0.5))
    return "Semiurban", 0.5


def _rate_answer(df: pd.DataFrame) -> None:
    from workbench.chapters.ch02_fundamentals import lab as fu

    area, tolerance = _rate_area()
    settings, learner = get_settings(), current_learner()
    st.subheader(t("fundamentals.question_title"))
    st.markdown(t("fundamentals.question_rate", area=area, tolerance=tolerance))
    saved = fu.load_answers(settings, learner).get(fu.rate_answer_key(area))
    answer = number_field(
        t("fundamentals.your_answer"),
        key=f"{P}_rate_answer",
        min_value=0.0,
        max_value=100.0,
        digits=1,
        value=float(saved) if isinstance(saved, int | float) else 50.0,
    )
    if st.button(t("fundamentals.save_answer"), key=f"{P}_rate_save", icon=":material/save:", disabled=answer is None):
        fu.save_answer(settings, learner, fu.rate_answer_key(area), round(float(answer), 2))
        st.success(t("fundamentals.answer_saved", value=answer, area=area), icon=":material/check:")


# ----------------------------------------------------------------------------------------------
# NumPy vs loop
# ----------------------------------------------------------------------------------------------


def numpy_tab() -> None:
    """The monthly instalment of every application, in a Python loop and with NumPy, timed on the spot."""
    from workbench.chapters.ch02_fundamentals import lab as fu

    df = _data()
    if df is None:
        return
    lang = current_lang()
    st.markdown(t("fundamentals.numpy_intro"))
    st.latex(r"\text{instalment} = \frac{P \, r}{1 - (1 + r)^{-n}}")
    left, right = st.columns(2)
    n_rows = left.select_slider(
        t("fundamentals.n_rows"),
        [10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
        value=100_000,
        key=f"{P}_numpy_rows",
        format_func=lambda n: fmt.integer(n, lang),
    )
    rate = decimal_slider(t("fundamentals.rate"), 0.0, 10.0, 4.0, 0.1, key=f"{P}_numpy_rate", container=right)
    if st.button(t("fundamentals.numpy_run"), key=f"{P}_numpy_run", type="primary", icon=":material/timer:"):
        with st.spinner(t("fundamentals.numpy_running", n=n_rows)):
            st.session_state[f"{P}_numpy_result"] = fu.compare_loop_numpy(df, int(n_rows), float(rate))
    result = st.session_state.get(f"{P}_numpy_result")
    if result is not None:
        cols = st.columns(3)
        cols[0].metric(t("fundamentals.loop_time"), fmt.milliseconds(result.loop_seconds * 1000, lang, 1))
        cols[1].metric(t("fundamentals.numpy_time"), fmt.milliseconds(result.numpy_seconds * 1000, lang, 2))
        cols[2].metric(t("fundamentals.speedup"), f"× {fmt.integer(result.ratio, lang)}")
        if result.same:
            st.success(t("fundamentals.same_result", n=result.n, diff=result.max_abs_diff), icon=":material/check:")
        else:
            st.error(t("fundamentals.different_result", diff=result.max_abs_diff))
        dataframe(result.sample, width="content", key=f"{P}_numpy_sample")
        st.caption(t("fundamentals.numpy_why"))
    show_code(fu.numpy_vs_loop_code(int(n_rows), float(rate)))


# ----------------------------------------------------------------------------------------------
# Predict the output
# ----------------------------------------------------------------------------------------------


def _load_questions(path: Path) -> list:
    from workbench.chapters.ch02_fundamentals.lab import load_python_questions

    return load_python_questions(path)


def python_tab() -> None:
    """Read a snippet, predict what it prints, compare with the teacher's answer (nothing is executed)."""
    from workbench.chapters.ch02_fundamentals.lab import QUESTIONS_FILE, LabError, grade_output

    lang = current_lang()
    path = get_settings().lessons_dir / QUESTIONS_FILE
    try:
        questions = loaded_file("python_questions", path, _load_questions)
    except (OSError, LabError) as exc:
        st.error(t("fundamentals.questions_error", error=exc.message(lang) if isinstance(exc, LabError) else exc))
        return
    st.markdown(t("fundamentals.python_intro"))
    results: dict[str, bool] = st.session_state.setdefault(f"{P}_py_results", {})
    ids = [q.id for q in questions]
    score = st.empty()  # filled at the end, once this run's answer is counted

    def label(qid: str) -> str:
        topic = translate(f"fundamentals.topic_{questions[ids.index(qid)].topic}", lang)
        mark = " ✓" if results.get(qid) else " ✗" if qid in results else ""
        return f"{ids.index(qid) + 1}. {topic}{mark}"

    chosen = st.selectbox(t("fundamentals.question_pick"), ids, key=f"{P}_py_pick", format_func=label)
    question = questions[ids.index(chosen)]
    with st.container(border=True):
        st.markdown(t("fundamentals.what_prints"))
        st.code(question.code, language="python")
        key = f"{P}_py_answer_{question.id.replace('-', '_')}"
        if question.options:
            given = st.radio(
                t("fundamentals.pick_output"),
                question.options,
                index=None,
                key=key,
                format_func=lambda option: f"`{option}`",
            )  # program output: shown as code
        else:
            given = st.text_area(t("fundamentals.type_output"), key=key, height=80)
        if st.button(t("fundamentals.check_output"), key=f"{P}_py_check", disabled=not given):
            results[question.id] = grade_output(question, given or "")
        if question.id in results:
            if results[question.id]:
                st.success(t("fundamentals.output_right"), icon=":material/check:")
            else:
                st.error(t("fundamentals.output_wrong", answer=question.answer), icon=":material/close:")
            st.info(pick(question.explanation, lang), icon=":material/lightbulb:")
    st.caption(t("fundamentals.never_executed"))
    score.progress(
        sum(results.values()) / len(ids) if ids else 0.0,
        text=t("fundamentals.python_score", right=sum(results.values()), done=len(results), total=len(ids)),
    )


# ----------------------------------------------------------------------------------------------
# Git sandbox
# ----------------------------------------------------------------------------------------------


def _run_git_action(action, *args, **kwargs) -> None:
    """Run one sandbox action and keep what it printed (GitSandboxError becomes a warning)."""
    from workbench.chapters.ch02_fundamentals.git_sandbox import GitSandboxError

    try:
        results = action(*args, **kwargs)
    except GitSandboxError as exc:
        st.session_state[f"{P}_git_error"] = exc.message(current_lang())
        st.session_state.pop(f"{P}_git_last", None)
        return
    results = results if isinstance(results, list) else [results]
    st.session_state.pop(f"{P}_git_error", None)
    st.session_state[f"{P}_git_last"] = results
    st.session_state.setdefault(f"{P}_git_history", []).extend(r.command for r in results)
    st.rerun()  # the branch pickers and the graph above must show the new state


def git_tab() -> None:
    """Real git in the learner's sandbox: each button shows the exact command and its output."""
    from workbench.chapters.ch02_fundamentals import git_sandbox as gs

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    repo = gs.sandbox_dir(settings, learner)
    st.markdown(t("git.intro"))
    st.caption(t("git.where", path=str(repo)))

    if not gs.is_initialised(repo):
        if st.button(t("git.init"), key=f"{P}_git_init", type="primary", icon=":material/folder_open:"):
            _run_git_action(gs.init_sandbox, repo, learner)
        _git_output()
        _hosting()
        return

    current = gs.current_branch(repo)
    names = gs.branches(repo)
    st.markdown(t("git.on_branch", branch=current or "—", files=", ".join(gs.files(repo)) or "—"))

    with st.container(border=True):
        st.markdown(f"**1. {t('git.step_write')}**")
        left, right = st.columns([1, 3])
        name = left.text_input(t("git.file_name"), "train.py", key=f"{P}_git_file", max_chars=64)
        content = right.text_area(t("git.file_content"), t("git.default_content"), key=f"{P}_git_content", height=90)
        if st.button(t("git.write"), key=f"{P}_git_write", icon=":material/edit_document:"):
            _run_git_action(gs.write_file, repo, name, content)

    with st.container(border=True):
        st.markdown(f"**2. {t('git.step_commit')}**")
        left, middle, right = st.columns([1, 2, 1], vertical_alignment="bottom")
        if left.button("git add .", key=f"{P}_git_add", icon=":material/add:"):
            _run_git_action(gs.add, repo, ".")
        message = middle.text_input(t("git.message"), t("git.default_message"), key=f"{P}_git_message", max_chars=200)
        if right.button("git commit", key=f"{P}_git_commit", icon=":material/commit:"):
            _run_git_action(gs.commit, repo, message)

    with st.container(border=True):
        st.markdown(f"**3. {t('git.step_branch')}**")
        cols = st.columns(4, vertical_alignment="bottom")
        new_branch = cols[0].text_input(t("git.branch_name"), "feature-income", key=f"{P}_git_branch_name")
        if cols[1].button("git branch", key=f"{P}_git_branch", icon=":material/fork_right:"):
            _run_git_action(gs.branch, repo, new_branch)
        target = cols[2].selectbox(t("git.switch_to"), names or ["main"], key=f"{P}_git_switch_to")
        if cols[3].button("git switch", key=f"{P}_git_switch", icon=":material/swap_horiz:"):
            _run_git_action(gs.switch, repo, target)
        cols = st.columns(4, vertical_alignment="bottom")
        others = [n for n in names if n != current] or names or ["main"]
        source = cols[0].selectbox(t("git.merge_from"), others, key=f"{P}_git_merge_from")
        no_ff = cols[1].checkbox("--no-ff", key=f"{P}_git_no_ff", help=t("git.no_ff_help"))
        if cols[2].button("git merge", key=f"{P}_git_merge", icon=":material/merge:"):
            _run_git_action(gs.merge, repo, source, no_ff=no_ff)
        if cols[3].button("git log", key=f"{P}_git_log", icon=":material/history:"):
            _run_git_action(gs.log, repo)
        if gs.merge_in_progress(repo):
            st.warning(t("git.conflict"), icon=":material/warning:")
            if st.button("git merge --abort", key=f"{P}_git_merge_abort"):
                _run_git_action(gs.merge_abort, repo)

    _git_output()
    commits = gs.history(repo)
    if commits:
        tips = gs.branch_tips(repo)
        st.plotly_chart(
            gs.history_figure(commits, tips, gs.current_branch(repo), lang),
            width="stretch",
            key=f"{P}_git_graph",
            config={"displayModeBar": False},
        )
    else:
        st.info(t("git.no_commit_yet"))
    history = st.session_state.get(f"{P}_git_history", [])
    if history:
        show_code("\n".join(history), title=t("git.all_commands"), language="bash")

    with st.expander(t("git.reset_title"), icon=":material/restart_alt:"):
        confirm = st.checkbox(t("git.reset_confirm", path=str(repo)), key=f"{P}_git_reset_confirm")
        if st.button(t("git.reset"), key=f"{P}_git_reset", disabled=not confirm, type="primary"):
            gs.reset_sandbox(settings, learner)
            for key in (f"{P}_git_last", f"{P}_git_history", f"{P}_git_error", f"{P}_git_reset_confirm"):
                st.session_state.pop(key, None)
            st.toast(t("git.reset_done"))
            st.rerun()
    _hosting()


def _git_output() -> None:
    error = st.session_state.get(f"{P}_git_error")
    if error:
        st.warning(error, icon=":material/warning:")
    last = st.session_state.get(f"{P}_git_last")
    if last:
        text = "\n".join(f"$ {r.command}\n{r.output}".rstrip() for r in last)
        st.caption(t("git.output_title"))
        st.code(text, language="bash")
        if any(not r.ok for r in last):
            st.warning(t("git.command_failed", code=next(r.returncode for r in last if not r.ok)))


def _hosting() -> None:
    from workbench.chapters.ch02_fundamentals.git_sandbox import GITHUB_WORKFLOW, GITLAB_CI

    with st.expander(t("git.hosting_title"), icon=":material/cloud:"):
        st.markdown(t("git.hosting_body"))
        left, right = st.columns(2)
        left.markdown(t("git.github_actions"))
        left.code(GITHUB_WORKFLOW, language="yaml")
        right.markdown(t("git.gitlab_ci"))
        right.code(GITLAB_CI, language="yaml")
