"""Chapter IX — Deploying ML models on Kubernetes (GCP)."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "09_kubernetes"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
