"""Chapter VI — Docker for ML: the project's Dockerfiles and compose file explained, hadolint, your Dockerfile."""

import streamlit as st
from workbench.ui import t
from workbench.ui.docker_lab import compose_tab, dockerfile_tab, yours_tab
from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "06_docker"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
app_tab, api_tab, compose, yours = st.tabs(
    [t("docker.tab_dockerfile"), t("docker.tab_dockerfile_api"), t("docker.tab_compose"), t("docker.tab_yours")]
)
with app_tab:
    dockerfile_tab("Dockerfile")
with api_tab:
    dockerfile_tab("Dockerfile.api")
with compose:
    compose_tab()
with yours:
    yours_tab()
exercise_panel(CHAPTER)
