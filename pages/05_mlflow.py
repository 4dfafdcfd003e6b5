"""Chapter V — Managing the ML lifecycle with MLflow."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "05_mlflow"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
