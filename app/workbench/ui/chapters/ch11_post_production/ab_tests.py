"""Chapter XI lab: the A/B test tab (design, simulation, analysis, peeking), the bandits tab and the
business value tab (risk bands, profit over the threshold, models compared)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.resources import course_fingerprint, trained_on_course_data
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

P = get_chapter("ch11_post_production").prefix  # widget key prefix, from the chapter
CHAPTER = "11_post_production"


def _error(exc: Exception) -> None:
    st.error(t("experiments.error", error=error_text(exc)), icon=":material/error:")


def _pct(value: float) -> str:
    return fmt.percent(value, current_lang())


# ----------------------------------------------------------------------------------------------
# A/B test
# ----------------------------------------------------------------------------------------------


def ab_tab() -> None:
    """Design (sample size), simulate two model versions on live traffic, analyse once, and see peeking."""
    st.markdown(t("experiments.ab_intro"))
    _designer()
    st.divider()
    _simulator()
    st.divider()
    _peeking()


def _designer() -> None:
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    lang = current_lang()
    st.subheader(t("experiments.design_title"))
    cols = st.columns(4)
    baseline = number_field(
        t("experiments.baseline"),
        key=f"{P}_ss_baseline",
        value=10.0,
        min_value=0.1,
        max_value=99.9,
        digits=1,
        container=cols[0],
    )
    mde = number_field(
        t("experiments.mde_points"),
        key=f"{P}_ss_mde",
        value=-2.0,
        min_value=-50.0,
        max_value=50.0,
        digits=1,
        container=cols[1],
    )
    alpha = cols[2].selectbox(
        t("experiments.alpha"),
        [0.01, 0.05, 0.10],
        index=1,
        key=f"{P}_ss_alpha",
        format_func=lambda a: fmt.number(a, lang, 2),
    )
    power = cols[3].selectbox(
        t("experiments.power"),
        [0.8, 0.9, 0.95],
        index=0,
        key=f"{P}_ss_power",
        format_func=lambda p: fmt.percent(p, lang, 0),
    )
    if baseline is None or mde is None:
        return
    baseline, mde = baseline / 100, mde / 100
    try:
        design = experiments.sample_size(baseline, mde, alpha, power)
    except experiments.ExperimentError as exc:
        _error(exc)
        return
    left, middle, right = st.columns(3)
    left.metric(t("experiments.n_per_arm"), fmt.integer(design.n_per_arm, lang))
    middle.metric(t("experiments.n_statsmodels"), fmt.integer(design.n_statsmodels, lang))
    right.metric(t("experiments.n_total"), fmt.integer(2 * design.n_per_arm, lang))
    st.caption(t("experiments.design_caption", a=design.p_a, b=design.p_b, alpha=alpha, power=power))
    sign = -1 if mde < 0 else 1
    mdes = [sign * x / 1000 for x in range(5, 101, 5)]
    curve = experiments.sample_size_curve(baseline, alpha, power, mdes)
    if not curve.empty:
        st.plotly_chart(experiments.sample_size_figure(curve, design, lang), key=f"{P}_ss_chart")
    show_code(experiments.sample_size_code(baseline, mde, alpha, power))
    with st.container(border=True):
        st.markdown(t("experiments.ss_answer_intro"))
        left, right = st.columns([2, 1])
        answer = number_field(
            t("experiments.ss_answer"),
            key=f"{P}_ss_answer",
            value=0,
            min_value=0,
            max_value=10_000_000,
            integer=True,
            container=left,
        )
        right.write("")
        if right.button(t("experiments.save_answer"), key=f"{P}_ss_save", disabled=not answer):
            experiments.save_answer(get_settings(), current_learner(), "sample_size", int(answer))
            forget_check_results(CHAPTER)
            st.success(t("experiments.answer_saved"))


@st.cache_resource(show_spinner=False, max_entries=4)
def _registry_ab_models(registry_key: str, dataset: str, learner: str):
    """The learner's registry pair (cached for every session: `learner` is part of the key, each has their own)."""
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    return experiments.registry_ab_models(get_settings(), learner)


def _ab_models(source: str, model_a: str, model_b: str, registry_key: str, learner: str):
    """The two models of the A/B test: the registry's (when asked and present), else trained on the course data."""
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    if source == "registry":
        models = _registry_ab_models(registry_key, course_fingerprint(), learner)
        if models is not None:
            return models
    return trained_on_course_data("ab_models", experiments.trained_ab_models, model_a, model_b)


def _simulator() -> None:
    from workbench.chapters.ch11_post_production import ab_tests as experiments
    from workbench.core.modeling import MODEL_NAMES
    from workbench.core.safe_models import ModelRefused

    lang = current_lang()
    st.subheader(t("experiments.simulate_title"))
    st.markdown(t("experiments.simulate_intro"))
    source = st.radio(
        t("experiments.source"),
        ["registry", "trained"],
        horizontal=True,
        key=f"{P}_ab_source",
        index=1,
        format_func=lambda s: translate(f"experiments.source_{s}", lang),
    )
    left, right = st.columns(2)
    model_a = left.selectbox(
        t("experiments.model_a"),
        list(MODEL_NAMES),
        key=f"{P}_ab_model_a",
        format_func=lambda m: translate(f"model.name_{m}", lang),
        disabled=source == "registry",
    )
    model_b = right.selectbox(
        t("experiments.model_b"),
        list(MODEL_NAMES),
        index=3,
        key=f"{P}_ab_model_b",
        format_func=lambda m: translate(f"model.name_{m}", lang),
        disabled=source == "registry",
    )
    cols = st.columns(3)
    n = cols[0].select_slider(
        t("experiments.n_applications"), [1000, 2000, 4000, 8000, 16000, 32000], 8000, key=f"{P}_ab_n"
    )
    split = decimal_slider(
        t("experiments.split"), 0.1, 0.9, 0.5, 0.05, key=f"{P}_ab_split", container=cols[1], percent=True
    )
    days = cols[2].slider(t("experiments.days"), 5, 60, 20, key=f"{P}_ab_days")
    if st.button(t("experiments.run_ab"), key=f"{P}_ab_run", type="primary", icon=":material/science:"):
        with st.spinner(t("experiments.preparing_models")):
            try:
                models = _ab_models(source, model_a, model_b, get_settings().mlflow_tracking_uri, current_learner())
                st.session_state[f"{P}_ab_result"] = experiments.simulate_ab(models, n, split, days)
                fallback = source == "registry" and all(m.source == "trained" for m in models.values())
                st.session_state[f"{P}_ab_fallback"] = fallback
            except ModelRefused as exc:
                st.error(exc.message(lang), icon=":material/gpp_bad:")
            except (experiments.ExperimentError, OSError, ValueError) as exc:
                _error(exc)
    result = st.session_state.get(f"{P}_ab_result")
    if result is None:
        return
    if st.session_state.get(f"{P}_ab_fallback"):
        st.info(t("experiments.no_registry_pair"), icon=":material/info:")
    analysis = result.analysis
    cols = st.columns(4)
    models = {arm: experiments.model_label(result.models[arm], lang) for arm in ("A", "B")}
    for col, arm in zip(cols[:2], ("A", "B")):
        col.metric(
            t("experiments.arm_metric", arm=arm),
            _pct(result.defaults[arm] / result.approved[arm]),
            help=t(
                "experiments.arm_help",
                model=models[arm],
                approved=result.approved[arm],
                applications=result.applications[arm],
            ),
        )
    cols[2].metric(t("experiments.p_value"), fmt.number(analysis.p_value, lang, 4))
    cols[3].metric(
        t("experiments.difference"),
        fmt.points(analysis.difference, lang, 2),
        help=t("experiments.ci", low=analysis.ci_low, high=analysis.ci_high),
    )
    st.caption(t("experiments.arms_models", a=models["A"], b=models["B"]))
    message = t(
        f"experiments.decision_{analysis.decision}",
        low=analysis.ci_low,
        high=analysis.ci_high,
        z=analysis.z,
        p=analysis.p_value,
    )
    (st.success if analysis.decision == "adopt_b" else st.warning if analysis.decision == "keep_a" else st.info)(
        message
    )
    st.caption(t("experiments.profit_arms", a=result.profit["A"], b=result.profit["B"]))
    left, right = st.columns(2)
    left.plotly_chart(experiments.ab_figure(result, lang), key=f"{P}_ab_chart")
    p_values = experiments.daily_p_values(result)
    if not p_values.empty:
        right.plotly_chart(experiments.p_value_figure(p_values, analysis.alpha, lang), key=f"{P}_ab_pvalues")
    show_code(experiments.analysis_code(analysis))


def _peeking() -> None:
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    lang = current_lang()
    st.subheader(t("experiments.peek_section"))
    st.markdown(t("experiments.peek_intro"))
    cols = st.columns(4)
    rate = number_field(
        t("experiments.peek_rate"),
        key=f"{P}_peek_rate",
        value=10.0,
        min_value=1.0,
        max_value=99.0,
        digits=1,
        container=cols[0],
    )
    per_day = number_field(
        t("experiments.per_day"),
        key=f"{P}_peek_per_day",
        value=100,
        min_value=10,
        max_value=10_000,
        integer=True,
        container=cols[1],
    )
    days = cols[2].slider(t("experiments.days"), 2, 60, 30, key=f"{P}_peek_days")
    sims = cols[3].select_slider(
        t("experiments.simulations"),
        [500, 1000, 2000, 5000],
        2000,
        key=f"{P}_peek_sims",
        format_func=lambda n: fmt.integer(n, lang),
    )
    if rate is None or per_day is None:
        return
    rate = rate / 100
    if st.button(t("experiments.run_peek"), key=f"{P}_peek_run", type="primary", icon=":material/visibility:"):
        try:
            st.session_state[f"{P}_peek"] = experiments.simulate_peeking(rate, int(per_day), days, 0.05, sims)
        except experiments.ExperimentError as exc:
            _error(exc)
    if (result := st.session_state.get(f"{P}_peek")) is not None:
        left, right = st.columns(2)
        left.metric(t("experiments.fpr_once"), _pct(result.fpr_once))
        right.metric(
            t("experiments.fpr_peeking"),
            _pct(result.fpr_peeking),
            fmt.points(result.fpr_peeking - result.alpha, lang),
            delta_color="inverse",
        )
        st.plotly_chart(experiments.peeking_figure(result, lang), key=f"{P}_peek_chart")
    show_code(experiments.peeking_code(rate, int(per_day), days, 0.05, sims))


# ----------------------------------------------------------------------------------------------
# Bandits
# ----------------------------------------------------------------------------------------------


def bandits_tab() -> None:
    """ε-greedy, UCB1 and Thompson sampling against a fixed split, on the same simulated traffic."""
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    lang = current_lang()
    st.markdown(t("experiments.bandit_intro"))
    k = st.slider(t("experiments.n_arms"), 2, 5, len(experiments.DEFAULT_RATES), key=f"{P}_bandit_k")
    defaults = [*experiments.DEFAULT_RATES, 0.5, 0.6][:k]
    cols = st.columns(k)
    rates = [
        decimal_slider(
            t("experiments.arm_rate", arm=j + 1),
            0.0,
            1.0,
            float(defaults[j]),
            0.01,
            key=f"{P}_bandit_rate_{j}",
            container=cols[j],
            percent=True,
        )
        for j in range(k)
    ]
    cols = st.columns(3)
    horizon = cols[0].select_slider(
        t("experiments.horizon"),
        [1000, 2000, 5000, 10000, 20000],
        experiments.DEFAULT_HORIZON,
        key=f"{P}_bandit_horizon",
    )
    epsilon = decimal_slider(
        "ε", 0.0, 0.5, experiments.DEFAULT_EPSILON, 0.01, key=f"{P}_bandit_epsilon", container=cols[1]
    )
    runs = cols[2].slider(t("experiments.runs"), 1, 50, 20, key=f"{P}_bandit_runs")
    if st.button(t("experiments.run_bandits"), key=f"{P}_bandit_run", type="primary", icon=":material/casino:"):
        bar = st.progress(0.0, text=t("experiments.simulating"))
        simulating, done = t("experiments.simulating"), t("common.done")
        try:
            result = experiments.simulate_bandits(
                rates, horizon, epsilon, runs, progress=lambda f: bar.progress(f, text=simulating if f < 1 else done)
            )
        except experiments.ExperimentError as exc:
            bar.empty()
            _error(exc)
        else:
            st.session_state[f"{P}_bandit"] = result
            experiments.record_bandit_run(get_settings(), current_learner(), result)
            forget_check_results(CHAPTER)
    result = st.session_state.get(f"{P}_bandit")
    if result is not None:
        cols = st.columns(len(result.final_regret))
        for col, (strategy, regret) in zip(cols, result.final_regret.items()):
            col.metric(
                t(f"experiments.strategy_{strategy}"),
                fmt.number(regret, lang, 1),
                help=t("experiments.regret_help", reward=result.final_reward[strategy]),
            )
        st.caption(t("experiments.regret_caption", runs=result.runs, horizon=result.horizon))
        left, right = st.columns(2)
        left.plotly_chart(experiments.regret_figure(result, lang), key=f"{P}_regret_chart")
        right.plotly_chart(experiments.reward_figure(result, lang), key=f"{P}_reward_chart")
        strategy = st.segmented_control(
            t("experiments.share_of"),
            list(result.final_regret),
            default="thompson",
            key=f"{P}_share_strategy",
            format_func=lambda s: translate(f"experiments.strategy_{s}", lang),
        )
        st.plotly_chart(experiments.share_figure(result, strategy or "thompson", lang), key=f"{P}_share_chart")
        pulls = pd.DataFrame(
            {translate(f"experiments.strategy_{s}", lang): list(shares) for s, shares in result.pulls.items()},
            index=[translate("experiments.arm_label", lang, arm=j + 1, rate=r) for j, r in enumerate(result.rates)],
        )
        dataframe(pulls, formats=dict.fromkeys(pulls.columns, "percent"), hide_index=False, key=f"{P}_pulls_table")
    show_code(experiments.bandit_code(rates, horizon, epsilon))
    with st.container(border=True):
        st.markdown(
            t(
                "experiments.bandit_answer_intro",
                rates=", ".join(fmt.percent(r, lang, 0) for r in experiments.DEFAULT_RATES),
                horizon=experiments.DEFAULT_HORIZON,
            )
        )
        ran = isinstance(experiments.load_answers(get_settings(), current_learner()).get("bandit_default_run"), dict)
        choice = st.radio(
            t("experiments.bandit_answer"),
            list(experiments.STRATEGIES),
            key=f"{P}_bandit_choice",
            horizontal=True,
            index=None,
            format_func=lambda s: translate(f"experiments.strategy_{s}", lang),
        )
        if not ran:
            st.caption(t("experiments.bandit_run_first"))
        if st.button(t("experiments.save_answer"), key=f"{P}_bandit_save", disabled=choice is None or not ran):
            experiments.save_answer(get_settings(), current_learner(), "bandit_choice", choice)
            forget_check_results(CHAPTER)
            st.success(t("experiments.answer_saved"))
    _epsilon_exercise()


def _epsilon_exercise() -> None:
    """The hands-on: an ε for which ε-greedy beats UCB1 on the default simulation, and UCB1's regret read."""
    from workbench.chapters.ch11_post_production import ab_tests as experiments

    with st.container(border=True):
        st.markdown(f"**{t('experiments.eps_ex_title')}**")
        st.markdown(t("experiments.eps_ex_intro", horizon=experiments.DEFAULT_HORIZON, runs=20))
        left, right = st.columns(2)
        epsilon = decimal_slider(
            t("experiments.eps_choice"),
            0.0,
            0.5,
            experiments.DEFAULT_EPSILON,
            0.01,
            key=f"{P}_eps_choice",
            container=left,
        )
        reading = number_field(
            t("experiments.eps_ucb_reading"), key=f"{P}_eps_ucb", value=0.0, min_value=0.0, max_value=1e6, digits=1,
            container=right,
        )  # fmt: skip
        if st.button(t("experiments.eps_save"), key=f"{P}_eps_save", disabled=reading is None):
            experiments.save_epsilon_choice(get_settings(), current_learner(), epsilon, float(reading or 0.0))
            forget_check_results(CHAPTER)
            st.success(t("experiments.eps_saved"))


# ----------------------------------------------------------------------------------------------
# Business value
# ----------------------------------------------------------------------------------------------


def _portfolio():
    from workbench.chapters.ch11_post_production.ab_tests import build_portfolio

    return trained_on_course_data("business_portfolio", build_portfolio)


def business_tab() -> None:
    """Risk bands, profit over the decision threshold, and the model families compared on profit."""
    from workbench.chapters.ch11_post_production import ab_tests as experiments
    from workbench.core.modeling import MODEL_NAMES

    lang = current_lang()
    st.markdown(t("experiments.business_intro"))
    left, right = st.columns(2)
    gain = number_field(
        t("experiments.gain"), key=f"{P}_gain", value=1.0, min_value=0.0, max_value=100.0, digits=1, container=left
    )
    loss = number_field(
        t("experiments.loss"), key=f"{P}_loss", value=4.0, min_value=0.0, max_value=100.0, digits=1, container=right
    )
    if gain is None or loss is None:
        return
    if st.button(t("experiments.run_portfolio"), key=f"{P}_portfolio_run", type="primary", icon=":material/payments:"):
        with st.spinner(t("experiments.training_models")):
            try:
                st.session_state[f"{P}_portfolio"] = _portfolio()
            except (OSError, ValueError) as exc:
                _error(exc)
    portfolio = st.session_state.get(f"{P}_portfolio")
    if portfolio is None:
        st.info(t("experiments.portfolio_first"), icon=":material/info:")
        show_code(experiments.profit_code(gain, loss, "logistic_regression"))
        return
    if gain + loss <= 0:
        st.warning(t("experiments.gain_loss_zero"))
        return
    table = experiments.compare_models(portfolio, gain, loss)
    best_accuracy = table.loc[table["accuracy_at_05"].idxmax(), "model"]
    best_profit = table.loc[0, "model"]
    st.markdown(
        t("experiments.portfolio_caption", size=portfolio.size, break_even=experiments.break_even_threshold(gain, loss))
    )
    # the most profitable thresholds are the answer of the threshold exercise: the learner finds them below
    shown = table.drop(columns=["best_threshold"]).assign(
        model=table["model"].map(lambda m: translate(f"model.name_{m}", lang))
    )
    shown = shown.rename(columns={c: t(f"experiments.col_{c}") for c in shown.columns})
    dataframe(
        shown,
        key=f"{P}_compare_table",
        formats={
            t("experiments.col_accuracy_at_05"): "number:3",
            t("experiments.col_accuracy_at_best"): "number:3",
            t("experiments.col_profit_at_05"): "integer",
            t("experiments.col_best_profit"): "integer",
        },
    )
    names = {
        "accuracy": translate(f"model.name_{best_accuracy}", lang),
        "profit": translate(f"model.name_{best_profit}", lang),
    }
    if best_accuracy != best_profit:
        st.success(t("experiments.accuracy_not_profit", **names), icon=":material/lightbulb:")
    else:
        st.info(t("experiments.accuracy_is_profit", **names), icon=":material/lightbulb:")

    model = st.selectbox(
        t("experiments.model_for_bands"),
        list(MODEL_NAMES),
        key=f"{P}_bands_model",
        format_func=lambda m: translate(f"model.name_{m}", lang),
    )
    threshold = decimal_slider(t("experiments.threshold"), 0.0, 1.0, 0.5, 0.01, key=f"{P}_threshold")
    curve = experiments.profit_curve(portfolio.probabilities[model], portfolio.repaid, gain, loss)
    at = curve.loc[(curve["threshold"] - threshold).abs().idxmin()]
    _, best_p = experiments.best_threshold(curve)
    cols = st.columns(4)
    cols[0].metric(t("experiments.profit_at", threshold=threshold), fmt.integer(at["profit"], lang))
    cols[1].metric(t("experiments.approved_at"), fmt.integer(at["approved"], lang))
    cols[2].metric(t("experiments.accuracy_at"), _pct(at["accuracy"]))
    cols[3].metric(
        t("experiments.best_for_model"), fmt.integer(best_p, lang), help=t("experiments.best_threshold_help")
    )
    st.plotly_chart(experiments.profit_figure(portfolio, gain, loss, lang, threshold), key=f"{P}_profit_chart")
    bands = experiments.risk_bands(portfolio.probabilities[model], portfolio.repaid)
    left, right = st.columns([3, 2])
    left.plotly_chart(experiments.bands_figure(bands, lang), key=f"{P}_bands_chart")
    with right:
        dataframe(
            bands.assign(band=bands["band"].map(lambda b: translate(f"experiments.band_{b}", lang))).rename(
                columns={c: t(f"experiments.bcol_{c}") for c in bands.columns}
            ),
            formats={
                t("experiments.bcol_share"): "percent",
                t("experiments.bcol_observed"): "percent",
                t("experiments.bcol_predicted"): "number:2",
            },
            key=f"{P}_bands_table",
        )
    show_code(experiments.profit_code(gain, loss, model))
    with st.container(border=True):
        st.markdown(t("experiments.threshold_answer_intro"))
        if st.button(t("experiments.save_threshold", threshold=threshold), key=f"{P}_threshold_save"):
            experiments.save_answer(get_settings(), current_learner(), "threshold", round(threshold, 2))
            forget_check_results(CHAPTER)
            st.success(t("experiments.answer_saved"))
