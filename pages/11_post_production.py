"""Chapter XI — Post-production: security, A/B tests, bandits."""

from workbench.ui.exercises import exercise_panel
from workbench.ui.lesson import lesson_panel

CHAPTER = "11_post_production"

lesson_panel(CHAPTER)
exercise_panel(CHAPTER)
