"""Chapter III — Challenges of deploying ML models."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "03_deployment_challenges"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
