"""Chapter IX — Deploying ML models on Kubernetes (GCP): manifests, validation, autoscaling, GKE."""

import streamlit as st
from workbench.ui import t
from workbench.ui.exercises import exercise_panel
from workbench.ui.k8s_lab import autoscale_tab, broken_tab, generator_tab, gke_tab
from workbench.ui.lesson import lesson_panel

CHAPTER = "09_kubernetes"

lesson_panel(CHAPTER)
st.header(t("common.lab"))
generator, broken, autoscale, gke = st.tabs(
    [t("k8s.tab_generator"), t("k8s.tab_broken"), t("k8s.tab_autoscale"), t("k8s.tab_gke")]
)
with generator:
    generator_tab()
with broken:
    broken_tab()
with autoscale:
    autoscale_tab()
with gke:
    gke_tab()
exercise_panel(CHAPTER)
