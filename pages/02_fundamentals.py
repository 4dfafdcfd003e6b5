"""Chapter II — Fundamental tools: Python, data structures, NumPy, pandas, git."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "02_fundamentals"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
