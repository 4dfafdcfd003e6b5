"""Chapter II — Fundamental tools: Python, data structures, NumPy, pandas, git."""

from workbench.ui.chapter_page import render_chapter

render_chapter("02_fundamentals")
