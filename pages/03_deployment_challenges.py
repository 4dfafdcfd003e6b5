"""Chapter III — Challenges of deploying ML models: lifecycle, batch vs REST, robustness, feedback loop."""

from workbench.ui.chapter_page import render_chapter

render_chapter("03_deployment_challenges")
