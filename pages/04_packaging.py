"""Chapter IV — Packaging ML models: serialization, the example package (build + tests), the environment."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel
from workbench.ui.packaging_lab import environment_tab, package_tab, serialization_tab

CHAPTER = "04_packaging"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
serialization, package, environment = st.tabs(
    [t("packaging.tab_serialization"), t("packaging.tab_package"), t("packaging.tab_environment")]
)
with serialization:
    serialization_tab()
with package:
    package_tab()
with environment:
    environment_tab()
exercise_panel(CHAPTER)
