"""Chapter IV — Packaging ML models: serialization, the example package (build + tests), the environment."""

from workbench.ui.chapter_page import render_chapter

render_chapter("04_packaging")
