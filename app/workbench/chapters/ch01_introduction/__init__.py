"""Chapter 1: Introduction to MLOps: the ML lifecycle and a first model."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=1,
    slug="introduction",
    section="foundations",
    icon=":material/school:",
    tabs=(
        Tab("intro.tab_lifecycle", "lifecycle_explorer", ("ch01",)),
        Tab("intro.tab_first_model", "first_model_lab", ("ch01",)),
    ),
    checks=(
        "workbench.chapters.ch01_introduction.lab:check_first_model",
        "workbench.chapters.ch01_introduction.lab:check_compare_models",
    ),
)
