"""Chapter X — Monitoring and debugging."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "10_monitoring"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
