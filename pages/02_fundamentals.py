"""Chapter II — Fundamental tools: Python, data structures, NumPy, pandas, git."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.fundamentals_lab import git_tab, numpy_tab, pandas_tab, python_tab
from workbench.ui.lesson import lesson_panel

CHAPTER = "02_fundamentals"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
pandas, numpy, python, git = st.tabs(
    [t("fundamentals.tab_pandas"), t("fundamentals.tab_numpy"), t("fundamentals.tab_python"), t("git.tab")]
)
with pandas:
    pandas_tab()
with numpy:
    numpy_tab()
with python:
    python_tab()
with git:
    git_tab()
exercise_panel(CHAPTER)
