"""Chapter VIII lab tabs: the CI/CD/CT pipeline simulator, the learner's pipeline history, the project's CI files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import pick, translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.model_widgets import model_form
from workbench.ui.widgets import dataframe, decimal_slider, inline_code, live_log, show_code

P = get_chapter("ch08_cicd").prefix  # widget key prefix, from the chapter
RUN_KEY = f"{P}_run"


# ----------------------------------------------------------------------------------------------
# Pipeline
# ----------------------------------------------------------------------------------------------


def _config():
    """The pipeline settings chosen on the page (validated when the pipeline starts)."""
    from workbench.chapters.ch08_cicd import delivery as pl

    lang = current_lang()
    left, right = st.columns(2)
    mode = left.radio(
        t("cicd.mode"),
        pl.MODES,
        key=f"{P}_mode",
        horizontal=True,
        format_func=lambda m: translate(f"cicd.mode_{m}", lang),
    )
    left.caption(t(f"cicd.mode_{mode}_help"))
    injection = right.selectbox(
        t("cicd.injection"),
        pl.INJECTIONS,
        key=f"{P}_injection",
        format_func=lambda i: translate(f"cicd.injection_{i}", lang),
    )
    right.caption(t(f"cicd.injection_{injection}_help"))
    with st.expander(t("cicd.settings"), icon=":material/tune:"):
        model_name, params = model_form(f"{P}_model")
        cols = st.columns(3)
        new_rows = cols[0].slider(t("cicd.new_rows"), 0, 1000, 200, 50, key=f"{P}_new_rows")
        metric = cols[1].selectbox(
            t("cicd.metric"),
            pl.GATE_METRICS,
            key=f"{P}_metric",
            format_func=lambda m: translate(f"model.metric_{m}", lang),
        )
        margin = decimal_slider(
            t("cicd.margin"), -0.05, 0.05, 0.0, 0.005, key=f"{P}_margin", container=cols[2], help=t("cicd.margin_help")
        )
        message = st.text_input(t("cicd.commit_message"), t("cicd.commit_default"), max_chars=120, key=f"{P}_message")
        cache = st.checkbox(t("cicd.use_cache"), True, key=f"{P}_cache", help=t("cicd.use_cache_help"))
    return pl.PipelineConfig(
        mode=mode,
        injection=injection,
        model_name=model_name,
        params=params,
        new_rows=new_rows,
        metric=metric,
        margin=margin,
        message=message,
        use_build_cache=cache,
    )


def pipeline_tab() -> None:
    """Configure and run the pipeline step by step or all at once; approve or reject the release."""
    from workbench.chapters.ch08_cicd import delivery as pl

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    st.markdown(t("cicd.pipeline_intro"))
    config = _config()
    if st.button(t("cicd.start"), key=f"{P}_start", type="primary", icon=":material/add_circle:"):
        try:
            st.session_state[RUN_KEY] = pl.new_pipeline(settings, learner, config)
        except pl.PipelineError as exc:
            st.error(exc.message(lang))
    run = st.session_state.get(RUN_KEY)
    if run is None or run.learner != learner:
        st.info(t("cicd.no_pipeline"), icon=":material/info:")
        return
    st.subheader(
        t(
            "cicd.pipeline_title",
            number=run.number,
            mode=t(f"cicd.mode_{run.config.mode}"),
            injection=t(f"cicd.injection_{run.config.injection}"),
        )
    )
    cols = st.columns(4)
    nothing_left = run.next_step is None
    step_clicked = cols[0].button(
        t("cicd.next_step"), key=f"{P}_next", disabled=nothing_left, icon=":material/skip_next:"
    )
    all_clicked = cols[1].button(
        t("cicd.run_all"), key=f"{P}_run_all", disabled=nothing_left, icon=":material/fast_forward:"
    )
    waiting = run.outcome == "waiting"
    approve = cols[2].button(
        t("cicd.approve"), key=f"{P}_approve", disabled=not waiting, type="primary", icon=":material/verified:"
    )
    reject = cols[3].button(t("cicd.reject"), key=f"{P}_reject", disabled=not waiting, icon=":material/block:")
    if step_clicked or all_clicked:
        _advance(run, settings, everything=all_clicked)
        st.rerun()  # so the buttons reflect the new state
    if approve or reject:
        with st.spinner(t("cicd.releasing" if approve else "cicd.rejecting")):
            try:
                (pl.approve if approve else pl.reject)(run, settings)
            except pl.PipelineError as exc:
                st.error(exc.message(lang))
                return
        st.rerun()
    st.plotly_chart(pl.pipeline_figure(run, lang), width="stretch", key=f"{P}_figure", config={"displayModeBar": False})
    _outcome(run)
    dataframe(
        pl.steps_table(run, lang),
        key=f"{P}_steps",
        formats={t("cicd.col_seconds"): "number:2"},
        column_config={t("cicd.col_message"): st.column_config.TextColumn(width="large")},
    )
    for step in run.steps:
        if step.status in ("passed", "failed", "waiting"):
            _step_detail(run, step, lang)


def _advance(run, settings, everything: bool) -> None:
    from workbench.chapters.ch08_cicd import delivery as pl

    label = t("cicd.running_all") if everything else t("cicd.running_step", step=t(f"cicd.step_{run.next_step.name}"))
    with st.status(label, expanded=True) as status:
        on_line = live_log(10)
        if everything:
            pl.run_all(
                run,
                settings,
                on_step=lambda s: status.update(label=t("cicd.running_step", step=t(f"cicd.step_{s.name}"))),
                on_line=on_line,
            )
        else:
            pl.run_next_step(run, settings, on_line)
        state = "error" if run.failed_step else "complete"
        status.update(label=t(f"cicd.outcome_{run.outcome}"), state=state, expanded=False)


def _outcome(run) -> None:
    outcome = run.outcome
    if outcome == "failed":
        step = run.step(run.failed_step)
        st.error(
            t("cicd.stopped_at", step=t(f"cicd.step_{step.name}"), message=step.text(current_lang())),
            icon=":material/cancel:",
        )
        st.caption(t("cicd.production_untouched"))
    elif outcome == "production":
        st.success(
            t("cicd.reached_production", version=run.version, seconds=run.seconds), icon=":material/rocket_launch:"
        )
    elif outcome == "waiting":
        st.warning(t("cicd.awaiting_approval", version=run.version), icon=":material/pending_actions:")
    elif outcome == "rejected":
        st.info(t("cicd.was_rejected", version=run.version), icon=":material/block:")


def _step_detail(run, step, lang: str) -> None:
    from workbench.chapters.ch08_cicd import delivery as pl

    icon = {"passed": ":material/check_circle:", "failed": ":material/cancel:", "waiting": ":material/pending:"}[
        step.status
    ]
    settings = get_settings()
    with st.expander(
        f"{t(f'cicd.step_{step.name}')} — {t(f'cicd.status_{step.status}')}",
        icon=icon,
        expanded=step.status == "failed" or step.name in ("test", "gate"),
    ):
        if step.status == "failed":
            st.error(step.text(lang))
        else:
            st.markdown(step.text(lang))
        if step.name == "commit" and run.commit:
            st.code(run.commit, language="text")
            show_code(pl.commit_code(run), language="bash")
        elif step.name == "build":
            show_code(
                pl.build_code(cached=step.message is not None and step.message[0] == "build_cached"), language="bash"
            )
        elif step.name == "test" and run.test_report is not None:
            _test_report(run, run.test_report, lang)
            show_code(pl.test_code(), language="bash")
        elif step.name == "train" and run.candidate_metrics:
            cols = st.columns(5)
            for col, (name, value) in zip(cols, run.candidate_metrics.items()):
                col.metric(t(f"model.metric_{name}"), fmt.number(value, lang, 3))
            show_code(pl.train_code(run, settings))
        elif step.name == "gate" and run.gate is not None:
            _gate(run.gate)
            if run.model_uri:
                show_code(
                    pl.gate_code(settings, run.model_uri, run.config.metric, run.config.margin, learner=run.learner)
                )
        elif step.name == "staging" and run.version is not None:
            show_code(pl.promote_code(settings, "staging", run.version, run.model_uri, learner=run.learner))
        elif step.name == "production" and step.status == "passed":
            show_code(pl.promote_code(settings, "production", run.version, learner=run.learner))
        if step.log:
            st.code(step.log[-5000:], language="text")


def _test_report(run, report, lang: str) -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    cols = st.columns(3)
    cols[0].metric(t("cicd.tests_total"), report.tests)
    cols[1].metric(t("cicd.tests_passed_count"), report.count("passed"))
    cols[2].metric(t("cicd.tests_failed_count"), report.count("failed") + report.count("error"))
    dataframe(pk.junit_table(report, lang), key=f"{P}_junit")
    st.caption(t("cicd.junit_path", path=run.junit_file or str(report.junit_path)))


def _gate(gate) -> None:
    cols = st.columns(3)
    lang = current_lang()
    metric = t(f"model.metric_{gate.metric}")
    cols[0].metric(t("cicd.gate_candidate", metric=metric), fmt.number(gate.candidate, lang, 3))
    cols[1].metric(
        t("cicd.gate_baseline"),
        fmt.number(gate.baseline, lang, 3),
        fmt.number(gate.candidate - gate.baseline, lang, 3, sign=True),
    )
    if gate.production is None:
        cols[2].metric(t("cicd.gate_production", version="—"), "—")
    else:
        cols[2].metric(
            t("cicd.gate_production", version=gate.production_version),
            fmt.number(gate.production, lang, 3),
            fmt.number(gate.candidate - gate.production, lang, 3, sign=True),
        )


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------


def history_tab() -> None:
    """The learner's pipelines, the registry's aliases now, and the learner's git repository."""
    from workbench.chapters.ch08_cicd import delivery as pl
    from workbench.core import tracking

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    st.markdown(t("cicd.history_intro"))
    history = pl.load_history(settings, learner)
    if history:
        outcomes = pd.Series([h.get("outcome") for h in history]).value_counts()
        cols = st.columns(4)
        cols[0].metric(t("cicd.history_runs"), len(history))
        cols[1].metric(t("cicd.outcome_production"), int(outcomes.get("production", 0)))
        cols[2].metric(t("cicd.outcome_failed"), int(outcomes.get("failed", 0)))
        cols[3].metric(t("cicd.history_gate_stops"), sum(1 for h in history if h.get("failed_step") == "gate"))
        dataframe(
            pl.history_table(history, lang),
            key=f"{P}_history",
            formats={
                t("cicd.col_started"): lambda d: fmt.date_time(d, lang, short=True),
                t("cicd.col_candidate"): "number:3",
                t("cicd.col_production"): "number:3",
                t("cicd.col_seconds"): "number:1",
            },
        )
    else:
        st.info(t("cicd.history_empty"), icon=":material/info:")

    st.subheader(t("cicd.registry_title"))
    try:
        current = tracking.aliases(settings, learner=learner)
    except tracking.TrackingError as exc:
        st.error(t("common.error", error=error_text(exc)))
        current = {}
    cols = st.columns(2)
    for col, alias in zip(cols, ("staging", "production")):
        version = current.get(alias)
        col.metric(f"@{alias}", "—" if version is None else t("cicd.version_n", version=version))
    show_code(pl.promote_code(settings, "production", current.get("production"), learner=learner))

    st.subheader(t("cicd.repo_title"))
    log = pl.sandbox_log(settings, learner)
    if log:
        st.caption(t("cicd.repo_where", path=str(pl.sandbox_dir(settings, learner))))
        st.code(log, language="text")
    else:
        st.caption(t("cicd.repo_empty"))
    confirm = st.checkbox(t("cicd.reset_confirm"), key=f"{P}_repo_reset_confirm")
    if st.button(t("cicd.reset"), key=f"{P}_repo_reset", disabled=not confirm, icon=":material/delete:"):
        try:
            deleted = pl.reset_sandbox(settings, learner)
        except pl.PipelineError as exc:
            st.error(exc.message(lang))
        else:
            st.session_state.pop(RUN_KEY, None)
            st.success(t("cicd.reset_done" if deleted else "cicd.reset_nothing"))


# ----------------------------------------------------------------------------------------------
# The project's CI files
# ----------------------------------------------------------------------------------------------


def files_tab() -> None:
    """.github/workflows/ci.yml and the Jenkinsfile, block by block with explanations; .ci/run beside them."""
    from workbench.chapters.ch08_cicd import delivery as pl

    lang = current_lang()
    settings = get_settings()
    st.markdown(t("cicd.files_intro"))
    choices = (pl.WORKFLOW, pl.JENKINSFILE, pl.CI_RUN)
    name = st.radio(t("cicd.files_pick"), choices, key=f"{P}_file", horizontal=True)
    text = pl.read_project_file(settings, name)
    language = {pl.WORKFLOW: "yaml", pl.JENKINSFILE: "groovy", pl.CI_RUN: "bash"}[name]
    if name == pl.CI_RUN:
        st.markdown(pick(pl.annotations(settings).get("ci_run", {}), lang))
        st.code(text, language="bash", line_numbers=True)
        return
    with st.expander(t("cicd.whole_file", name=name), icon=":material/description:"):
        st.code(text, language=language, line_numbers=True)
    if name == pl.JENKINSFILE:
        st.caption(t("cicd.jenkins_stages", stages=" → ".join(pl.jenkins_stages(text))))
    for block in pl.project_file_blocks(settings, name):
        with st.container(border=True):
            st.markdown(
                f"**{inline_code(block.title)}**" + (f" · {t('cicd.line_n', line=block.line)}" if block.line else "")
            )
            left, right = st.columns([3, 2])
            left.code(block.code, language=language)
            right.markdown(pick(block.note, lang) if block.note else t("cicd.no_note"))
