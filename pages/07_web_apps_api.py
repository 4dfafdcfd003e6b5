"""Chapter VII — Web apps and APIs: the local prediction API (FastAPI) and its Streamlit client."""

import streamlit as st
from workbench.ui import t
from workbench.ui.api_lab import batch_tab, errors_tab, load_tab, predict_tab, proxy_tab, server_tab
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "07_web_apps_api"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
tabs = st.tabs(
    [t("api.tab_server"), t("api.tab_predict"), t("api.tab_batch"), t("api.tab_errors"), t("api.tab_load"),
     t("api.tab_proxy")]
)  # fmt: skip
for tab, render in zip(tabs, (server_tab, predict_tab, batch_tab, errors_tab, load_tab, proxy_tab)):
    with tab:
        render()
exercise_panel(CHAPTER)
