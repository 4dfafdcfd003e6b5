"""Chapter VII — Web apps and APIs for ML."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "07_web_apps_api"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
