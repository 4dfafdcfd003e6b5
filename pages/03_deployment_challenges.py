"""Chapter III — Challenges of deploying ML models: lifecycle, batch vs REST, robustness, feedback loop."""

import streamlit as st
from workbench.ui import t
from workbench.ui.challenges_lab import feedback_tab, lifecycle_tab, robustness_tab, serving_tab
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "03_deployment_challenges"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
lifecycle, serving, robustness, feedback = st.tabs(
    [t("challenges.tab_lifecycle"), t("challenges.tab_serving"), t("challenges.tab_robustness"),
     t("challenges.tab_feedback")]
)  # fmt: skip
with lifecycle:
    lifecycle_tab()
with serving:
    serving_tab()
with robustness:
    robustness_tab()
with feedback:
    feedback_tab()
exercise_panel(CHAPTER)
