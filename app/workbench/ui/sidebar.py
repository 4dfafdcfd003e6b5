"""The sidebar shown on every page: language, learner name, overall progress."""

from __future__ import annotations

import streamlit as st

from workbench.core.progress import course_progress, overall_fraction
from workbench.core.settings import LANGUAGES, get_settings
from workbench.ui.context import current_learner, progress_store, t
from workbench.ui.identity import identify, learner_widget, sign_in_gate, signed_in_panel

LANGUAGE_LABELS = {"fr": "Français", "en": "English"}


def init_session() -> None:
    """Before the pages are named: the session's language once (URL `?lang=en`, else settings) and, in class
    mode, who is signed in (the navigation shows the teacher's section to a teacher from the first render)."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", get_settings().lang)
        st.session_state.lang = wanted if wanted in LANGUAGES else get_settings().lang
    if get_settings().class_mode:
        identify()


def _keep_lang_in_url() -> None:
    """`?lang=en` stays in the URL (a page change clears it), so a reload keeps the language; none for the default."""
    lang = st.session_state.get("lang")
    if lang == get_settings().lang:
        st.query_params.pop("lang", None)
    elif lang in LANGUAGES and st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def render_sidebar() -> None:
    """Language switch, who the learner is (name field solo, sign-in in class mode), the overall progress."""
    with st.sidebar:
        st.segmented_control(
            t("sidebar.language"),
            LANGUAGES,
            key="lang",
            required=True,
            format_func=LANGUAGE_LABELS.get,
        )
        _keep_lang_in_url()
    if get_settings().class_mode:
        sign_in_gate(t)  # nobody signed in: a sign-in screen, and the page stops here
    with st.sidebar:
        if get_settings().class_mode:
            signed_in_panel(t)
        else:
            learner_widget(t("sidebar.learner"), t("sidebar.learner_help"))
            if not str(st.session_state.get("learner", "")).strip():
                st.caption(t("sidebar.learner_default", name=get_settings().learner))
        fraction = overall_fraction(course_progress(progress_store(), current_learner()))
        st.progress(fraction, text=t("sidebar.progress", percent=round(100 * fraction)))
