"""Chapter IV — Packaging ML models."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "04_packaging"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
