"""Chapter III lab tabs: lifecycle, batch vs one call per row, robustness, feedback loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.resources import trained_on_course_data
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

P = get_chapter("ch03_deployment_challenges").prefix  # widget key prefix, from the chapter
CHAPTER = "03_deployment_challenges"


@dataclass(frozen=True)
class RobustnessTrial:
    """The learner's last application, as the raw model and the validating service answered it."""

    raw: Any  # lab.Outcome
    checked: Any  # lab.Outcome


def _fit_course_pipeline(data):
    """The course pipeline (logistic regression) fitted on the course data."""
    from workbench.core.data import split_features_target
    from workbench.core.modeling import build_pipeline

    X, y = split_features_target(data)
    return build_pipeline("logistic_regression").fit(X, y)


def _pipeline():
    try:
        return trained_on_course_data("challenges_course_pipeline", _fit_course_pipeline)
    except (OSError, ValueError) as exc:
        st.error(t("challenges.data_error", error=error_text(exc)))
        return None


# ----------------------------------------------------------------------------------------------
# Lifecycle
# ----------------------------------------------------------------------------------------------


def lifecycle_tab() -> None:
    """The lifecycle explorer of chapter I, then what every stage produces, in one table."""
    from workbench.chapters.ch03_deployment_challenges.lab import stage_outputs
    from workbench.chapters.ch03_deployment_challenges.lifecycle import load_stages
    from workbench.ui.chapters.ch01_introduction import lifecycle_explorer

    st.markdown(t("challenges.lifecycle_intro"))
    lifecycle_explorer(P, production=True)
    st.subheader(t("challenges.outputs_title"))
    dataframe(stage_outputs(load_stages(), current_lang()), key=f"{P}_stage_outputs")


# ----------------------------------------------------------------------------------------------
# Batch vs REST
# ----------------------------------------------------------------------------------------------


def serving_tab() -> None:
    """The same N predictions in one batch call and one call per row, timed."""
    from workbench.chapters.ch03_deployment_challenges import lab as ch

    st.markdown(t("challenges.serving_intro"))
    left, right = st.columns(2)
    n = left.slider(t("challenges.n_rows"), 100, ch.MAX_ROWS, 2000, 100, key=f"{P}_serving_rows")
    budget = right.slider(t("challenges.time_budget"), 2, 60, 10, 1, key=f"{P}_serving_budget")
    if st.button(t("challenges.serving_run"), key=f"{P}_serving_run", type="primary", icon=":material/speed:"):
        pipeline = _pipeline()
        if pipeline is None:
            return
        with st.status(t("challenges.serving_running", n=n), expanded=True) as status:
            bar = st.progress(0.0)
            predict_many, predict_one = ch.in_process_predictors(pipeline)
            result = ch.compare_serving(
                ch.serving_rows(int(n)),
                predict_many,
                predict_one,
                time_budget=float(budget),
                progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total}"),
            )
            status.update(label=t("challenges.serving_done"), state="complete")
        st.session_state[f"{P}_serving_result"] = result
    result = st.session_state.get(f"{P}_serving_result")
    if result is not None:
        _serving_result(result)
    st.markdown(t("challenges.when_which"))
    show_code(ch.serving_code(int(n)))


def _serving_result(result) -> None:
    lang = current_lang()
    cols = st.columns(4)
    cols[0].metric(t("challenges.batch_speed"), f"{fmt.integer(result.batch_rows_per_s, lang)} /s")
    cols[1].metric(t("challenges.single_speed"), f"{fmt.integer(result.single_rows_per_s, lang)} /s")
    cols[2].metric(t("challenges.ratio"), f"× {fmt.integer(result.ratio, lang)}")
    cols[3].metric(t("challenges.single_total", n=result.n), fmt.seconds(result.single_seconds_for_n, lang, 1))
    st.caption(t("challenges.batch_total", n=result.n, seconds=result.batch_seconds))
    if result.extrapolated:
        st.info(t("challenges.extrapolated", done=result.single_rows, n=result.n, seconds=result.single_seconds))
    if result.same:
        st.success(t("challenges.same_predictions", n=result.single_rows), icon=":material/check:")
    else:
        st.error(t("challenges.different_predictions", diff=result.max_abs_diff))


# ----------------------------------------------------------------------------------------------
# Robustness
# ----------------------------------------------------------------------------------------------


def _apply_preset() -> None:
    """Callback: fill the form with the chosen preset (only sets session_state)."""
    from workbench.chapters.ch03_deployment_challenges.lab import apply_preset

    for column, value in apply_preset(st.session_state[f"{P}_preset"]).items():
        st.session_state[f"{P}_field_{column}"] = value


def robustness_tab() -> None:
    """Break an application and compare what the raw model and the validated service do with it."""
    from workbench.chapters.ch03_deployment_challenges import lab as ch
    from workbench.core.data import CATEGORIES, FEATURES

    lang = current_lang()
    st.markdown(t("challenges.robust_intro"))
    defaults = ch.default_application()
    for column, value in defaults.items():
        st.session_state.setdefault(f"{P}_field_{column}", value)
    st.selectbox(
        t("challenges.preset"),
        list(ch.PRESETS),
        key=f"{P}_preset",
        on_change=_apply_preset,
        format_func=lambda name: translate(f"challenges.preset_{name}", lang),
    )
    form: dict[str, str] = {}
    columns = st.columns(4)
    for i, column in enumerate(FEATURES):
        hint = ", ".join(CATEGORIES[column]) if column in CATEGORIES else None
        form[column] = columns[i % 4].text_input(column, key=f"{P}_field_{column}", help=hint, max_chars=40)
    if st.button(t("challenges.send"), key=f"{P}_robust_send", type="primary", icon=":material/send:"):
        pipeline = _pipeline()
        if pipeline is None:
            return
        raw = ch.raw_model_outcome(pipeline, form)
        checked = ch.validated_outcome(pipeline, form, lang)
        ch.record_trial(get_settings(), current_learner(), form, raw, checked)
        st.session_state[f"{P}_robust_result"] = RobustnessTrial(raw, checked)
        forget_check_results(CHAPTER)
    outcome: RobustnessTrial | None = st.session_state.get(f"{P}_robust_result")
    if outcome is not None:
        raw, checked = outcome.raw, outcome.checked
        left, right = st.columns(2)
        with left:
            st.subheader(t("challenges.raw_title"))
            if not raw.accepted:
                st.error(t("challenges.raw_crash", error=raw.error), icon=":material/bug_report:")
            elif checked.accepted:
                st.success(t("challenges.prediction", prediction=raw.prediction, p=raw.probability))
            else:
                st.warning(
                    t("challenges.raw_silent", prediction=raw.prediction, p=raw.probability),
                    icon=":material/visibility_off:",
                )
            for warning in raw.warnings:
                st.caption(t("challenges.library_warning", warning=warning))
        with right:
            st.subheader(t("challenges.validated_title"))
            if checked.accepted:
                st.success(t("challenges.prediction", prediction=checked.prediction, p=checked.probability))
            else:
                st.info(t("challenges.validated_refused"), icon=":material/shield:")
            if checked.messages:
                st.markdown("\n".join(f"- {m}" for m in checked.messages))
    show_code(ch.robustness_code())


# ----------------------------------------------------------------------------------------------
# Feedback loop
# ----------------------------------------------------------------------------------------------


def feedback_tab() -> None:
    """Accuracy over the weeks of a drifting world, the fixed 68 % threshold vs a baseline-relative one."""
    from workbench.chapters.ch03_deployment_challenges import lab as ch

    lang = current_lang()
    st.markdown(t("challenges.feedback_intro", fixed=ch.FIXED_THRESHOLD * 100))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    margin_points = decimal_slider(t("challenges.margin"), 0.0, 15.0, 0.0, 0.5, key=f"{P}_margin", container=left)
    seed = number_field(
        t("challenges.seed"),
        key=f"{P}_feedback_seed",
        value=7,
        min_value=0,
        max_value=9999,
        integer=True,
        container=right,
    )
    if seed is None:
        return
    if st.button(t("challenges.feedback_run"), key=f"{P}_feedback_run", icon=":material/play_arrow:"):
        with st.spinner(t("challenges.feedback_running")):
            st.session_state[f"{P}_feedback_sim"] = ch.simulate_feedback(seed=int(seed))
    sim = st.session_state.get(f"{P}_feedback_sim")
    margin = margin_points / 100
    if sim is None:
        st.info(t("challenges.feedback_hint"))
    else:
        if sim.seed != int(seed):
            st.info(t("challenges.feedback_stale", seed=sim.seed))
        verdict = ch.evaluate_threshold(sim, margin)
        st.plotly_chart(ch.feedback_figure(sim, margin, lang), width="stretch", key=f"{P}_feedback_chart")
        cols = st.columns(4)
        never = t("challenges.never")
        cols[0].metric(t("challenges.week_fixed"), never if verdict.fixed_week is None else verdict.fixed_week)
        cols[1].metric(t("challenges.week_below"), never if verdict.below_week is None else verdict.below_week)
        cols[2].metric(t("challenges.week_rule"), never if verdict.trigger_week is None else verdict.trigger_week)
        cols[3].metric(
            t("challenges.warning_weeks"), "—" if verdict.weeks_of_warning is None else verdict.weeks_of_warning
        )
        if verdict.fixed_too_late:
            st.warning(t("challenges.fixed_too_late", fixed=ch.FIXED_THRESHOLD * 100), icon=":material/warning:")
        values = {
            "margin": margin_points,
            "trigger": verdict.trigger_week,
            "below": verdict.below_week,
            "start": verdict.drift_start,
        }
        if verdict.ok:
            st.success(t("challenges.verdict_ok", **values), icon=":material/check:")
        elif verdict.too_early:
            st.error(t("challenges.verdict_early", **values))
        elif verdict.trigger_week is None:
            st.error(t("challenges.verdict_never", **values))
        else:
            st.error(t("challenges.verdict_late", **values))
        if st.button(t("challenges.save_threshold"), key=f"{P}_feedback_save", icon=":material/save:"):
            ch.save_threshold_choice(get_settings(), current_learner(), margin, sim.seed)
            forget_check_results(CHAPTER)
            st.success(t("challenges.threshold_saved", margin=margin_points, seed=sim.seed))
    show_code(ch.should_retrain_code(margin))
