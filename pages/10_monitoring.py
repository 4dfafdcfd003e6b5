"""Chapter X — Monitoring and debugging: drift statistics, Evidently, control charts, retraining, live API."""

import streamlit as st
from workbench.ui import t
from workbench.ui.drift_lab import drift_tab, evidently_tab, live_tab, timeline_tab
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "10_monitoring"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
tabs = st.tabs([t("drift.tab_lab"), t("drift.tab_evidently"), t("drift.tab_timeline"), t("drift.tab_live")])
for tab, render in zip(tabs, (drift_tab, evidently_tab, timeline_tab, live_tab)):
    with tab:
        render()
exercise_panel(CHAPTER)
