"""The sidebar shown on every page: language, learner name, overall progress."""

from __future__ import annotations

import streamlit as st

from workbench.progress import course_progress, overall_fraction
from workbench.settings import LANGUAGES, get_settings
from workbench.ui.context import current_learner, progress_store, t

LANGUAGE_LABELS = {"fr": "Français", "en": "English"}


def init_session() -> None:
    """Set the session defaults once: language (URL `?lang=en`, else settings) and learner name."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", get_settings().lang)
        st.session_state.lang = wanted if wanted in LANGUAGES else get_settings().lang
    if "learner" not in st.session_state:
        st.session_state.learner = get_settings().learner


def render_sidebar() -> None:
    """Language switch, learner name and the learner's overall progress."""
    with st.sidebar:
        st.segmented_control(
            t("sidebar.language"), LANGUAGES, key="lang", required=True,
            format_func=LANGUAGE_LABELS.get,
        )  # fmt: skip
        st.text_input(t("sidebar.learner"), key="learner", help=t("sidebar.learner_help"), max_chars=60)
        if not str(st.session_state.get("learner", "")).strip():
            st.caption(t("sidebar.learner_default", name=get_settings().learner))
        fraction = overall_fraction(course_progress(progress_store(), current_learner()))
        st.progress(fraction, text=t("sidebar.progress", percent=round(100 * fraction)))
