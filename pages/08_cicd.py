"""Chapter VIII — CI/CD for ML: a real pipeline (commit, build, test, train, gate, staging, production)."""

import streamlit as st
from workbench.ui import t
from workbench.ui.cicd_lab import files_tab, history_tab, pipeline_tab
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "08_cicd"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
pipeline, history, files = st.tabs([t("cicd.tab_pipeline"), t("cicd.tab_history"), t("cicd.tab_files")])
with pipeline:
    pipeline_tab()
with history:
    history_tab()
with files:
    files_tab()
exercise_panel(CHAPTER)
