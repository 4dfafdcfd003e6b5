"""Chapter I — Introduction: what MLOps is, the ML lifecycle, a first model, how to use the workbench."""

from workbench.ui.chapter_page import render_chapter

render_chapter("01_introduction")
