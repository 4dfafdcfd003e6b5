"""Chapter V — Managing the ML lifecycle with MLflow: tracking, runs, registry, MLproject, MLflow UI."""

from workbench.ui.chapter_page import render_chapter

render_chapter("05_mlflow")
