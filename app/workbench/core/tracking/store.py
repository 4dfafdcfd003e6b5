"""MLflow tracking: the store, experiments and logging runs."""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.core.data import NUMERIC_FEATURES, TARGET, dataset_hash, split_features_target
from workbench.core.i18n import LocalizedError
from workbench.core.safe_models import TRUSTED_TYPES
from workbench.core.settings import Settings, get_settings, learner_key

if TYPE_CHECKING:
    from workbench.core.modeling import TrainResult

EXPERIMENT = "loan-approval"
ALIASES: tuple[str, ...] = ("staging", "production", "challenger")
#: Before: the whole history as one JSON tag (read-modify-write: concurrent moves lost entries). Still read.
HISTORY_TAG = "workbench.production_history"
#: Now: one tag per move, `workbench.production_history.<nanoseconds>.<random>`, written once, never rewritten.
HISTORY_ENTRY_PREFIX = HISTORY_TAG + "."
HISTORY_KEEP = 100
MODEL_URI_TAG = "workbench.model_uri"
#: Whose a run is: `learner_key(name)` (exact, filter-safe); in class mode every listing filters on it.
LEARNER_TAG = "workbench.learner"
#: A run or model version the workbench made for the learner ("prepare what this chapter needs"): never their work.
PREPARED_TAG = "workbench.prepared"
#: Requirements written next to the model. Declaring them avoids MLflow's inference, which imports
#: the model in a subprocess and costs seconds per run.
MODEL_REQUIREMENTS: tuple[str, ...] = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
MODEL_FILES: dict[str, str] = {
    "MLmodel": "model_file_mlmodel",
    "model.skops": "model_file_skops",
    "model.pkl": "model_file_pkl",
    "conda.yaml": "model_file_conda",
    "python_env.yaml": "model_file_python_env",
    "requirements.txt": "model_file_requirements",
    "input_example.json": "model_file_input_example",
    "serving_input_example.json": "model_file_serving_input",
    "registered_model_meta": "model_file_registered_meta",
}


class TrackingError(LocalizedError, RuntimeError):
    """A tracking or registry action that cannot be done (`message(lang)` for the learner, strings/tracking.yaml)."""

    namespace = "tracking"


class RegistryUnavailable(TrackingError):
    """The tracking store did not answer (unreachable server, locked or broken database)."""


@lru_cache(maxsize=16)
def _sqlite_store_ready(uri: str) -> None:
    """Let MLflow create or migrate a SQLite store's tables, one process at a time, once per process.

    MLflow builds and migrates its tables on first use; two processes (two learners' sessions, the app
    and the API) doing it at once on a fresh file fail with "duplicate column name" or an alembic
    revision mismatch. A lock file next to the database serializes that first use.
    """
    from filelock import FileLock
    from mlflow import MlflowClient

    database = Path(uri.split("sqlite:///", 1)[1])
    database.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(database.with_name(database.name + ".lock")):
        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)


def _prepare_store(settings: Settings) -> None:
    """Make a SQLite store usable (its folder, its tables, once per process); a server needs nothing."""
    if settings.mlflow_tracking_uri.startswith("sqlite:"):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        _sqlite_store_ready(settings.mlflow_tracking_uri)


def _mlflow(settings: Settings | None = None):
    """The mlflow module, for the few calls that only exist in its fluent API (`start_run`, `log_model`, ...).

    Those read MLflow's process-wide tracking URI: it is set here only when it is not already the workbench's
    store (once per process in the app; again only when a test switches stores). Nothing else global is
    touched: no `set_experiment` (runs are started with the cached `experiment_id`).
    """
    settings = settings or get_settings()  # first: it turns MLflow's telemetry off before mlflow is imported
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    _prepare_store(settings)
    if mlflow.get_tracking_uri() != settings.mlflow_tracking_uri:
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    return mlflow


@lru_cache(maxsize=16)
def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def client(settings: Settings | None = None):
    """An MlflowClient on the workbench's store (one per store and process; MLflow's global state untouched)."""
    settings = settings or get_settings()
    _prepare_store(settings)
    return _client(settings.mlflow_tracking_uri)


def registry_client(settings: Settings | None = None):
    """An MlflowClient for registry reads only: no experiment is looked up or created (no extra round trips)."""
    return client(settings)


def alias_version(alias: str, settings: Settings | None = None, *, model: str | None = None) -> int | None:
    """The version `alias` of `model` (default: the setting `model_name`) points to, or None when the model or
    the alias does not exist.

    Unlike `resolve_alias`, a store that fails is not mistaken for "no alias".

    Raises:
        RegistryUnavailable: the store did not answer or failed (the message says how).
    """
    from mlflow.exceptions import MlflowException

    settings = settings or get_settings()
    try:
        registered = registry_client(settings).get_registered_model(model or settings.model_name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise RegistryUnavailable("registry_unavailable", reason=str(exc).splitlines()[0][:300]) from exc
    except Exception as exc:  # sqlalchemy OperationalError (locked), connection errors, timeouts...
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        raise RegistryUnavailable("registry_unavailable", reason=reason) from exc
    version = (registered.aliases or {}).get(alias)
    return None if version is None else int(version)


@lru_cache(maxsize=16)
def _experiment_id(uri: str, location: str | None) -> str:
    from mlflow.exceptions import MlflowException

    c = _client(uri)
    experiment = c.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return c.create_experiment(EXPERIMENT, artifact_location=location)
    except MlflowException:  # created meanwhile by another session or process
        return c.get_experiment_by_name(EXPERIMENT).experiment_id


def experiment_id(settings: Settings | None = None) -> str:
    """Id of the course experiment (created on first use, then remembered for this store and process)."""
    settings = settings or get_settings()
    _prepare_store(settings)
    location = (
        (settings.state_dir / "mlartifacts").as_uri() if settings.mlflow_tracking_uri.startswith("sqlite:") else None
    )
    return _experiment_id(settings.mlflow_tracking_uri, location)


def learner_tags(learner: str) -> dict[str, str]:
    """The tags that say whose a run or a model version is: the name as typed, and its exact key (filterable)."""
    return {"learner": learner, LEARNER_TAG: learner_key(learner)}


def owned_model(settings: Settings, learner: str | None, model: str | None = None) -> str:
    """The registered model `learner` may read and move: `settings.learner_model_name(learner)`.

    Solo mode: the one shared model (or the `model` asked for). Class mode: only the learner's own.

    Raises:
        TrackingError: class mode and no learner given, or `model` is another learner's.
    """
    if not settings.class_mode:
        return model or settings.model_name
    if not learner:
        raise TrackingError("learner_required")
    own = settings.learner_model_name(learner)
    if model is not None and model != own:
        raise TrackingError("model_not_yours", model=model, learner=learner)
    return own


def check_run_owner(run, learner: str | None, settings: Settings) -> None:
    """Class mode: refuse a run another learner logged (solo mode: every run of the store is the learner's).

    Raises:
        TrackingError: the run is not `learner`'s.
    """
    if settings.class_mode and (not learner or run.data.tags.get(LEARNER_TAG) != learner_key(learner)):
        raise TrackingError("run_not_yours", run_id=run.info.run_id, learner=learner or "?")


def model_requirements() -> list[str]:
    """Pinned requirements of the logged models, from the installed versions."""
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


def trusted_types_for(pipeline: Any) -> list[str]:
    """The skops types the pipeline needs, checked against TRUSTED_TYPES.

    Raises:
        TrackingError: the pipeline holds a type we do not trust.
    """
    import skops.io as sio

    needed = sio.get_untrusted_types(data=sio.dumps(pipeline))
    unknown = sorted(set(needed) - set(TRUSTED_TYPES))
    if unknown:
        raise TrackingError("untrusted_types", types=", ".join(unknown))
    return sorted(needed)


def model_signature(data: pd.DataFrame):
    """Signature built from the whole table, numbers as doubles (so missing values are allowed)."""
    from mlflow.models import infer_signature

    X, _ = split_features_target(data)
    X = X.astype({c: "float64" for c in NUMERIC_FEATURES})
    return infer_signature(X, pd.Series([0.5], name="probability"))


@dataclass(frozen=True)
class LoggedRun:
    """What `log_training_run` recorded."""

    run_id: str
    run_name: str
    model_uri: str
    metrics: dict[str, float]
    params: dict[str, Any]
    seconds: float


def log_training_run(
    result: TrainResult,
    data: pd.DataFrame,
    learner: str,
    *,
    chapter: str = "05_mlflow",
    run_name: str | None = None,
    data_source: str | None = None,
    test_size: float = 0.2,
    nested: bool = False,
    settings: Settings | None = None,
) -> LoggedRun:
    """Log a trained model as an MLflow run: params, metrics, tags, model, figures and dataset.

    Joins the active run when there is one started by `mlflow run` (MLFLOW_RUN_ID); `nested=True`
    makes it a child of the active run (grid search).
    """
    from mlflow.entities import Metric, Param, RunTag

    from workbench.core.modeling import confusion_matrix_figure, roc_figure

    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    c = client(settings)
    start = time.perf_counter()
    evaluation = result.evaluation
    X, _ = split_features_target(data)
    # Inside `mlflow run` the run exists already, in the experiment the command chose: join it as it is.
    experiment = None if os.environ.get("MLFLOW_RUN_ID") else experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment, run_name=run_name, nested=nested) as run:
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        params = {"model": result.model_name, **result.params, "seed": result.seed, "test_size": test_size}
        metrics = {
            **{k: v for k, v in evaluation.metrics.items() if not math.isnan(v)},
            "baseline_accuracy": evaluation.baseline["accuracy"],
            "baseline_f1": evaluation.baseline["f1"],
            "train_seconds": result.train_seconds,
        }
        tags = {
            **learner_tags(learner),
            "chapter": chapter,
            "model_family": result.model_name,
            "dataset_hash": dataset_hash(data),
            "n_train": str(result.n_train),
            "n_test": str(evaluation.n_test),
        }
        c.log_batch(  # one round trip instead of three
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        info = _log_sklearn_model(mlflow, result, data, X)
        c.set_tag(run_id, MODEL_URI_TAG, info.model_uri)
        for lang in ("fr", "en"):
            c.log_text(
                run_id, confusion_matrix_figure(evaluation, lang).to_json(), f"figures/confusion_matrix_{lang}.json"
            )
            c.log_text(run_id, roc_figure(evaluation, lang).to_json(), f"figures/roc_{lang}.json")
        with warnings.catch_warnings():
            # MLflow warns that a local path could be several kinds of source, and that integer
            # columns cannot hold missing values: both harmless for a dataset record.
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(
                data, source=data_source or str(settings.data_path), name="loan", targets=TARGET
            )
            mlflow.log_input(dataset, context="training")
        name = run.info.run_name
    return LoggedRun(
        run_id=run.info.run_id,
        run_name=name,
        model_uri=info.model_uri,
        metrics=dict(evaluation.metrics),
        params=dict(result.params),
        seconds=time.perf_counter() - start,
    )


def _log_sklearn_model(mlflow, result: TrainResult, data: pd.DataFrame, X: pd.DataFrame):
    return mlflow.sklearn.log_model(
        result.pipeline,
        name="model",
        signature=model_signature(data),
        input_example=X.head(3).astype({c: "float64" for c in NUMERIC_FEATURES}),
        serialization_format="skops",
        skops_trusted_types=trusted_types_for(result.pipeline),
        pip_requirements=model_requirements(),
    )


def train_and_log(
    data: pd.DataFrame,
    model_name: str,
    params: dict | None,
    learner: str,
    *,
    seed: int = 42,
    test_size: float = 0.2,
    run_name: str | None = None,
    nested: bool = False,
    settings: Settings | None = None,
) -> LoggedRun:
    """Train the course pipeline and log it as a run."""
    from workbench.core.modeling import train_model

    result = train_model(data, model_name, params, test_size=test_size, seed=seed)
    run_name = run_name or run_label(model_name, result.params)
    return log_training_run(
        result, data, learner, run_name=run_name, test_size=test_size, nested=nested, settings=settings
    )


def run_label(model_name: str, params: dict) -> str:
    """A readable run name, e.g. `random_forest n_estimators=100 max_depth=6`."""
    return " ".join([model_name, *(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())])


DEFAULT_GRID: dict[str, list[dict]] = {
    "decision_tree": [{"max_depth": 3}, {"max_depth": 6}],
    "logistic_regression": [{"C": 0.1}, {"C": 1.0}],
    "random_forest": [{"n_estimators": 50, "max_depth": 4}, {"n_estimators": 100, "max_depth": 8}],
}


@dataclass
class GridSearchResult:
    """A parent run and its children, with the best child by the chosen metric."""

    parent_run_id: str
    children: list[LoggedRun] = field(default_factory=list)
    metric: str = "f1"

    @property
    def best(self) -> LoggedRun:
        """The child with the highest metric."""
        return max(self.children, key=lambda r: r.metrics[self.metric])


def grid_search(
    data: pd.DataFrame,
    learner: str,
    grid: dict[str, list[dict]] | None = None,
    *,
    metric: str = "f1",
    progress=None,
    settings: Settings | None = None,
) -> GridSearchResult:
    """Train every (model, params) of the grid as child runs of one parent run.

    Args:
        progress: optional callback `progress(done, total, label)` called after each child.
    """
    from mlflow.entities import Metric, RunTag

    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    c = client(settings)
    grid = grid or DEFAULT_GRID
    combos = [(model, params) for model, options in grid.items() for params in options]
    experiment = None if os.environ.get("MLFLOW_RUN_ID") else experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment, run_name=f"grid-search-{learner}") as parent:
        tags = {**learner_tags(learner), "chapter": "05_mlflow", "grid_search": "parent"}
        c.log_batch(parent.info.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        result = GridSearchResult(parent.info.run_id, metric=metric)
        for done, (model, params) in enumerate(combos, start=1):
            label = run_label(model, params)
            child = train_and_log(data, model, params, learner, nested=True, run_name=label, settings=settings)
            result.children.append(child)
            if progress is not None:
                progress(done, len(combos), label)
        best = result.best
        c.log_batch(
            parent.info.run_id,
            metrics=[Metric(f"best_{metric}", float(best.metrics[metric]), int(time.time() * 1000), 0)],
            tags=[RunTag("best_run_id", best.run_id), RunTag("best_model", best.run_name)],
        )
    return result
