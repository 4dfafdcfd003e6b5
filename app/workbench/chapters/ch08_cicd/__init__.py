"""Chapter 8: CI/CD for ML: a real pipeline (commit, build, test, train, gate, staging, production)."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=8,
    slug="cicd",
    section="deploy",
    icon=":material/sync:",
    tabs=(
        Tab("cicd.tab_pipeline", "pipeline_tab"),
        Tab("cicd.tab_history", "history_tab"),
        Tab("cicd.tab_files", "files_tab"),
    ),
    checks=(
        "workbench.chapters.ch08_cicd.delivery:check_gate_rejected_worse_model",
        "workbench.chapters.ch08_cicd.delivery:check_pipeline_reached_production",
    ),
    prerequisites=("05_mlflow",),  # serves, gates or watches the model put at @production in chapter V
)
