"""Chapter VI — Docker for ML."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "06_docker"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
