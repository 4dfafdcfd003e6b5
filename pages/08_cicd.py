"""Chapter VIII — CI/CD for ML: a real pipeline (commit, build, test, train, gate, staging, production)."""

from workbench.ui.chapter_page import render_chapter

render_chapter("08_cicd")
