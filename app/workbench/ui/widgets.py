"""Small shared widgets: "show me the code"."""

from __future__ import annotations

import streamlit as st

from workbench.ui.context import t


def show_code(code: str, *, title: str | None = None, language: str = "python", expanded: bool = False) -> None:
    """An expander with the code equivalent to what the learner just did, ready to copy."""
    with st.expander(title or t("common.show_code"), expanded=expanded, icon=":material/code:"):
        st.code(code, language=language)
