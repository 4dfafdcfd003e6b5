"""Defenses, and loading a model safely."""

from __future__ import annotations

import streamlit as st

from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch11_post_production.security.common import P, _budget, _data_path, _error, _progress, victim
from workbench.ui.context import current_lang, current_learner, t
from workbench.ui.widgets import dataframe, decimal_slider, show_code

# ----------------------------------------------------------------------------------------------
# Defenses
# ----------------------------------------------------------------------------------------------


def defenses_section() -> None:
    """Adversarial training, input validation, ensembles and rate limiting, with before/after numbers."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import NUMERIC_FEATURES

    lang = current_lang()
    st.markdown(t("security.defenses_intro"))
    eps = decimal_slider(t("security.eps"), 0.1, 3.0, 1.0, 0.1, key=f"{P}_def_eps")
    if st.button(t("security.run_defenses"), key=f"{P}_def_run", type="primary", icon=":material/shield:"):
        progress = _progress(t("security.defending"))
        target = victim("logistic_regression")
        results = [security.adversarial_training(target, eps)]
        progress(0.4)
        attack = security.white_box_evasion(target, eps, "fgsm", NUMERIC_FEATURES, budget_seconds=_budget())
        results.append(security.validation_defense(attack))
        progress(0.6)
        results.append(security.ensemble_defense(target, eps))
        extractions = st.session_state.get(f"{P}_extractions", {})
        if {"unlimited", "limited"} <= set(extractions):
            results.append(security.rate_limit_defense(extractions["unlimited"], extractions["limited"]))
        if trials := st.session_state.get(f"{P}_loading"):
            results.append(security.safe_loading_defense(trials))
        progress(1.0)
        st.session_state[f"{P}_defenses"] = results
    if results := st.session_state.get(f"{P}_defenses"):
        cols = st.columns(len(results))
        for col, r in zip(cols, results):
            col.metric(
                t(f"security.defense_{r.defense}"),
                fmt.format_value(r.after, ".3g", lang),
                fmt.format_value(r.after - r.before, "+.3g", lang),
            )
        dataframe(security.defenses_table(results, lang), key=f"{P}_def_table")
        for r in results:
            if "clean_before" in r.detail:
                st.caption(
                    t(
                        "security.clean_cost",
                        defense=translate(f"security.defense_{r.defense}", lang),
                        before=r.detail["clean_before"],
                        after=r.detail["clean_after"],
                    )
                )
        if not any(r.defense == "rate_limiting" for r in results):
            st.caption(t("security.rate_limit_missing"))
    show_code(security.defenses_code(eps, _data_path()))
    _model_loading()


def _model_loading() -> None:
    """A booby-trapped model: MLflow's default loader runs its payload, the workbench's loader refuses it."""
    import tempfile
    from pathlib import Path

    from workbench.chapters.ch11_post_production import security

    st.subheader(t("security.loading_title"))
    st.markdown(t("security.loading_intro"))
    if st.button(t("security.loading_run"), key=f"{P}_loading_run", icon=":material/gpp_bad:"):
        with st.spinner(t("security.loading_running")), tempfile.TemporaryDirectory(prefix="ch11-models-") as tmp:
            try:
                st.session_state[f"{P}_loading"] = security.model_loading_trials(
                    Path(tmp), victim("logistic_regression").pipeline, get_settings()
                )
            except security.SecurityError as exc:
                _error(exc)
    if trials := st.session_state.get(f"{P}_loading"):
        st.table(security.loading_table(trials, current_lang()).set_index(t("security.col_file")))
    model = get_settings().learner_model_name(current_learner())  # class mode: the learner's own model
    show_code(security.safe_loading_code(f"models:/{model}@production"))
