"""Chapter VI — Docker for ML: the project's Dockerfiles and compose file explained, hadolint, your Dockerfile."""

from workbench.ui.chapter_page import render_chapter

render_chapter("06_docker")
