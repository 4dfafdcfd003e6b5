"""Chapter IX — Deploying ML models on Kubernetes (GCP): manifests, validation, autoscaling, GKE."""

from workbench.ui.chapter_page import render_chapter

render_chapter("09_kubernetes")
