"""Chapter I — Introduction: what MLOps is, the ML lifecycle, a first model, how to use the workbench."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.intro import first_model_lab, lifecycle_explorer
from workbench.ui.lesson import lesson_panel

CHAPTER = "01_introduction"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
lifecycle_tab, model_tab = st.tabs([t("intro.tab_lifecycle"), t("intro.tab_first_model")])
with lifecycle_tab:
    lifecycle_explorer("ch01")
with model_tab:
    first_model_lab("ch01")
exercise_panel(CHAPTER)
