"""Chapter 5: MLflow: tracking, runs, the model registry, projects, the UI."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=5,
    slug="mlflow",
    section="build",
    icon=":material/science:",
    tabs=(
        Tab("mlflow.tab_track", "track_tab"),
        Tab("mlflow.tab_runs", "runs_tab"),
        Tab("mlflow.tab_registry", "registry_tab"),
        Tab("mlflow.tab_project", "project_tab"),
        Tab("mlflow.tab_ui", "ui_tab"),
    ),
    checks=(
        "workbench.core.tracking:check_run_with_f1",
        "workbench.core.tracking:check_compared_runs",
        "workbench.core.tracking:check_production_alias",
        "workbench.core.tracking:check_rolled_back",
        "workbench.chapters.ch05_mlflow.own_runs:check_own_nested_runs",
        "workbench.chapters.ch05_mlflow.own_mlproject:check_own_mlproject",
    ),
)
