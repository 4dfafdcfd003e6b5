"""The Security tab's hands-on forms: a defense against poisoning, a model that resists membership inference."""

from __future__ import annotations

import streamlit as st

from workbench.core.settings import get_settings
from workbench.ui.chapters.ch11_post_production.security.common import P, _error
from workbench.ui.context import current_learner, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.resources import course_data
from workbench.ui.widgets import decimal_slider

CHAPTER = "11_post_production"


def defense_exercise() -> None:
    """Choose and tune a defense against the targeted label flip; try it; save it for the check."""
    from workbench.chapters.ch11_post_production import security
    from workbench.chapters.ch11_post_production.security.exercises import MAX_GAP, POISON_RATE

    start = security.DEFAULT_DEFENSE
    with st.container(border=True):
        st.markdown(f"**{t('security.defense_ex_title')}**")
        st.markdown(t("security.defense_ex_intro", rate=POISON_RATE, max_gap=MAX_GAP * 100))
        method = st.segmented_control(
            t("security.defense_method"),
            list(security.DEFENSES),
            default=start["method"],
            key=f"{P}_defense_method",
            format_func=lambda m: t(f"security.defense_{m}"),
            help=t("security.defense_help"),
        )
        method = method or start["method"]
        left, right = st.columns(2)
        if method == "knn":
            defense = {
                "method": method,
                "k": left.slider(t("security.defense_k"), 1, 50, start["k"], key=f"{P}_defense_k"),
                "agreement": decimal_slider(
                    t("security.defense_agreement"), 0.0, 1.0, start["agreement"], 0.05,
                    key=f"{P}_defense_agreement", container=right, percent=True,
                ),
            }  # fmt: skip
        else:
            defense = {
                "method": method,
                "trusted_share": decimal_slider(
                    t("security.defense_trusted_share"), 0.02, 0.5, start["trusted_share"], 0.01,
                    key=f"{P}_defense_trusted_share", container=left, percent=True,
                ),
                "confidence": decimal_slider(
                    t("security.defense_confidence"), 0.5, 0.99, start["confidence"], 0.01,
                    key=f"{P}_defense_confidence", container=right, percent=True,
                ),
            }  # fmt: skip
        cols = st.columns(2)
        if cols[0].button(t("security.defense_try"), key=f"{P}_defense_try", icon=":material/science:"):
            try:
                st.session_state[f"{P}_defense_result"] = (defense, security.defend_poisoning(course_data(), defense))
            except security.SecurityError as exc:
                _error(exc)
        if cols[1].button(t("security.defense_save"), key=f"{P}_defense_save", type="primary", icon=":material/save:"):
            security.save_defense(get_settings(), current_learner(), defense)
            forget_check_results(CHAPTER)
            st.success(t("security.defense_saved"), icon=":material/check:")
        shown = st.session_state.get(f"{P}_defense_result")
        if shown is not None and shown[0] == defense:
            result = shown[1]
            st.info(
                t(
                    "security.defense_result",
                    clean=result.clean_accuracy,
                    poisoned=result.poisoned_accuracy,
                    defended=result.defended_accuracy,
                    removed=result.removed,
                    flipped_removed=result.flipped_removed,
                    n_flipped=result.n_flipped,
                )
            )


def membership_exercise() -> None:
    """Tune the exercise's gradient boosting until ART's membership attack gains little; save the settings."""
    from workbench.chapters.ch11_post_production import security
    from workbench.chapters.ch11_post_production.security.exercises import MAX_ADVANTAGE, MIN_ACCURACY

    start = security.MEMBERSHIP_START
    with st.container(border=True):
        st.markdown(f"**{t('security.mia_ex_title')}**")
        st.markdown(t("security.mia_ex_intro", max_advantage=MAX_ADVANTAGE * 100, min_accuracy=MIN_ACCURACY))
        cols = st.columns(3)
        params = {
            "max_iter": cols[0].slider(t("security.mia_max_iter"), 10, 300, int(start["max_iter"]), 10, key=f"{P}_mia_max_iter"),
            "learning_rate": decimal_slider(
                t("security.mia_learning_rate"), 0.01, 1.0, float(start["learning_rate"]), 0.01,
                key=f"{P}_mia_learning_rate", container=cols[1],
            ),
            "max_depth": cols[2].slider(t("security.mia_max_depth"), 1, 10, int(start["max_depth"]), key=f"{P}_mia_max_depth"),
        }  # fmt: skip
        left, right = st.columns(2)
        if left.button(t("security.mia_try"), key=f"{P}_mia_try", icon=":material/bolt:"):
            with st.spinner(t("security.attacking")):
                st.session_state[f"{P}_mia_trial"] = security.membership_trial(course_data(), params)
        if right.button(t("security.mia_save"), key=f"{P}_mia_save", type="primary", icon=":material/save:"):
            security.save_membership_params(get_settings(), current_learner(), params)
            forget_check_results(CHAPTER)
            st.success(t("security.mia_saved"), icon=":material/check:")
        trial = st.session_state.get(f"{P}_mia_trial")
        if trial is not None and trial.params == params:
            st.info(
                t(
                    "security.mia_trial",
                    train=trial.train_accuracy,
                    test=trial.test_accuracy,
                    auc=trial.auc,
                    advantage=trial.advantage * 100,
                )
            )
