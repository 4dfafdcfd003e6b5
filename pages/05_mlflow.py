"""Chapter V — Managing the ML lifecycle with MLflow: tracking, runs, registry, MLproject, MLflow UI."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel
from workbench.ui.mlflow_lab import (
    load_runs,
    project_tab,
    registry_tab,
    runs_tab,
    store_caption,
    track_tab,
    ui_tab,
)

CHAPTER = "05_mlflow"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
store_caption()
track, runs, registry, project, ui = st.tabs(
    [t("mlflow.tab_track"), t("mlflow.tab_runs"), t("mlflow.tab_registry"), t("mlflow.tab_project"), t("mlflow.tab_ui")]
)
with track:
    track_tab()
all_runs = load_runs()  # after training, so a new run shows at once; one search for both tabs
with runs:
    runs_tab(all_runs)
with registry:
    registry_tab(all_runs)
with project:
    project_tab()
with ui:
    ui_tab()
exercise_panel(CHAPTER)
