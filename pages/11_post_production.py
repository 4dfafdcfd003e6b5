"""Chapter XI — Post-production: model security (attacks and defenses), A/B tests, bandits, business value."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.experiments_lab import ab_tab, bandits_tab, business_tab
from workbench.ui.lesson import lesson_panel
from workbench.ui.security_lab import security_tab

CHAPTER = "11_post_production"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
tabs = st.tabs(
    [t("security.tab"), t("experiments.tab_ab"), t("experiments.tab_bandits"), t("experiments.tab_business")]
)
for tab, render in zip(tabs, (security_tab, ab_tab, bandits_tab, business_tab)):
    with tab:
        render()
exercise_panel(CHAPTER)
