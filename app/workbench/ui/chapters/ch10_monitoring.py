"""Chapter X lab tabs: drift lab, Evidently report, timeline (control charts, retraining), live monitoring."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.chapters.ch10_monitoring import drift
from workbench.core import formatting as fmt
from workbench.core.data import FEATURES
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch10_exercises import production_exercise, promql_exercise, strategy_exercise
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.resources import course_data, course_fingerprint, trained_on_course_data
from workbench.ui.widgets import dataframe, decimal_slider, number_field, plotly_chart, show_code

P = get_chapter("ch10_monitoring").prefix  # widget key prefix, from the chapter
CHAPTER = "10_monitoring"
BURST = 50
LIVE_SECONDS = 3
HISTORY = 40


@dataclass(frozen=True)
class EvidentlyRun:
    """Evidently's report on a scenario, our own comparison of the same batch, and the scenario."""

    result: Any  # drift.EvidentlyResult
    ours: Any  # drift.DriftReport
    same: bool  # Evidently was configured with our tests and thresholds
    scenario: tuple[str, float, str | None]  # kind, strength, feature


@dataclass(frozen=True)
class TimelineRun:
    """A simulated year of drift: its control chart, the retraining strategies, and the code's arguments."""

    chart: Any  # drift.ControlChart
    result: Any  # drift.RetrainingResult
    start_week: int
    code_args: tuple  # kind, strength, start week, label delay, margin, seed (drift.retraining_code)


def _model():
    """The model trained on the course data (the one whose predictions we watch), shared by every session."""
    return trained_on_course_data("drift_reference_model", drift.fit_model)


@st.cache_data(show_spinner=False, max_entries=64)
def _mystery_batch(learner: str, dataset: str) -> pd.DataFrame:
    return drift.mystery_batch(learner, course_data())


@st.cache_data(show_spinner=False, max_entries=64)
def _threshold_psi(learner: str, dataset: str) -> np.ndarray:
    return drift.threshold_psi(learner, course_data())


def _styled(table: pd.DataFrame, mask: pd.DataFrame):
    """Drifting cells in red; numbers with 4 decimals (the learner's way), "—" where a statistic does not apply."""
    lang = current_lang()
    first = [t("drift.col_feature"), t("drift.col_kind"), t("drift.col_verdict"), t("drift.col_decision")]
    order = [c for c in first if c in table] + [c for c in table.columns if c not in first]  # the verdict in view
    table, mask = table[order], mask[order]
    shown = table.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: fmt.number(v, lang, 4))
    colors = pd.DataFrame(
        np.where(mask.to_numpy(dtype=bool), "background-color: #ffd6d6", ""), index=table.index, columns=table.columns
    )
    return shown.style.apply(lambda _: colors, axis=None)


def _scenario_form(prefix: str, default_kind: str = "shift") -> tuple[str, float, str | None]:
    """Drift kind, feature and strength pickers."""
    lang = current_lang()
    kinds = list(drift.DRIFT_KINDS)
    left, middle, right = st.columns(3)
    kind = left.selectbox(
        t("drift.drift_kind"),
        kinds,
        index=kinds.index(default_kind),
        key=f"{prefix}_kind",
        format_func=lambda k: translate(f"drift.kind_name_{k}", lang),
    )
    features, default = drift.DRIFT_FEATURES[kind]
    feature = None
    if len(features) > 1:
        feature = middle.selectbox(
            t("drift.feature"), features, index=features.index(default), key=f"{prefix}_feature_{kind}"
        )
    elif features:
        middle.text_input(t("drift.feature"), features[0], disabled=True, key=f"{prefix}_feature_fixed_{kind}")
        feature = features[0]
    strength = decimal_slider(
        t("drift.strength"),
        0.0,
        1.0,
        drift.DEFAULT_STRENGTH[kind],
        0.05,
        key=f"{prefix}_strength_{kind}",
        disabled=kind == "none",
        help=t("drift.strength_help"),
        container=right,
    )
    st.caption(t(f"drift.kind_explain_{kind}"))
    return kind, strength, feature


# ----------------------------------------------------------------------------------------------
# 1. Drift lab
# ----------------------------------------------------------------------------------------------


def drift_tab() -> None:
    """Pick a drift → every statistic per feature with its verdict, histograms, the mystery batch."""
    lang = current_lang()
    st.markdown(t("drift.lab_intro"))
    source = (
        st.segmented_control(
            t("drift.source"),
            ["simulated", "mystery"],
            default="simulated",
            key=f"{P}_source",
            format_func=lambda s: translate(f"drift.source_{s}", lang),
        )
        or "simulated"
    )
    reference = course_data()
    seed = 0
    if source == "mystery":
        st.info(t("drift.mystery_intro", learner=current_learner()), icon=":material/search:")
        current = _mystery_batch(current_learner(), course_fingerprint())
        kind, strength, feature = "mystery", 0.0, None
    else:
        kind, strength, feature = _scenario_form(f"{P}_lab")
        seed = number_field(t("drift.seed"), key=f"{P}_lab_seed", value=0, min_value=0, max_value=10_000, integer=True)
        if seed is None:
            return
        current = drift.apply_drift(
            drift.simulate_batch(len(reference), seed=seed), kind, strength, feature=feature, seed=seed
        )
    model = _model()
    scored_ref, scored_cur = drift.with_predictions(model, reference), drift.with_predictions(model, current)
    report = drift.compare_frames(scored_ref, scored_cur, columns=[*drift.COLUMNS, "prediction"])
    mystery = source == "mystery"  # the learner finds the drifted feature: no verdict is shown for them
    cols = st.columns(4)
    cols[0].metric(
        t("drift.metric_drifted"),
        "?" if mystery else f"{len(report.drifted)} / {len(report.features)}",
        help=t("drift.mystery_hidden") if mystery else None,
    )
    cols[1].metric(t("drift.metric_rows"), f"{report.n_reference} → {report.n_current}")
    approval_ref = float((scored_ref["prediction"] == "Y").mean())
    approval_cur = float((scored_cur["prediction"] == "Y").mean())
    cols[2].metric(
        t("drift.metric_approval"), fmt.percent(approval_cur, lang), fmt.points(approval_cur - approval_ref, lang)
    )
    cols[3].metric(t("drift.metric_seconds"), fmt.milliseconds(report.seconds * 1000, lang))
    table, mask = drift.wide_table(report, lang)
    if mystery:
        st.info(t("drift.mystery_table"), icon=":material/search:")
        table = table.drop(columns=[t("drift.col_verdict")])
        mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    elif report.drifted:
        st.warning(t("drift.drifted_list", features=", ".join(report.drifted)), icon=":material/warning:")
    else:
        st.success(t("drift.no_drift"), icon=":material/check_circle:")
    st.dataframe(
        _styled(table, mask),
        hide_index=True,
        width="stretch",
        key=f"{P}_lab_table",
        height=35 * (len(table) + 1) + 3,
        column_config={
            t("drift.col_feature"): st.column_config.Column(pinned=True),
            t("drift.col_kind"): st.column_config.TextColumn(width="medium"),
        },
    )
    st.caption(t("drift.table_caption", **{k: v for k, v in drift.THRESHOLDS.items()}))
    with st.expander(t("drift.formulas"), icon=":material/function:"):
        for name in (*drift.STATISTICS, "missing"):
            st.markdown(f"**{t(f'drift.stat_{name}')}** — {t(f'drift.formula_note_{name}')}")
            st.latex(drift.FORMULAS[name])
    _histogram(reference, current, report, (source, kind, strength, feature, seed), lang)
    if source == "simulated":
        show_code(drift.compare_code(kind, strength, feature, int(seed)))
    _mystery_answer(lang)
    _categorical_test_answer(lang)


def _histogram(reference: pd.DataFrame, current: pd.DataFrame, report, scenario: tuple, lang: str) -> None:
    """The reference and current histograms of one column: the most drifted one whenever the scenario
    changes (the learner can pick another); in the mystery batch, the learner's own pick."""
    key = f"{P}_hist_feature"
    columns = list(drift.COLUMNS)
    if st.session_state.get(f"{P}_hist_scenario") != scenario:
        st.session_state[f"{P}_hist_scenario"] = scenario
        st.session_state[key] = None if scenario[0] == "mystery" else drift.most_drifted(report, columns)
    pick = st.selectbox(t("drift.hist_feature"), columns, key=key, placeholder=t("common.choose"))
    if pick is not None:
        st.plotly_chart(drift.histogram_figure(reference, current, pick, lang), key=f"{P}_hist")


def _mystery_answer(lang: str) -> None:
    st.subheader(t("drift.mystery_title"))
    st.markdown(t("drift.mystery_task"))
    settings, learner = get_settings(), current_learner()
    saved = drift.load_answers(settings, learner).get("mystery_feature")
    features = list(FEATURES)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    answer = left.selectbox(
        t("drift.mystery_answer"),
        features,
        index=features.index(saved) if saved in features else None,
        key=f"{P}_mystery_answer",
        placeholder=t("common.choose"),
    )
    if right.button(t("drift.save"), key=f"{P}_mystery_save", disabled=answer is None, icon=":material/save:"):
        drift.save_answer(settings, learner, "mystery_feature", answer)
        forget_check_results(CHAPTER)
        st.toast(t("drift.saved"))
        saved = answer
    if saved:
        st.caption(t("drift.saved_answer", answer=saved))


def _categorical_test_answer(lang: str) -> None:
    st.subheader(t("drift.test_title"))
    st.markdown(t("drift.test_task"))
    settings, learner = get_settings(), current_learner()
    saved = drift.load_answers(settings, learner).get("categorical_test")
    choices = list(drift.CATEGORICAL_TEST_CHOICES)
    choice = st.radio(
        t("drift.test_answer"),
        choices,
        index=choices.index(saved) if saved in choices else None,
        key=f"{P}_test_answer",
        format_func=lambda c: translate(f"drift.test_{c}", lang),
        horizontal=True,
    )
    if st.button(t("drift.save"), key=f"{P}_test_save", disabled=choice is None, icon=":material/save:"):
        drift.save_answer(settings, learner, "categorical_test", choice)
        forget_check_results(CHAPTER)
        st.toast(t("drift.saved"))
        saved = choice
    if saved:
        st.caption(t("drift.saved_answer", answer=translate(f"drift.test_{saved}", lang)))


# ----------------------------------------------------------------------------------------------
# 2. Evidently report
# ----------------------------------------------------------------------------------------------


def evidently_tab() -> None:
    """Evidently's DataDriftPreset on a simulated pair, then the capstone's supplied production batch."""
    _evidently_lab()
    st.divider()
    production_exercise()


def _evidently_lab() -> None:
    """Evidently's DataDriftPreset on a reference/current pair: embedded report, table, download."""
    st.markdown(t("drift.ev_intro"))
    kind, strength, feature = _scenario_form(f"{P}_ev", default_kind="unit_change")
    same = st.toggle(t("drift.ev_same_tests"), value=True, key=f"{P}_ev_same", help=t("drift.ev_same_help"))
    if st.button(t("drift.ev_generate"), key=f"{P}_ev_run", type="primary", icon=":material/summarize:"):
        reference = course_data()
        current = drift.apply_drift(
            drift.simulate_batch(len(reference), seed=1), kind, strength, feature=feature, seed=1
        )
        with st.status(t("drift.ev_running"), expanded=True) as status:
            st.write(t("drift.ev_step_ours"))
            ours = drift.compare_frames(reference, current)
            methods, thresholds = drift.evidently_config(ours) if same else (None, None)
            st.write(t("drift.ev_step_import"))
            try:
                result = drift.evidently_report(reference, current, methods=methods, thresholds=thresholds)
            except (ImportError, ValueError, TypeError) as exc:
                status.update(label=t("drift.ev_failed", error=error_text(exc)), state="error")
                return
            status.update(label=t("drift.ev_done", seconds=result.seconds), state="complete", expanded=False)
        st.session_state[f"{P}_ev_result"] = EvidentlyRun(result, ours, same, (kind, strength, feature))
    stored: EvidentlyRun | None = st.session_state.get(f"{P}_ev_result")
    if stored is None:
        st.info(t("drift.ev_none"), icon=":material/info:")
        show_code(drift.evidently_code(kind, strength, feature, 1))
        return
    result, ours, same, scenario = stored.result, stored.ours, stored.same, stored.scenario
    cols = st.columns(3)
    lang = current_lang()
    cols[0].metric(t("drift.ev_share"), fmt.percent(result.share_drifted, lang, 0))
    cols[1].metric(t("drift.ev_dataset"), t("drift.yes") if result.dataset_drift else t("drift.no"))
    cols[2].metric(t("drift.metric_seconds"), f"{result.seconds:.1f} s")
    table = drift.evidently_comparison(ours, result.table)
    mismatch = table[table["same_drift"] != table["drift"]]
    if mismatch.empty:
        st.success(t("drift.ev_agree", n=len(table)), icon=":material/check_circle:")
    else:  # never expected: the same test computed twice
        st.error(t("drift.ev_mismatch", columns=", ".join(mismatch["column"])), icon=":material/error:")
    decided = table[table["decision_drift"] != table["drift"]]
    if not decided.empty:
        st.info(t("drift.ev_gof_differs", columns=", ".join(decided["column"])), icon=":material/lightbulb:")
    names = {s: translate(f"drift.stat_{s}", lang) for s in (*drift.STATISTICS, "missing")}
    shown = pd.DataFrame(
        {
            t("drift.col_feature"): table["column"],
            t("drift.ev_method"): table["method"],
            t("drift.ev_threshold"): table["threshold"],
            t("drift.ev_score"): table["score"],
            "Evidently": table["drift"],
            t("drift.ev_same_test"): table["same_test"].map(lambda n: names.get(n, "—") if n else "—"),
            t("drift.ev_same_score"): table["same_score"],
            t("drift.ev_same_verdict"): table["same_drift"],
            t("drift.col_decision"): table["decision"].map(names),
            t("drift.ev_ours"): table["decision_drift"],
        }
    )
    numbers = {t("drift.ev_threshold"): "number", t("drift.ev_score"): "number", t("drift.ev_same_score"): "number"}
    dataframe(shown, numbers, height=35 * (len(table) + 1) + 3, key=f"{P}_ev_table")
    st.download_button(
        t("drift.ev_download"),
        result.html,
        file_name="drift_report.html",
        mime="text/html",
        key=f"{P}_ev_download",
        icon=":material/download:",
    )
    with st.expander(t("drift.ev_view"), expanded=True, icon=":material/visibility:"):
        st.iframe(result.html, height=900)
    show_code(drift.evidently_code(*scenario, 1))


# ----------------------------------------------------------------------------------------------
# 3. Timeline: control charts, retraining strategies, threshold exercise
# ----------------------------------------------------------------------------------------------


def timeline_tab() -> None:
    """20 weeks of production: control chart of a statistic, retraining strategies side by side."""
    lang = current_lang()
    st.markdown(t("drift.tl_intro"))
    kind, strength, feature = _scenario_form(f"{P}_tl", default_kind="concept")
    left, middle, right = st.columns(3)
    start = left.slider(t("drift.tl_start"), drift.CHART_BASELINE_WEEKS + 1, 20, 10, key=f"{P}_tl_start")
    delay = middle.slider(t("drift.tl_delay"), 0, 6, 2, key=f"{P}_tl_delay")
    margin = decimal_slider(
        t("drift.tl_margin"),
        -0.05,
        0.15,
        0.05,
        0.01,
        key=f"{P}_tl_margin",
        help=t("drift.tl_margin_help"),
        container=right,
    )
    statistics = list(drift.monitored_statistics())
    left, right = st.columns([3, 1])
    statistic = left.selectbox(
        t("drift.tl_statistic"),
        statistics,
        key=f"{P}_tl_statistic",
        format_func=lambda s: drift.statistic_label(s, lang),
    )
    seed = number_field(
        t("drift.seed"), key=f"{P}_tl_seed", value=3, min_value=0, max_value=10_000, integer=True, container=right
    )
    if seed is None:
        return
    reference = course_data()
    baseline = drift.majority_baseline(reference)
    threshold = baseline + margin
    if threshold <= baseline:
        st.error(t("drift.tl_threshold_low", threshold=threshold, baseline=baseline), icon=":material/error:")
    st.info(t("drift.tl_course_note", baseline=baseline, threshold=threshold), icon=":material/lightbulb:")
    if st.button(t("drift.tl_run"), key=f"{P}_tl_run", type="primary", icon=":material/timeline:"):
        bar = st.progress(0.0, text=t("drift.tl_running"))
        timeline = drift.simulate_timeline(kind, strength, feature=feature, start_week=start, seed=int(seed))
        chart = drift.control_chart(statistic, timeline, reference, _model())
        bar.progress(0.2, text=t("drift.tl_running"))

        def progress(done: int, total: int) -> None:
            bar.progress(0.2 + 0.8 * done / total, text=t("drift.tl_strategy_progress", done=done, total=total))

        result = drift.simulate_retraining(timeline, reference, label_delay=delay, margin=margin, progress=progress)
        bar.empty()
        st.session_state[f"{P}_tl_result"] = TimelineRun(
            chart, result, start, (kind, strength, start, delay, margin, int(seed))
        )
    timeline_run: TimelineRun | None = st.session_state.get(f"{P}_tl_result")
    if timeline_run is not None:
        chart, result = timeline_run.chart, timeline_run.result
        start_week, code_args = timeline_run.start_week, timeline_run.code_args
        st.plotly_chart(drift.control_chart_figure(chart, lang, start_week), key=f"{P}_tl_chart")
        st.caption(t("drift.tl_chart_caption", weeks=drift.CHART_BASELINE_WEEKS))
        if chart.first_signal is None:
            st.info(t("drift.tl_no_signal"))
        else:
            rules = ", ".join(translate(f"drift.rule_{r}", lang) for r in chart.signals[chart.first_signal])
            st.warning(t("drift.tl_signal", week=chart.first_signal, rules=rules, start=start_week))
        st.plotly_chart(drift.retraining_figure(result, lang), key=f"{P}_tl_retrain")
        dataframe(result.summary(lang), key=f"{P}_tl_summary")
        st.caption(t("drift.tl_summary_caption", delay=result.label_delay))
        show_code(drift.retraining_code(*code_args))
    _threshold_exercise(lang)
    strategy_exercise()


def _threshold_exercise(lang: str) -> None:
    import plotly.graph_objects as go

    st.subheader(t("drift.thr_title"))
    st.markdown(t("drift.thr_task", feature=drift.THRESHOLD_FEATURE))
    settings, learner = get_settings(), current_learner()
    values = _threshold_psi(learner, course_fingerprint())
    saved = drift.load_answers(settings, learner).get("psi_threshold")
    threshold = decimal_slider(
        t("drift.thr_slider"),
        0.0,
        1.0,
        float(saved) if saved is not None else drift.THRESHOLDS["psi"],
        0.005,
        key=f"{P}_thr_value",
    )
    weeks = list(range(1, len(values) + 1))
    alarms = drift.alarm_weeks(values, threshold)
    fig = go.Figure(go.Bar(x=weeks, y=values, marker_color=["#e45756" if w in alarms else "#4c78a8" for w in weeks]))
    fig.add_hline(y=threshold, line_dash="dash", annotation_text=t("drift.thr_line", value=threshold))
    fig.update_layout(xaxis_title=t("drift.week"), yaxis_title="PSI", height=300, margin={"t": 30, "b": 10})
    plotly_chart(fig, key=f"{P}_thr_chart")
    st.caption(t("drift.thr_alarms", weeks=", ".join(map(str, alarms)) or "—"))
    if st.button(t("drift.save"), key=f"{P}_thr_save", icon=":material/save:"):
        drift.save_answer(settings, learner, "psi_threshold", round(threshold, 4))
        forget_check_results(CHAPTER)
        st.toast(t("drift.saved"))
        saved = threshold
    if saved is not None:
        st.caption(t("drift.saved_answer", answer=fmt.number(float(saved), lang, 3)))


# ----------------------------------------------------------------------------------------------
# 4. Live monitoring of the API
# ----------------------------------------------------------------------------------------------


def live_tab() -> None:
    """Start the API, send normal or drifted traffic, watch operational metrics, input drift and alerts."""
    from workbench.chapters.ch10_monitoring import live as monitoring
    from workbench.core import api_client

    lang = current_lang()
    settings = get_settings()
    url = api_client.api_url(settings)
    st.markdown(t("monitoring.intro", url=url))
    from workbench.ui.chapters.ch07_web_apps_api import api_controls

    def forget_traffic() -> None:
        for key in (f"{P}_live_history", f"{P}_live_last"):
            st.session_state.pop(key, None)

    if not api_controls(f"{P}_live", on_stop=forget_traffic).healthy:
        return
    left, middle, right = st.columns(3)
    mode = (
        left.segmented_control(
            t("monitoring.traffic"),
            list(monitoring.TRAFFIC_MODES),
            default="normal",
            key=f"{P}_live_mode",
            format_func=lambda m: translate(f"monitoring.traffic_{m}", lang),
        )
        or "normal"
    )
    window = middle.select_slider(
        t("monitoring.window"), [50, 100, 200, 500], value=monitoring.RECENT_WINDOW, key=f"{P}_live_window"
    )
    auto = right.toggle(t("monitoring.auto", seconds=LIVE_SECONDS, n=BURST), key=f"{P}_live_auto")
    burst = st.button(t("monitoring.burst", n=BURST), key=f"{P}_live_burst", icon=":material/bolt:")

    @st.fragment(run_every=LIVE_SECONDS if auto else None)
    def live_panel() -> None:
        if burst or auto:
            _live_step(mode, window)
        _live_view(lang, window)

    live_panel()
    show_code(monitoring.monitoring_code(url, window))
    promql_exercise()


def _live_step(mode: str, window: int) -> None:
    """One refresh: a burst of requests (waited for), then a scrape of /metrics and /recent_inputs."""
    from workbench.chapters.ch10_monitoring import live as monitoring
    from workbench.core import api_client

    seed = int(st.session_state.get(f"{P}_live_seed", 0)) + 1
    st.session_state[f"{P}_live_seed"] = seed
    load = monitoring.send_traffic(
        api_client.api_url() + api_client.learner_prefix(current_learner()), mode, BURST, seed
    )
    scraped = api_client.call("GET", "/metrics", timeout=10)
    recent = api_client.call("GET", f"/recent_inputs?limit={window}", timeout=10, learner=current_learner())
    if not scraped.ok or not recent.ok:
        failed = scraped if not scraped.ok else recent  # e.g. /recent_inputs refused: 403 without the admin token
        detail = failed.body.get("detail") if isinstance(failed.body, dict) else failed.body
        error = failed.error or f"HTTP {failed.status_code} {failed.url}: {detail}"
        st.session_state[f"{P}_live_last"] = {"error": error}
        return
    try:
        snapshot = monitoring.parse_metrics(scraped.body if isinstance(scraped.body, str) else str(scraped.body))
        frame = monitoring.recent_inputs_frame(recent.body)
    except monitoring.MonitoringError as exc:  # something else answers on the API's port
        st.session_state[f"{P}_live_last"] = {"error": error_text(exc)}
        return
    previous = st.session_state.get(f"{P}_live_snapshot")
    ops = monitoring.operational(snapshot, previous)
    st.session_state[f"{P}_live_snapshot"] = snapshot
    report = monitoring.input_drift(course_data(), frame) if len(frame) else None
    values = monitoring.monitored_values(True, ops, report)
    alerts = monitoring.evaluate_alerts(values)
    history = [*st.session_state.get(f"{P}_live_history", []), ops][-HISTORY:]
    st.session_state[f"{P}_live_history"] = history
    st.session_state[f"{P}_live_last"] = {
        "ops": ops,
        "report": report,
        "alerts": alerts,
        "load": load,
        "mode": mode,
        "snapshot": snapshot,
    }


def _live_view(lang: str, window: int) -> None:
    import plotly.express as px

    from workbench.chapters.ch10_monitoring import live as monitoring

    last = st.session_state.get(f"{P}_live_last")
    if not last:
        st.info(t("monitoring.no_data"), icon=":material/info:")
        return
    if "error" in last:
        st.error(t("monitoring.scrape_failed", error=last["error"]))
        return
    ops, report, alerts = last["ops"], last["report"], last["alerts"]
    firing = [a for a in alerts if a.firing]
    if firing:
        for alert in firing:
            st.error(
                t(
                    "monitoring.alert_firing",
                    name=alert.rule.name,
                    rule=alert.rule.expression,
                    value=alert.value,
                    severity=t(f"monitoring.severity_{alert.rule.severity}"),
                ),
                icon=":material/notifications_active:",
            )
    else:
        st.success(t("monitoring.all_clear"), icon=":material/notifications_off:")
    cols = st.columns(5)
    rate = ops.request_rate
    cols[0].metric(t("monitoring.rate"), "—" if rate != rate else f"{fmt.number(rate, lang, 1)}/s")
    cols[1].metric(
        t("monitoring.errors"),
        fmt.percent(ops.error_rate, lang),
        help=t("monitoring.errors_help", rate=ops.client_error_rate),
    )
    cols[2].metric("p95", fmt.milliseconds(ops.latency[0.95] * 1000, lang, 1))
    cols[3].metric(t("monitoring.rejected"), fmt.percent(ops.rejected_share, lang, 0))
    cols[4].metric(t("monitoring.window_size"), ops.recent_window)
    history = monitoring.history_frame(st.session_state.get(f"{P}_live_history", []))
    if len(history) >= 1:
        left, right = st.columns(2)
        latency = history.melt("at", ["p50_ms", "p95_ms", "p99_ms"], var_name="q", value_name="ms")
        latency["q"] = latency["q"].str.removesuffix("_ms")  # the legend reads p50, p95, p99
        labels = {
            "at": t("monitoring.time"),
            "q": t("monitoring.quantile"),
            "series": t("monitoring.series"),
            "share": t("monitoring.share"),
            "ms": t("monitoring.latency_axis"),
        }
        with left:
            plotly_chart(
                px.line(
                    latency,
                    x="at",
                    y="ms",
                    color="q",
                    markers=True,
                    height=280,
                    labels=labels,
                    title=t("monitoring.latency_title"),
                ),
                key=f"{P}_live_latency",
            )
        mix = history.melt("at", ["rejected_share", "error_rate"], var_name="series", value_name="share")
        mix["series"] = mix["series"].map(lambda s: t(f"monitoring.series_{s}"))
        figure = px.line(
            mix,
            x="at",
            y="share",
            color="series",
            markers=True,
            height=280,
            labels=labels,
            title=t("monitoring.mix_title"),
        )
        figure.update_yaxes(**fmt.percent_axis(0.0, max(0.01, float(mix["share"].max())), lang))
        with right:
            plotly_chart(figure, key=f"{P}_live_mix")
    dataframe(monitoring.alerts_table(alerts, lang), key=f"{P}_live_alerts")
    if report is not None:
        st.subheader(t("monitoring.drift_title", n=report.n_current))
        table, mask = drift.wide_table(report, lang)
        st.dataframe(
            _styled(table, mask),
            hide_index=True,
            width="stretch",
            key=f"{P}_live_drift",
            height=35 * (len(table) + 1) + 3,
            column_config={
                t("drift.col_feature"): st.column_config.Column(pinned=True),
                t("drift.col_kind"): st.column_config.TextColumn(width="medium"),
            },
        )
    prom = last["snapshot"].total("workbench_api_recent_input_missing_ratio", feature="Credit_History")
    st.caption(t("monitoring.prometheus_gauge", value=prom, n=ops.recent_window, at=time.strftime("%H:%M:%S")))
