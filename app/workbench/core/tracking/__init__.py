"""MLflow tracking and model registry on the workbench's store (chapter V).

The store is `settings.mlflow_tracking_uri`: by default SQLite under `.workbench/` (MLflow 3 refuses a
plain `./mlruns` folder), with artifacts next to it; `MLFLOW_TRACKING_URI` points a class at a shared
`mlflow server`. mlflow is imported inside the functions, so importing this module is cheap.

Registry: versions of one registered model (setting `model_name`, default `loan-approval`), moved
between aliases (`staging`, `production`, `challenger`) — aliases replaced the deprecated stages.

Learners in one store: every run is tagged with its learner (`learner`, and `workbench.learner` = the exact
`learner_key`). In class mode (WORKBENCH_MODE=class) each learner has their own registered model
(`settings.learner_model_name`), every listing shows their runs only, and the registry functions refuse another
learner's model or runs (`owned_model`, `check_run_owner`). MLflow 3 workspaces were not used: they need a
tracking server started with `--enable-workspaces` (solo mode has none), refuse the experiment's own artifact
location, and only isolate with MLflow's auth plugin and one MLflow account per learner.

The store is reached through `MlflowClient(tracking_uri=...)`; MLflow's global tracking URI is set only for the
fluent calls that need it (`start_run`, `log_model`), once per process, and never the global experiment.
Every promotion is appended to the registered model's `workbench.production_history` tag, so a
rollback knows where to go back and the exercises can check what a learner did.

Split by concern: store, runs, registry, checks."""

from workbench.core.tracking.checks import (
    BEST_TAG,
    COMPARISONS_KEY,
    best_runs,
    check_compared_runs,
    check_production_alias,
    check_rolled_back,
    check_run_with_f1,
    mark_best_run,
    record_comparison,
)
from workbench.core.tracking.registry import (
    VersionInfo,
    aliases,
    delete_alias,
    get_version,
    list_versions,
    load_model,
    predict_with_alias,
    production_history,
    promote_staging,
    register_run_model,
    resolve_alias,
    rollback_production,
    set_alias,
    set_description,
    set_version_tag,
)
from workbench.core.tracking.runs import (
    COMPARE_METRICS,
    NOT_APPLICABLE,
    RUN_COLUMNS,
    Comparison,
    RunDetail,
    compare_runs,
    equals_filter,
    filter_runs,
    metric_bars_figure,
    parallel_coordinates_figure,
    run_detail,
    run_labels,
    search_runs,
)
from workbench.core.tracking.store import (
    ALIASES,
    DEFAULT_GRID,
    EXPERIMENT,
    HISTORY_ENTRY_PREFIX,
    HISTORY_KEEP,
    HISTORY_TAG,
    LEARNER_TAG,
    MODEL_FILES,
    MODEL_REQUIREMENTS,
    MODEL_URI_TAG,
    GridSearchResult,
    LoggedRun,
    RegistryUnavailable,
    TrackingError,
    _mlflow,
    alias_version,
    check_run_owner,
    client,
    experiment_id,
    grid_search,
    learner_tags,
    log_training_run,
    model_requirements,
    model_signature,
    owned_model,
    registry_client,
    run_label,
    train_and_log,
    trusted_types_for,
)

__all__ = [
    "ALIASES",
    "BEST_TAG",
    "COMPARE_METRICS",
    "Comparison",
    "DEFAULT_GRID",
    "EXPERIMENT",
    "GridSearchResult",
    "HISTORY_ENTRY_PREFIX",
    "HISTORY_KEEP",
    "HISTORY_TAG",
    "LEARNER_TAG",
    "LoggedRun",
    "MODEL_FILES",
    "MODEL_REQUIREMENTS",
    "MODEL_URI_TAG",
    "NOT_APPLICABLE",
    "RUN_COLUMNS",
    "RegistryUnavailable",
    "RunDetail",
    "TrackingError",
    "VersionInfo",
    "_mlflow",
    "alias_version",
    "aliases",
    "best_runs",
    "check_compared_runs",
    "check_run_owner",
    "check_production_alias",
    "check_rolled_back",
    "check_run_with_f1",
    "client",
    "compare_runs",
    "COMPARISONS_KEY",
    "delete_alias",
    "equals_filter",
    "experiment_id",
    "filter_runs",
    "get_version",
    "grid_search",
    "learner_tags",
    "list_versions",
    "load_model",
    "log_training_run",
    "mark_best_run",
    "metric_bars_figure",
    "model_requirements",
    "model_signature",
    "owned_model",
    "parallel_coordinates_figure",
    "predict_with_alias",
    "production_history",
    "promote_staging",
    "record_comparison",
    "register_run_model",
    "registry_client",
    "resolve_alias",
    "rollback_production",
    "run_detail",
    "run_label",
    "run_labels",
    "search_runs",
    "set_alias",
    "set_description",
    "set_version_tag",
    "train_and_log",
    "trusted_types_for",
]
