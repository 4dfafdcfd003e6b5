"""Chapter X — Monitoring and debugging: drift statistics, Evidently, control charts, retraining, live API."""

from workbench.ui.chapter_page import render_chapter

render_chapter("10_monitoring")
