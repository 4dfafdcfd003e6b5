"""Chapter VIII — CI/CD for ML."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "08_cicd"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
