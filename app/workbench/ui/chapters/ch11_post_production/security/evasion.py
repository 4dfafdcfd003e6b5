"""Evasion: white and black box attacks, the attack through the API, the flip exercise."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch11_post_production.security.common import (
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
from workbench.ui.context import current_lang, current_learner, t
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

# ----------------------------------------------------------------------------------------------
# Evasion
# ----------------------------------------------------------------------------------------------


def _evasion_summary(result, key: str) -> None:
    from workbench.chapters.ch11_post_production.security import comparison_table

    lang = current_lang()
    cols = st.columns(4)
    cols[0].metric(t("security.acc_clean"), _pct(result.accuracy_clean))
    # an accuracy that drops under attack is bad news: red (normal colours: negative = red)
    cols[1].metric(
        t("security.acc_model_space"),
        _pct(result.accuracy_model_space),
        _pts(result.accuracy_model_space - result.accuracy_clean),
        delta_color="normal",
    )
    cols[2].metric(
        t("security.acc_valid"),
        _pct(result.accuracy_valid),
        _pts(result.accuracy_valid - result.accuracy_clean),
        delta_color="normal",
    )
    cols[3].metric(t("security.rejected"), _pct(result.rejected_share))
    st.caption(
        t(
            "security.evasion_caption",
            rows=result.n_rows,
            flipped=int(result.flipped.sum()),
            seconds=result.seconds,
            queries=result.queries,
        )
    )
    if not result.complete:
        st.warning(t("security.budget_ran_out"), icon=":material/timer_off:")
    example = result.example()
    if example is None:
        st.info(t("security.no_flip"), icon=":material/shield:")
        return
    before, after = example
    i = int(result.flipped.nonzero()[0][0])
    st.markdown(t("security.flip_example", before=result.proba_before[i], after=result.proba_after[i]))
    dataframe(comparison_table(before, after, lang), key=key)


def evasion_section() -> None:
    """White box (FGSM/PGD on the logistic regression), black box (HopSkipJump/Boundary on the random
    forest), black box over HTTP (greedy search against the live API), and the learner's own try."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import FEATURES, NUMERIC_FEATURES

    lang = current_lang()
    data_path = _data_path()
    st.markdown(t("security.evasion_intro"))

    st.subheader(t("security.white_box_title"))
    st.markdown(t("security.white_box_intro"))
    left, middle, right = st.columns(3)
    eps = decimal_slider(
        t("security.eps"), 0.1, 3.0, 2.0, 0.1, key=f"{P}_wb_eps", help=t("security.eps_help"), container=left
    )
    method = middle.radio(
        t("security.method"),
        ["fgsm", "pgd"],
        horizontal=True,
        key=f"{P}_wb_method",
        format_func=lambda m: translate(f"security.attack_{m}", lang),
    )
    features = right.multiselect(
        t("security.features"),
        list(FEATURES),
        list(NUMERIC_FEATURES),
        key=f"{P}_wb_features",
        placeholder=t("common.choose_several"),
    )
    if st.button(t("security.run_attack"), key=f"{P}_wb_run", type="primary", icon=":material/bolt:"):
        if not features:
            st.warning(t("security.pick_features"))
        else:
            try:
                st.session_state[f"{P}_wb_result"] = security.white_box_evasion(
                    victim("logistic_regression"),
                    eps,
                    method,
                    features,
                    budget_seconds=_budget(),
                    progress=_progress(t("security.attacking")),
                )
            except security.SecurityError as exc:
                _error(exc)
    if (result := st.session_state.get(f"{P}_wb_result")) is not None:
        _evasion_summary(result, f"{P}_wb_table")
    show_code(security.evasion_code(method, eps, data_path))

    st.subheader(t("security.black_box_title"))
    st.markdown(t("security.black_box_intro"))
    left, right = st.columns(2)
    attack = left.radio(
        t("security.method"),
        ["hopskipjump", "boundary"],
        horizontal=True,
        key=f"{P}_bb_attack",
        format_func=lambda m: translate(f"security.attack_{m}", lang),
    )
    rows = right.slider(t("security.rows"), 2, 50, 10, key=f"{P}_bb_rows")
    if st.button(t("security.run_attack"), key=f"{P}_bb_run", type="primary", icon=":material/bolt:"):
        try:
            st.session_state[f"{P}_bb_result"] = security.black_box_evasion(
                victim("random_forest", {"n_estimators": 50}),
                attack,
                NUMERIC_FEATURES,
                rows,
                budget_seconds=_budget(),
                progress=_progress(t("security.attacking")),
            )
        except security.SecurityError as exc:
            _error(exc)
    if (result := st.session_state.get(f"{P}_bb_result")) is not None:
        _evasion_summary(result, f"{P}_bb_table")
    show_code(security.evasion_code(attack, data_path=data_path, max_rows=rows))

    st.subheader(t("security.api_attack_title"))
    st.markdown(t("security.api_attack_intro"))
    _api_attack()
    st.subheader(t("security.flip_title"))
    _flip_exercise()


def _api_status() -> bool:
    """Show whether the API answers; offer to start it. True when it answers."""
    from workbench.core import api_client

    settings = get_settings()
    status = api_client.status(settings)
    if status.healthy:
        limit: RateLimit | None = st.session_state.get(f"{P}_api_limit")
        text = (
            t("security.api_up_limited", url=api_client.api_url(settings), rate=limit.rate, burst=limit.burst)
            if limit
            else t("security.api_up", url=api_client.api_url(settings))
        )
        st.success(text, icon=":material/check_circle:")
        return True
    st.info(t("security.api_down"), icon=":material/power_off:")
    return False


def _start_api_button(key: str) -> None:
    from workbench.core import api_client

    if get_settings().class_mode:  # the class's shared API is run by the teacher, never started from a page
        st.caption(t("api.class_unreachable", url=api_client.api_url(get_settings())))
        return
    if st.button(t("security.api_start"), key=key, icon=":material/play_arrow:"):
        with st.spinner(t("security.api_starting")):
            try:
                api_client.start(get_settings())
                st.session_state.pop(f"{P}_api_limit", None)
            except RuntimeError as exc:
                _error(exc)
                return
        st.rerun()


def _api_attack() -> None:
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client
    from workbench.core.data import FEATURES

    start = security.flip_start_application(victim("logistic_regression"))
    if not _api_status():
        _start_api_button(f"{P}_api_start_evasion")
    left, right = st.columns(2)
    features = left.multiselect(
        t("security.features"),
        list(FEATURES),
        list(security.DEFAULT_API_FEATURES),
        key=f"{P}_api_features",
        placeholder=t("common.choose_several"),
    )
    max_queries = right.slider(t("security.max_queries"), 20, 500, 200, 10, key=f"{P}_api_max_queries")
    st.caption(t("security.api_start_row"))
    st.json(start, expanded=False)
    if st.button(t("security.run_attack"), key=f"{P}_api_run", type="primary", icon=":material/bolt:"):
        if not api_client.status(get_settings()).healthy:
            st.warning(t("security.api_needed"))
        elif not features:
            st.warning(t("security.pick_features"))
        else:
            try:
                st.session_state[f"{P}_api_result"] = security.greedy_api_attack(
                    start,
                    security.api_query(get_settings(), current_learner()),
                    features,
                    max_queries,
                    _budget(),
                    progress=_progress(t("security.attacking")),
                )
            except security.SecurityError as exc:
                _error(exc)
    if (result := st.session_state.get(f"{P}_api_result")) is not None:
        cols = st.columns(4)
        cols[0].metric(t("security.goal"), t(f"security.goal_{result.goal}"))
        cols[1].metric(t("security.reached"), t("security.yes") if result.reached else t("security.no"))
        cols[2].metric(t("security.queries"), result.queries)
        cols[3].metric(t("security.refused_queries"), result.refused)
        st.markdown(
            t(
                "security.api_probabilities",
                before=result.probability_before,
                after=result.probability_after,
                seconds=result.seconds,
            )
        )
        if result.steps:
            steps = pd.DataFrame(result.steps).assign(
                old=lambda d: d["old"].map(lambda v: security._shown(v, current_lang())),
                new=lambda d: d["new"].map(lambda v: security._shown(v, current_lang())),
            )
            dataframe(
                steps.rename(
                    columns={
                        "feature": t("security.col_feature"),
                        "old": t("security.col_old"),
                        "new": t("security.col_new"),
                        "probability": t("security.col_probability"),
                        "queries": t("security.col_queries"),
                    }
                ),
                formats={t("security.col_probability"): "percent"},
                key=f"{P}_api_steps",
            )
        dataframe(security.comparison_table(result.original, result.final, current_lang()), key=f"{P}_api_table")
    show_code(security.api_attack_code(api_client.api_url(get_settings()), start, features or ["CoapplicantIncome"]))


def _flip_exercise() -> None:
    """The hands-on: edit the refused application as little as possible until the model approves it."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import CATEGORIES

    model = victim("logistic_regression")
    start = security.flip_start_application(model)
    st.markdown(t("security.flip_intro"))
    edited: dict = {}
    columns = st.columns(3)
    for i, (feature, choices) in enumerate(CATEGORIES.items()):
        edited[feature] = columns[i % 3].selectbox(
            feature, list(choices), index=list(choices).index(start[feature]), key=f"{P}_flip_{feature}"
        )
    for i, feature in enumerate(("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")):
        edited[feature] = number_field(
            feature,
            key=f"{P}_flip_{feature}",
            value=int(start[feature]),
            min_value=0,
            max_value=1_000_000,
            integer=True,
            container=columns[i % 3],
        )
    if any(edited[f] is None for f in ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")):
        return
    edited["Credit_History"] = columns[1].selectbox(
        "Credit_History", [0, 1], index=int(start["Credit_History"]), key=f"{P}_flip_Credit_History"
    )
    edited = {k: edited[k] for k in start}
    if st.button(t("security.flip_submit"), key=f"{P}_flip_submit", type="primary", icon=":material/edit:"):
        verdict = security.judge_flip(model, start, edited)
        if not verdict.problems:
            security.save_flip_attempt(get_settings(), current_learner(), start, edited)
        st.session_state[f"{P}_flip_verdict"] = verdict
    verdict = st.session_state.get(f"{P}_flip_verdict")
    if verdict is None:
        return
    if verdict.problems:
        st.error(t("security.flip_invalid", problems=verdict.problems))
    elif verdict.flipped:
        st.success(
            t(
                "security.flip_ok",
                before=verdict.probability_before,
                after=verdict.probability_after,
                cost=verdict.cost,
                score=verdict.score,
            )
        )
    else:
        st.warning(
            t(
                "security.flip_not",
                before=verdict.probability_before,
                after=verdict.probability_after,
                cost=verdict.cost,
            )
        )
