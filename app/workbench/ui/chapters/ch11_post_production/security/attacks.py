"""Poisoning, extraction, membership inference, inversion and denial of service."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch11_post_production.security.common import (
    HoldoutAnswers,
    P,
    RateLimit,
    _budget,
    _data_path,
    _error,
    _pct,
    _progress,
    _pts,
    victim,
)
from workbench.ui.chapters.ch11_post_production.security.evasion import _api_status, _start_api_button
from workbench.ui.chapters.ch11_post_production.security.exercises import defense_exercise, membership_exercise
from workbench.ui.context import current_lang, current_learner, t
from workbench.ui.resources import course_data
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

# ----------------------------------------------------------------------------------------------
# Poisoning
# ----------------------------------------------------------------------------------------------


def poisoning_section() -> None:
    """Label flipping (random vs targeted) → accuracy vs poison rate; ART's backdoor."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.modeling import MODEL_NAMES

    lang = current_lang()
    st.markdown(t("security.poison_intro"))
    left, right = st.columns(2)
    model_name = left.selectbox(
        t("security.model"),
        list(MODEL_NAMES),
        key=f"{P}_poison_model",
        format_func=lambda m: translate(f"model.name_{m}", lang),
    )
    strategies = right.multiselect(
        t("security.strategies"),
        ["random", "targeted"],
        ["random", "targeted"],
        key=f"{P}_poison_strategies",
        placeholder=t("common.choose_several"),
        format_func=lambda s: translate(f"security.strategy_{s}", lang),
    )
    if st.button(t("security.run_attack"), key=f"{P}_poison_run", type="primary", icon=":material/bolt:"):
        curves = {}
        target = victim(model_name)
        names = ", ".join(translate(f"security.strategy_{s}", lang) for s in strategies)
        overall = _progress(t("security.poisoning", strategy=names))  # one bar for every strategy: one "done"
        for number, strategy in enumerate(strategies):
            curves[strategy] = security.poisoning_curve(
                target,
                strategy=strategy,
                budget_seconds=_budget() / max(1, len(strategies)),
                progress=lambda f, n=number: overall((n + f) / len(strategies)),
            )
        st.session_state[f"{P}_poison_curves"] = curves
    if curves := st.session_state.get(f"{P}_poison_curves"):
        st.plotly_chart(security.poisoning_figure(curves, lang), key=f"{P}_poison_chart")
        table = pd.concat([c.assign(strategy=translate(f"security.strategy_{s}", lang)) for s, c in curves.items()])
        table = table.rename(columns=lambda c: t(f"security.col_{c}"))
        dataframe(
            table,
            key=f"{P}_poison_table",
            formats={t("security.col_rate"): "percent:0", t("security.col_accuracy"): "number:3"},
        )

    st.markdown(t("security.backdoor_intro", trigger=security.BACKDOOR_TRIGGER))
    rate = decimal_slider(t("security.poison_rate"), 0.01, 0.2, 0.05, 0.01, key=f"{P}_backdoor_rate")
    if st.button(t("security.run_backdoor"), key=f"{P}_backdoor_run", icon=":material/pest_control:"):
        try:
            st.session_state[f"{P}_backdoor"] = security.backdoor_attack(
                victim("random_forest", {"n_estimators": 50}), rate
            )
        except security.SecurityError as exc:
            _error(exc)
    if (result := st.session_state.get(f"{P}_backdoor")) is not None:
        cols = st.columns(4)
        cols[0].metric(t("security.clean_before"), _pct(result.clean_accuracy_before))
        cols[1].metric(
            t("security.clean_after"),
            _pct(result.clean_accuracy_after),
            _pts(result.clean_accuracy_after - result.clean_accuracy_before),
        )
        cols[2].metric(t("security.trigger_before"), _pct(result.trigger_success_before))
        cols[3].metric(
            t("security.trigger_after"),
            _pct(result.trigger_success_after),
            _pts(result.trigger_success_after - result.trigger_success_before),
            delta_color="inverse",
        )  # the backdoor working better is bad news
        st.caption(t("security.backdoor_caption", n=result.n_poison))
    show_code(security.poisoning_code(model_name, _data_path()))
    defense_exercise()


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------


def extraction_section() -> None:
    """Copy the live API's model from its answers, then watch a rate limit stall the attack."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    lang = current_lang()
    settings = get_settings()
    st.markdown(t("security.extraction_intro"))
    up = _api_status()
    if not up:
        _start_api_button(f"{P}_api_start_extraction")
    left, right = st.columns(2)
    n_queries = left.select_slider(t("security.n_queries"), [50, 100, 200, 400, 800], 400, key=f"{P}_extract_n")
    surrogate = right.radio(
        t("security.surrogate"),
        ["decision_tree", "logistic_regression"],
        horizontal=True,
        key=f"{P}_extract_surrogate",
        format_func=lambda m: translate(f"model.name_{m}", lang),
    )
    limited = st.session_state.get(f"{P}_api_limit") is not None
    if st.button(t("security.run_extraction"), key=f"{P}_extract_run", type="primary", icon=":material/content_copy:"):
        if not api_client.status(settings).healthy:
            st.warning(t("security.api_needed"))
        else:
            _run_extraction(n_queries, surrogate, "limited" if limited else "unlimited")
    st.markdown(t("security.rate_limit_intro"))
    left, middle, right = st.columns(3)
    rate = number_field(
        t("security.rate"), key=f"{P}_rate", value=2.0, min_value=0.5, max_value=100.0, digits=1, container=left
    )
    burst = number_field(
        t("security.burst"), key=f"{P}_burst", value=5, min_value=1, max_value=100, integer=True, container=middle
    )
    right.write("")
    if right.button(
        t("security.restart_limited"),
        key=f"{P}_restart_limited",
        icon=":material/speed:",
        disabled=rate is None or burst is None,
    ):
        _restart(rate, burst)
    if st.button(t("security.restart_unlimited"), key=f"{P}_restart_unlimited", icon=":material/restart_alt:"):
        _restart(0.0, 20)
    results = st.session_state.get(f"{P}_extractions", {})
    if results:
        cols = st.columns(len(results))
        for col, (name, result) in zip(cols, results.items()):
            col.metric(t(f"security.run_{name}"), _pct(result.fidelity), help=t("security.extraction_help"))
            col.caption(
                t(
                    "security.extraction_caption",
                    obtained=result.obtained,
                    refused=result.refused,
                    seconds=result.seconds,
                    agreement=_pct(result.agreement),
                )
            )
        left, right = st.columns(2)
        left.plotly_chart(security.extraction_figure(results, lang), key=f"{P}_fidelity_chart")
        right.plotly_chart(security.timeline_figure(results, lang), key=f"{P}_timeline_chart")
    show_code(security.extraction_code(api_client.api_url(settings), n_queries, surrogate))


def _restart(rate: float, burst: int) -> None:
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    status = api_client.status(settings)
    if status.healthy and status.pid is None:
        st.warning(t("security.api_external"))
        return
    with st.spinner(t("security.api_starting")):
        try:
            if rate > 0 and status.healthy:
                _holdout_probabilities()  # measured now: under the limit a 200-row batch costs 200 requests
            security.restart_api(settings, rate, burst)
        except (RuntimeError, security.SecurityError) as exc:
            _error(exc)
            return
    st.session_state[f"{P}_api_limit"] = RateLimit(rate, burst) if rate > 0 else None
    st.rerun()


def _holdout_probabilities() -> tuple[list[dict], list[float]]:
    """The 200 held-out applications and the API's probabilities for them, measured once per served model.

    Raises:
        SecurityError: the API refused the measuring batch (e.g. it already runs with a rate limit).
    """
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    holdout = security.synthetic_applications(200, seed=8)
    info = api_client.call("GET", "/model", settings=settings, learner=current_learner())
    version = info.body.get("version") if info.ok and isinstance(info.body, dict) else None
    cached: HoldoutAnswers | None = st.session_state.get(f"{P}_holdout")
    if cached is not None and cached.version == version:
        return holdout, cached.probabilities
    probabilities = security.batch_probabilities(holdout, settings, current_learner())
    st.session_state[f"{P}_holdout"] = HoldoutAnswers(version, probabilities)
    return holdout, probabilities


def _run_extraction(n_queries: int, surrogate: str, name: str) -> None:
    from workbench.chapters.ch11_post_production import security

    settings = get_settings()
    try:
        holdout, probabilities = _holdout_probabilities()
        result = security.extraction_attack(
            security.api_query(settings, current_learner()),
            security.synthetic_applications(n_queries),
            holdout,
            probabilities,
            surrogate,
            budget_seconds=_budget(),
            progress=_progress(t("security.extracting")),
        )
    except security.SecurityError as exc:
        _error(exc)
        return
    st.session_state.setdefault(f"{P}_extractions", {})[name] = result


# ----------------------------------------------------------------------------------------------
# Membership inference
# ----------------------------------------------------------------------------------------------


def membership_section() -> None:
    """ART's black-box membership inference on a regularised and an overfit random forest."""
    from workbench.chapters.ch11_post_production import security

    lang = current_lang()
    st.markdown(t("security.mia_intro"))
    if st.button(t("security.run_attack"), key=f"{P}_mia_run", type="primary", icon=":material/bolt:"):
        st.session_state[f"{P}_mia"] = security.membership_inference(
            course_data(), budget_seconds=_budget(), progress=_progress(t("security.attacking"))
        )
    if results := st.session_state.get(f"{P}_mia"):
        table = pd.DataFrame(
            [
                {
                    t("security.col_model"): translate(f"security.mia_{r.name}", lang),
                    t("security.col_train_acc"): round(r.train_accuracy, 3),
                    t("security.col_test_acc"): round(r.test_accuracy, 3),
                    t("security.col_auc_art"): round(r.auc_art, 3),
                    t("security.col_auc_conf"): round(r.auc_confidence, 3),
                }
                for r in results
            ]
        )
        dataframe(table, key=f"{P}_mia_table")
        st.plotly_chart(security.membership_figure(results, lang), key=f"{P}_mia_chart")
    show_code(security.membership_code(_data_path()))
    membership_exercise()


# ----------------------------------------------------------------------------------------------
# Inversion and denial of service
# ----------------------------------------------------------------------------------------------


def inversion_dos_section() -> None:
    """Model inversion explained; denial of service shown through the API's body cap and rate limiter."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    st.markdown(t("security.inversion_text"))
    st.markdown(t("security.dos_text", max_body=settings.api_max_body_bytes))
    if not _api_status():
        _start_api_button(f"{P}_api_start_dos")
    left, right = st.columns(2)
    if left.button(t("security.send_oversize"), key=f"{P}_oversize", icon=":material/upload_file:"):
        if api_client.status(settings).healthy:
            st.session_state[f"{P}_oversize_result"] = security.oversize_probe(settings)
        else:
            st.warning(t("security.api_needed"))
    n = right.slider(t("security.burst_size"), 10, 300, 60, 10, key=f"{P}_burst_n")
    if right.button(t("security.send_burst"), key=f"{P}_burst_run", icon=":material/flood:"):
        if api_client.status(settings).healthy:
            st.session_state[f"{P}_burst_result"] = security.burst_probe(settings, n, _progress(t("security.sending")))
        else:
            st.warning(t("security.api_needed"))
    for key in (f"{P}_oversize_result", f"{P}_burst_result"):
        if (probe := st.session_state.get(key)) is not None:
            codes = ", ".join(f"**{code}** × {count}" for code, count in probe.statuses.items())
            st.markdown(
                t(
                    f"security.probe_{probe.kind}",
                    codes=codes,
                    bytes=probe.bytes_sent,
                    seconds=probe.seconds,
                    sent=probe.sent,
                )
            )
    show_code(security.dos_code(api_client.api_url(settings), settings.api_max_body_bytes, n))
