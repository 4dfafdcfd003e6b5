"""Chapter X exercises on real work: a PromQL query on a real Prometheus, a retraining strategy chosen from data."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.people import Role
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.identity import current_person
from workbench.ui.widgets import dataframe, decimal_slider, plotly_chart

P = get_chapter("ch10_monitoring").prefix
CHAPTER = "10_monitoring"


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def promql_exercise() -> None:
    """Start Prometheus, send the exercise burst, evaluate the learner's PromQL query at the pinned time."""
    from workbench.chapters.ch10_monitoring import promql
    from workbench.core import api_client

    settings, learner, lang = get_settings(), current_learner(), current_lang()
    st.subheader(t("promql.title"))
    url = promql.prometheus_url()
    st.markdown(t("promql.intro", url=url, seconds=promql.SCRAPE_SECONDS))
    if settings.class_mode:
        st.info(t("promql.class_note", endpoint=promql.endpoint_label(settings)), icon=":material/groups:")
    if promql.prometheus_binary() is None:
        st.error(t("promql.not_installed", command=promql.INSTALL_COMMAND), icon=":material/error:")
        return
    status = promql.status(settings)
    left, right = st.columns(2)
    if left.button(
        t("promql.start"), key=f"{P}_prom_start", disabled=status.healthy, type="primary", icon=":material/play_arrow:"
    ):
        with st.spinner(t("promql.start")):
            try:
                promql.start(settings, api_client.api_url(settings))
                st.session_state.pop(f"{P}_prom_error", None)
            except (RuntimeError, ValueError) as exc:
                st.session_state[f"{P}_prom_error"] = exc
        st.rerun()
    shared = settings.class_mode and current_person().role != Role.TEACHER  # one Prometheus for the whole class
    if right.button(
        t("promql.stop"), key=f"{P}_prom_stop", disabled=status.pid is None or shared, icon=":material/stop:"
    ):
        promql.stop(settings)
        st.rerun()
    if error := st.session_state.get(f"{P}_prom_error"):
        st.error(t("promql.start_failed", error=error_text(error)))
    if not status.healthy:
        return
    st.success(t("promql.running", url=url, target=api_client.api_url(settings)), icon=":material/check_circle:")
    if st.button(t("promql.send"), key=f"{P}_prom_send", icon=":material/send:"):
        bar = st.progress(0.0, text=t("promql.sending"))
        try:
            promql.send_burst(
                settings, learner, progress=lambda done, total: bar.progress(done / total, text=t("promql.sending"))
            )
        except promql.PromQLError as exc:
            st.session_state[f"{P}_prom_error"] = exc
        bar.empty()
        forget_check_results(CHAPTER)
        st.session_state.pop(f"{P}_prom_result", None)
    record = promql.load_record(settings, learner)
    if not record.get("at"):
        st.info(t("promql.no_burst_yet"), icon=":material/info:")
        return
    at = float(record["at"])
    st.caption(
        t(
            "promql.burst_done",
            valid=record["sent_valid"],
            invalid=record["sent_invalid"],
            answered=record["answered_422"],
            at=_clock(at),
        )
    )
    with st.form(f"{P}_prom_form", border=False):
        text = st.text_area(
            t("promql.query_label"), value=record.get("query") or "", key=f"{P}_prom_query", help=t("promql.query_help")
        )
        submitted = st.form_submit_button(t("promql.evaluate"), icon=":material/play_circle:")
    if submitted:
        try:
            st.session_state[f"{P}_prom_result"] = promql.evaluate_and_save(settings, learner, text)
            forget_check_results(CHAPTER)
        except promql.PromQLError as exc:
            st.session_state[f"{P}_prom_result"] = exc
    result = st.session_state.get(f"{P}_prom_result")
    if isinstance(result, promql.PromQLError):
        st.error(result.message(lang), icon=":material/error:")
    elif result is not None:
        st.markdown(f"**{t('promql.result_title', at=_clock(at))}**")
        rows = [
            {
                t("promql.col_series"): "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}",
                t("promql.col_value"): fmt.number(value, lang, 4),
            }
            for labels, value in result.series
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"{P}_prom_table")
        try:
            result.single_value()
        except promql.PromQLError as exc:
            st.warning(exc.message(lang), icon=":material/warning:")
    if record.get("query"):
        st.caption(t("promql.saved_query", query=record["query"]))


@st.cache_data(show_spinner=False, max_entries=16)
def _observed(learner: str, dataset: str) -> pd.DataFrame:
    from workbench.chapters.ch10_monitoring import strategy
    from workbench.ui.resources import course_data

    return strategy.observed_data(learner, course_data())


def strategy_exercise() -> None:
    """Show the learner's timeline data, let them choose a strategy and parameter, replay and save it."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from workbench.chapters.ch10_monitoring import strategy
    from workbench.ui.resources import course_data, course_fingerprint

    settings, learner = get_settings(), current_learner()
    st.subheader(t("strategy.title"))
    st.markdown(t("strategy.intro", delay=strategy.LABEL_DELAY, budget=strategy.BUDGET))
    data = _observed(learner, course_fingerprint())
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=data["week"], y=data["max_psi"], name=t("strategy.col_max_psi"), marker_color="#9aa5b1"))
    fig.add_trace(
        go.Scatter(
            x=data["known"],
            y=data["accuracy"],
            name=t("strategy.acc_trace", delay=strategy.LABEL_DELAY),
            mode="lines+markers",
            line={"color": "#e45756", "width": 3},
        ),
        secondary_y=True,
    )
    fig.update_layout(
        title=t("strategy.chart_title"), height=360, margin={"t": 50, "b": 10}, legend={"orientation": "h", "y": -0.25}
    )
    fig.update_xaxes(title_text=t("strategy.col_week"), dtick=1)
    fig.update_yaxes(title_text="PSI", secondary_y=False)
    fig.update_yaxes(title_text=t("strategy.col_accuracy"), tickformat=".2f", secondary_y=True)
    plotly_chart(fig, key=f"{P}_st_chart")
    table = data.rename(columns={c: t(f"strategy.col_{c}") for c in ("week", "max_psi", "accuracy", "known")})
    with st.expander(t("strategy.table"), icon=":material/table:"):
        dataframe(
            table,
            formats={t("strategy.col_max_psi"): "number:3", t("strategy.col_accuracy"): "number:3"},
            key=f"{P}_st_table",
        )
    names = list(strategy.PARAMETERS)
    choice = st.radio(
        t("strategy.choose"),
        names,
        index=None,
        key=f"{P}_st_strategy",
        format_func=lambda s: t(f"strategy.name_{s}"),
        horizontal=True,
    )
    parameter: float | None = None
    if choice == "periodic":
        parameter = float(st.slider(t("strategy.param_periodic"), 1, 10, 1, key=f"{P}_st_period"))
    elif choice in ("data_drift", "accuracy"):
        low, high, step = strategy.PARAMETERS[choice] or (0.0, 1.0, 0.01)
        start = high if choice == "data_drift" else low  # a slider's start never triggers anything useful
        parameter = decimal_slider(t(f"strategy.param_{choice}"), low, high, start, step, key=f"{P}_st_{choice}")
    if st.button(t("strategy.save"), key=f"{P}_st_save", disabled=choice is None, icon=":material/replay:"):
        with st.spinner(t("strategy.replaying")):
            outcome = strategy.replay(learner, course_data(), str(choice), parameter)
        strategy.save_choice(settings, learner, str(choice), parameter, outcome)
        forget_check_results(CHAPTER)
    saved = strategy.load_choice(settings, learner)
    if saved.get("strategy"):
        st.caption(
            t(
                "strategy.saved",
                name=t(f"strategy.name_{saved['strategy']}"),
                n=saved.get("retrainings", 0),
                accuracy=float(saved.get("accuracy", 0.0)),
            )
        )


def production_exercise() -> None:
    """Capstone: Evidently on the supplied production batch, then the learner's decision and blamed features."""
    from workbench.chapters.ch10_monitoring import production
    from workbench.core.data import FEATURES
    from workbench.ui.resources import course_data

    settings, learner = get_settings(), current_learner()
    st.subheader(t("production.title"))
    st.markdown(t("production.intro", rows=production.PRODUCTION_ROWS))
    left, right = st.columns(2)
    left.download_button(
        t("production.download"),
        production.production_csv(),
        file_name=production.FILE_NAME,
        mime="text/csv",
        key=f"{P}_prod_download",
        icon=":material/download:",
    )
    if right.button(t("production.run"), key=f"{P}_prod_run", type="primary", icon=":material/summarize:"):
        with st.spinner(t("production.running")):
            try:
                result = production.run_report(course_data())
            except (ImportError, ValueError, TypeError) as exc:
                st.error(error_text(exc))
                return
        drifted = [str(c) for c in result.table.loc[result.table["drift"], "column"]]
        production.save_report(settings, learner, drifted)
        st.session_state[f"{P}_prod_result"] = result
        forget_check_results(CHAPTER)
    record = production.load_record(settings, learner)
    result = st.session_state.get(f"{P}_prod_result")
    if result is not None:
        names = {
            "column": t("drift.col_feature"),
            "method": t("drift.ev_method"),
            "threshold": t("drift.ev_threshold"),
            "score": t("drift.ev_score"),
            "drift": "Evidently",
        }
        shown = result.table.rename(columns=names)
        dataframe(
            shown,
            {names["score"]: "number", names["threshold"]: "number"},
            key=f"{P}_prod_table",
            height=35 * (len(shown) + 1) + 3,
        )
        with st.expander(t("drift.ev_view"), icon=":material/visibility:"):
            st.iframe(result.html, height=700)
    if not record.get("data_sha256"):
        st.info(t("production.need_report"), icon=":material/info:")
        return
    st.caption(t("production.report_done", sha=record["data_sha256"][:12]))
    with st.form(f"{P}_prod_form", border=False):
        decision = st.radio(
            t("production.decision"),
            list(production.DECISIONS),
            index=None,
            key=f"{P}_prod_decision",
            format_func=lambda d: t(f"production.decision_{d}"),
            horizontal=True,
        )
        features = st.multiselect(t("production.features"), list(FEATURES), key=f"{P}_prod_features")
        submitted = st.form_submit_button(t("production.save"), icon=":material/save:")
    if submitted and decision is not None:
        record = production.save_decision(settings, learner, decision, list(features))
        forget_check_results(CHAPTER)
    if record.get("decision"):
        st.caption(
            t(
                "production.saved",
                decision=t(f"production.decision_{record['decision']}"),
                features=", ".join(record.get("features") or []) or "—",
            )
        )
