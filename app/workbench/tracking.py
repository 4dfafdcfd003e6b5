"""MLflow tracking and model registry on the workbench's store (chapter V).

The store is `settings.mlflow_tracking_uri`: by default SQLite under `.workbench/` (MLflow 3 refuses a
plain `./mlruns` folder), with artifacts next to it; `MLFLOW_TRACKING_URI` points a class at a shared
`mlflow server`. mlflow is imported inside the functions, so importing this module is cheap.

Registry: versions of one registered model (setting `model_name`, default `loan-approval`), moved
between aliases (`staging`, `production`, `challenger`) — aliases replaced the deprecated stages.
Every promotion is appended to the registered model's `workbench.production_history` tag, so a
rollback knows where to go back and the exercises can check what a learner did.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.data import FEATURES, NUMERIC_FEATURES, TARGET, dataset_hash, split_features_target
from workbench.formatting import localize_figure
from workbench.i18n import LocalizedError
from workbench.safe_models import TRUSTED_TYPES
from workbench.settings import Settings, get_settings

if TYPE_CHECKING:
    from workbench.modeling import TrainResult

EXPERIMENT = "loan-approval"
ALIASES: tuple[str, ...] = ("staging", "production", "challenger")
#: Before: the whole history as one JSON tag (read-modify-write: concurrent moves lost entries). Still read.
HISTORY_TAG = "workbench.production_history"
#: Now: one tag per move, `workbench.production_history.<nanoseconds>.<random>`, written once, never rewritten.
HISTORY_ENTRY_PREFIX = HISTORY_TAG + "."
HISTORY_KEEP = 100
MODEL_URI_TAG = "workbench.model_uri"
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


def _mlflow(settings: Settings | None = None):
    """The mlflow module, pointed at the workbench's store, with the course experiment selected.

    Inside `mlflow run` (which exports MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID and MLFLOW_TRACKING_URI) the run
    already exists, in the experiment the command chose (`--experiment-name`, else Default): selecting the
    course experiment would make `start_run` refuse it, so the experiment is left as `mlflow run` set it.
    """
    settings = settings or get_settings()  # first: it turns MLflow's telemetry off before mlflow is imported
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    if os.environ.get("MLFLOW_RUN_ID"):
        return mlflow
    if settings.mlflow_tracking_uri.startswith("sqlite:"):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        _sqlite_store_ready(settings.mlflow_tracking_uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        location = None
        if settings.mlflow_tracking_uri.startswith("sqlite:"):
            location = (settings.state_dir / "mlartifacts").as_uri()
        try:
            mlflow.create_experiment(EXPERIMENT, artifact_location=location)
        except mlflow.exceptions.MlflowException:
            pass  # created meanwhile by another session or process
    mlflow.set_experiment(EXPERIMENT)
    return mlflow


def client(settings: Settings | None = None):
    """An MlflowClient on the workbench's store."""
    from mlflow import MlflowClient

    settings = settings or get_settings()
    _mlflow(settings)
    return MlflowClient(tracking_uri=settings.mlflow_tracking_uri)


def registry_client(settings: Settings | None = None):
    """An MlflowClient for registry reads only: no experiment is looked up or created (no extra round trips)."""
    from mlflow import MlflowClient

    settings = settings or get_settings()
    if settings.mlflow_tracking_uri.startswith("sqlite:"):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        _sqlite_store_ready(settings.mlflow_tracking_uri)
    return MlflowClient(tracking_uri=settings.mlflow_tracking_uri)


def alias_version(alias: str, settings: Settings | None = None) -> int | None:
    """The version `alias` points to, or None when the model or the alias does not exist.

    Unlike `resolve_alias`, a store that fails is not mistaken for "no alias".

    Raises:
        RegistryUnavailable: the store did not answer or failed (the message says how).
    """
    from mlflow.exceptions import MlflowException

    settings = settings or get_settings()
    try:
        model = registry_client(settings).get_registered_model(settings.model_name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise RegistryUnavailable("registry_unavailable", reason=str(exc).splitlines()[0][:300]) from exc
    except Exception as exc:  # sqlalchemy OperationalError (locked), connection errors, timeouts...
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        raise RegistryUnavailable("registry_unavailable", reason=reason) from exc
    version = (model.aliases or {}).get(alias)
    return None if version is None else int(version)


def experiment_id(settings: Settings | None = None) -> str:
    """Id of the course experiment (created on first use)."""
    return _mlflow(settings).get_experiment_by_name(EXPERIMENT).experiment_id


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
    from workbench.modeling import confusion_matrix_figure, roc_figure

    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    start = time.perf_counter()
    evaluation = result.evaluation
    X, _ = split_features_target(data)
    with mlflow.start_run(run_name=run_name, nested=nested) as run:
        mlflow.log_params({"model": result.model_name, **result.params, "seed": result.seed, "test_size": test_size})
        mlflow.log_metrics(
            {
                **{k: v for k, v in evaluation.metrics.items() if not math.isnan(v)},
                "baseline_accuracy": evaluation.baseline["accuracy"],
                "baseline_f1": evaluation.baseline["f1"],
                "train_seconds": result.train_seconds,
            }
        )
        mlflow.set_tags(
            {
                "learner": learner,
                "chapter": chapter,
                "model_family": result.model_name,
                "dataset_hash": dataset_hash(data),
                "n_train": str(result.n_train),
                "n_test": str(evaluation.n_test),
            }
        )
        info = _log_sklearn_model(mlflow, result, data, X)
        mlflow.set_tag(MODEL_URI_TAG, info.model_uri)
        for lang in ("fr", "en"):
            mlflow.log_text(
                confusion_matrix_figure(evaluation, lang).to_json(), f"figures/confusion_matrix_{lang}.json"
            )
            mlflow.log_text(roc_figure(evaluation, lang).to_json(), f"figures/roc_{lang}.json")
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
    from workbench.modeling import train_model

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
    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    grid = grid or DEFAULT_GRID
    combos = [(model, params) for model, options in grid.items() for params in options]
    with mlflow.start_run(run_name=f"grid-search-{learner}") as parent:
        mlflow.set_tags({"learner": learner, "chapter": "05_mlflow", "grid_search": "parent"})
        result = GridSearchResult(parent.info.run_id, metric=metric)
        for done, (model, params) in enumerate(combos, start=1):
            label = run_label(model, params)
            child = train_and_log(data, model, params, learner, nested=True, run_name=label, settings=settings)
            result.children.append(child)
            if progress is not None:
                progress(done, len(combos), label)
        best = result.best
        mlflow.log_metric(f"best_{metric}", best.metrics[metric])
        mlflow.set_tags({"best_run_id": best.run_id, "best_model": best.run_name})
    return result


# --------------------------------------------------------------------------------------------
# Runs: search, compare, detail
# --------------------------------------------------------------------------------------------

RUN_COLUMNS = ("run_id", "run_name", "start_time", "learner", "model", "parent_run_id")


def search_runs(
    learner: str | None = None,
    model: str | None = None,
    metric: str = "f1",
    min_metric: float | None = None,
    include_parents: bool = False,
    max_results: int = 1000,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Runs of the course experiment, newest first, as a flat table (params.*, metrics.*, tags.*)."""
    mlflow = _mlflow(settings)
    filters = []
    if learner:
        filters.append(equals_filter("tags.learner", learner))
    if model:
        filters.append(equals_filter("tags.model_family", model))
    if min_metric is not None:
        filters.append(f"metrics.{metric} >= {float(min_metric)}")
    if not include_parents:
        filters.append("tags.model_family != ''")
    runs = mlflow.search_runs(
        experiment_ids=[experiment_id(settings)],
        filter_string=" and ".join(filters),
        order_by=["attributes.start_time DESC"],
        max_results=max_results,
    )
    for column, wanted in (("tags.learner", learner), ("tags.model_family", model)):
        if wanted and not runs.empty:  # exact values only (a LIKE filter lets look-alikes through)
            runs = runs[runs[column] == wanted] if column in runs else runs.iloc[0:0]
    if runs.empty:
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    out = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "run_name": runs.get("tags.mlflow.runName"),
            "start_time": runs["start_time"],
            "learner": runs.get("tags.learner"),
            "model": runs.get("tags.model_family"),
            "parent_run_id": runs.get("tags.mlflow.parentRunId"),
        }
    )
    metric_cols = [c for c in runs.columns if c.startswith("metrics.")]
    param_cols = [c for c in runs.columns if c.startswith("params.")]
    return pd.concat([out, runs[metric_cols], runs[param_cols]], axis=1)


def filter_runs(
    runs: pd.DataFrame,
    learner: str | None = None,
    model: str | None = None,
    metric: str = "f1",
    min_metric: float | None = None,
) -> pd.DataFrame:
    """The rows of a `search_runs()` table that `search_runs(learner, model, metric, min_metric)` returns.

    A page that shows several views of the runs searches the store once and filters here.
    """
    keep = pd.Series(True, index=runs.index)
    if learner:
        keep &= runs["learner"] == learner
    if model:
        keep &= runs["model"] == model
    if min_metric is not None:
        column = f"metrics.{metric}"
        if column not in runs:
            return runs.iloc[0:0]
        keep &= runs[column] >= float(min_metric)
    return runs[keep]


def equals_filter(identifier: str, value: str) -> str:
    """A search-filter clause that finds every run (or version) whose `identifier` is `value`, whatever it holds.

    MLflow's filter grammar strips the quotes around a value and unescapes nothing: `'O\\'Brien'` searches for
    `O\\'Brien`, and a backslash before the closing quote can swallow the rest of the filter. So the value goes
    between the quotes it does not contain (`"O'Brien"`); a value with both kinds of quotes or a backslash is
    matched with LIKE, `_` (any one character) standing for each of them and for `%` and `_`: the callers then
    keep the exact matches only.
    """
    if "\\" not in value:
        for quote in ("'", '"'):
            if quote not in value:
                return f"{identifier} = {quote}{value}{quote}"
    pattern = re.sub(r"""['"\\%_]""", "_", value)
    return f"{identifier} LIKE '{pattern}'"


@dataclass
class Comparison:
    """Runs side by side: parameters (with those that differ), metrics, figures."""

    runs: pd.DataFrame
    params: pd.DataFrame  # rows = parameter, columns = run names
    differing_params: list[str]
    metrics: pd.DataFrame  # rows = metric, columns = run names


COMPARE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def compare_runs(run_ids: list[str], settings: Settings | None = None) -> Comparison:
    """Compare runs by id.

    Raises:
        TrackingError: fewer than two runs, or an id that does not exist.
    """
    if len(run_ids) < 2:
        raise TrackingError("compare_two")
    c = client(settings)
    rows = []
    for run_id in run_ids:
        try:
            run = c.get_run(run_id)
        except Exception as exc:  # MlflowException(RESOURCE_DOES_NOT_EXIST)
            raise TrackingError("run_not_found", run_id=run_id) from exc
        rows.append(run)
    names = run_labels(run_ids, [r.info.run_name for r in rows])
    params = pd.DataFrame({n: r.data.params for n, r in zip(names, rows)}).sort_index()
    differing = [p for p in params.index if params.loc[p].astype(str).nunique(dropna=False) > 1]
    metrics = pd.DataFrame({n: {m: r.data.metrics.get(m) for m in COMPARE_METRICS} for n, r in zip(names, rows)})
    runs = pd.DataFrame({"run_id": run_ids, "run_name": names})
    return Comparison(runs=runs, params=params, differing_params=differing, metrics=metrics)


def run_labels(run_ids: list[str], names: list[str | None]) -> list[str]:
    """How runs are named on the page: their run name, followed by their short id when another run has the same
    name (training the same model twice gives two `logistic_regression C=1`), or the short id when nameless."""
    names = [name or run_id[:8] for run_id, name in zip(run_ids, names)]
    counts = pd.Series(names).value_counts()
    return [f"{name} · {run_id[:8]}" if counts[name] > 1 else name for run_id, name in zip(run_ids, names)]


def metric_bars_figure(comparison: Comparison, lang: str):
    """Grouped bars: one group per metric, one bar per run."""
    import plotly.graph_objects as go

    from workbench.i18n import translate

    fig = go.Figure()
    for run_name in comparison.metrics.columns:
        fig.add_trace(
            go.Bar(
                name=run_name,
                x=[translate(f"model.metric_{m}", lang) for m in comparison.metrics.index],
                y=comparison.metrics[run_name],
            )
        )
    fig.update_layout(barmode="group", height=360, yaxis_range=[0, 1], margin={"t": 20, "b": 10})
    return localize_figure(fig, lang)


#: Tick of a parameter the run's model does not have (a tree has no `C`, a logistic regression no `max_depth`).
NOT_APPLICABLE = "—"


def _parameter_axis(name: str, values: pd.Series) -> dict:
    """A parallel-coordinates axis: numeric when every run has a number, else one tick per value.

    Runs of different model families do not share parameters: each value gets a tick, numbers in
    order, and the runs without the parameter sit on a "—" tick at the bottom instead of losing the axis.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return {"label": name, "values": numbers.tolist()}
    labels = [NOT_APPLICABLE if pd.isna(v) or str(v) == "" else str(v) for v in values]

    def order(label: str) -> tuple:
        number = pd.to_numeric(label, errors="coerce")
        return (0, float(number), "") if pd.notna(number) else (1, 0.0, label)

    ticks = ([NOT_APPLICABLE] if NOT_APPLICABLE in labels else []) + sorted(set(labels) - {NOT_APPLICABLE}, key=order)
    position = {tick: i for i, tick in enumerate(ticks)}
    return {"label": name, "values": [position[label] for label in labels], "tickvals": list(range(len(ticks))),
            "ticktext": ticks, "range": [0, max(len(ticks) - 1, 1)]}  # fmt: skip


def parallel_coordinates_figure(comparison: Comparison, lang: str = "fr"):
    """Parallel coordinates: the parameters that differ (the model family too), then the metrics (axes in `lang`)."""
    import plotly.graph_objects as go

    from workbench.i18n import translate

    def label(key: str, name: str) -> str:
        text = translate(key, lang)
        return name if text == key else text

    def values(param: str) -> pd.Series:
        row = comparison.params.loc[param]
        return row.map(lambda v: label(f"model.name_{v}", v) if isinstance(v, str) else v) if param == "model" else row

    dims = [
        _parameter_axis(label(f"model.param_{param}", param), values(param)) for param in comparison.differing_params
    ]
    for metric in comparison.metrics.index:
        values = comparison.metrics.loc[metric].astype(float)
        if values.notna().all():
            dims.append({"label": label(f"model.metric_{metric}", metric), "values": values.tolist(), "range": [0, 1]})
    f1 = comparison.metrics.loc["f1"].astype(float).fillna(0).tolist()
    fig = go.Figure(go.Parcoords(line={"color": f1, "colorscale": "Viridis", "showscale": True}, dimensions=dims))
    fig.update_layout(height=380, margin={"l": 60, "r": 60, "t": 40, "b": 20})
    return localize_figure(fig, lang)


@dataclass
class RunDetail:
    """Everything about one run: data, artifacts, figures and the logged model's folder."""

    run_id: str
    run_name: str
    status: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: list[str]
    figures: dict[str, str]  # name → plotly JSON
    model_uri: str | None
    model_files: list[tuple[str, int]]  # (file name, size in bytes)
    mlmodel: str
    inputs: list[str]


def _walk_artifacts(c, run_id: str, path: str | None = None) -> list[str]:
    out = []
    for item in c.list_artifacts(run_id, path):
        out.extend(_walk_artifacts(c, run_id, item.path) if item.is_dir else [item.path])
    return out


def run_detail(run_id: str, lang: str = "fr", settings: Settings | None = None) -> RunDetail:
    """Load a run with its artifacts, its figures in `lang`, and its model's files.

    Raises:
        TrackingError: unknown run.
    """
    mlflow = _mlflow(settings)
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        raise TrackingError("run_not_found", run_id=run_id) from exc
    artifacts = _walk_artifacts(c, run_id)
    figures = {}
    for kind in ("confusion_matrix", "roc"):
        path = f"figures/{kind}_{lang}.json"
        if path in artifacts:
            figures[kind] = mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")
    model_uri = run.data.tags.get(MODEL_URI_TAG)
    files: list[tuple[str, int]] = []
    mlmodel = ""
    if model_uri:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=tmp))
            files = sorted((p.name, p.stat().st_size) for p in local.iterdir() if p.is_file())
            if (local / "MLmodel").exists():
                mlmodel = (local / "MLmodel").read_text()
    inputs = [f"{d.dataset.name} ({d.dataset.digest})" for d in (run.inputs.dataset_inputs if run.inputs else [])]
    return RunDetail(
        run_id=run_id,
        run_name=run.info.run_name,
        status=run.info.status,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.log-model")},
        artifacts=artifacts,
        figures=figures,
        model_uri=model_uri,
        model_files=files,
        mlmodel=mlmodel,
        inputs=inputs,
    )


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version with what the page needs to show."""

    version: int
    run_id: str
    aliases: tuple[str, ...]
    description: str
    tags: dict[str, str]
    created: float
    metrics: dict[str, float]


def register_run_model(
    run_id: str, learner: str, description: str = "", settings: Settings | None = None
) -> VersionInfo:
    """Register the model a run logged as a new version of the course's registered model.

    Raises:
        TrackingError: the run has no model.
    """
    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        raise TrackingError("run_not_found", run_id=run_id) from exc
    model_uri = run.data.tags.get(MODEL_URI_TAG)
    if not model_uri:
        raise TrackingError("no_logged_model", run_id=run_id)
    version = mlflow.register_model(model_uri, settings.model_name, tags={"learner": learner, "run_id": run_id})
    if description:
        c.update_model_version(settings.model_name, version.version, description=description)
    return get_version(int(version.version), settings)


def _version_info(c, mv, alias_map: dict[str, int] | None = None) -> VersionInfo:
    if alias_map is not None:  # search results do not carry aliases; the registered model does
        version_aliases = tuple(sorted(a for a, v in alias_map.items() if v == int(mv.version)))
    else:
        version_aliases = tuple(sorted(mv.aliases or ()))
    try:
        metrics = c.get_run(mv.run_id).data.metrics if mv.run_id else {}
    except Exception:  # the run was deleted: the version stays usable
        metrics = {}
    return VersionInfo(
        version=int(mv.version),
        run_id=mv.run_id or "",
        aliases=version_aliases,
        description=mv.description or "",
        tags=dict(mv.tags or {}),
        created=mv.creation_timestamp / 1000,
        metrics=dict(metrics),
    )


def get_version(version: int, settings: Settings | None = None) -> VersionInfo:
    """One version of the registered model."""
    settings = settings or get_settings()
    c = client(settings)
    return _version_info(c, c.get_model_version(settings.model_name, str(version)))


def list_versions(settings: Settings | None = None) -> list[VersionInfo]:
    """Every version of the registered model, newest first (empty if nothing is registered yet)."""
    settings = settings or get_settings()
    c = client(settings)
    versions = [
        mv for mv in c.search_model_versions(equals_filter("name", settings.model_name)) if mv.name == settings.model_name
    ]
    alias_map = aliases(settings)
    return sorted((_version_info(c, mv, alias_map) for mv in versions), key=lambda v: -v.version)


def aliases(settings: Settings | None = None) -> dict[str, int]:
    """Alias → version of the registered model (empty if not registered)."""
    settings = settings or get_settings()
    c = client(settings)
    try:
        model = c.get_registered_model(settings.model_name)
    except Exception:
        return {}
    return {alias: int(version) for alias, version in (model.aliases or {}).items()}


def resolve_alias(alias: str, settings: Settings | None = None) -> int | None:
    """The version an alias points to, or None."""
    return aliases(settings).get(alias)


def production_history(settings: Settings | None = None) -> list[dict]:
    """Every move of `production` done through the workbench, oldest first."""
    settings = settings or get_settings()
    c = client(settings)
    try:
        tags = c.get_registered_model(settings.model_name).tags or {}
    except Exception:
        return []
    history = []
    for key in [HISTORY_TAG, *sorted(k for k in tags if k.startswith(HISTORY_ENTRY_PREFIX))]:
        try:
            value = json.loads(tags.get(key, "[]"))
        except json.JSONDecodeError:
            continue
        history += value if isinstance(value, list) else [value]
    return [h for h in history if isinstance(h, dict)]


def _append_history(c, settings: Settings, entry: dict) -> None:
    """Record one move as its own tag: moves made at once by several processes all stay recorded."""
    import secrets

    key = f"{HISTORY_ENTRY_PREFIX}{time.time_ns():020d}.{secrets.token_hex(4)}"
    c.set_registered_model_tag(settings.model_name, key, json.dumps(entry))
    tags = c.get_registered_model(settings.model_name).tags or {}
    entries = sorted(k for k in tags if k.startswith(HISTORY_ENTRY_PREFIX))
    for old in entries[: max(0, len(entries) - HISTORY_KEEP)]:
        try:
            c.delete_registered_model_tag(settings.model_name, old)
        except Exception as exc:  # deleted meanwhile by another process pruning too
            logging.getLogger("workbench.tracking").info("history tag %s already pruned: %s", old, exc)


def set_alias(alias: str, version: int, learner: str, settings: Settings | None = None) -> None:
    """Point `alias` at `version` (moving it if it pointed elsewhere).

    Raises:
        TrackingError: unknown alias name or version.
    """
    settings = settings or get_settings()
    if alias not in ALIASES:
        raise TrackingError("unknown_alias", alias=alias, aliases=", ".join(ALIASES))
    c = client(settings)
    known = {v.version for v in list_versions(settings)}
    if version not in known:
        raise TrackingError("no_such_version", version=version)
    previous = resolve_alias(alias, settings)
    c.set_registered_model_alias(settings.model_name, alias, str(version))
    if alias == "production":
        _append_history(
            c, settings,
            {"action": "promote", "version": version, "previous": previous, "learner": learner, "at": time.time()},
        )  # fmt: skip


def delete_alias(alias: str, learner: str, settings: Settings | None = None) -> None:
    """Remove an alias (the version itself stays)."""
    settings = settings or get_settings()
    c = client(settings)
    previous = resolve_alias(alias, settings)
    if previous is None:
        return
    c.delete_registered_model_alias(settings.model_name, alias)
    if alias == "production":
        _append_history(
            c, settings,
            {"action": "remove", "version": None, "previous": previous, "learner": learner, "at": time.time()},
        )  # fmt: skip


def promote_staging(learner: str, settings: Settings | None = None) -> int:
    """Move `production` to the version `staging` points to. Returns that version.

    Raises:
        TrackingError: no version has the `staging` alias.
    """
    version = resolve_alias("staging", settings)
    if version is None:
        raise TrackingError("no_staging")
    set_alias("production", version, learner, settings)
    return version


def rollback_production(learner: str, settings: Settings | None = None) -> int:
    """Point `production` back at the version it pointed to before its last move. Returns it.

    Raises:
        TrackingError: there is no earlier production version to go back to.
    """
    settings = settings or get_settings()
    current = resolve_alias("production", settings)
    history = [h for h in production_history(settings) if h.get("action") in ("promote", "rollback")]
    target = None
    for entry in reversed(history):
        if entry["version"] == current and entry.get("previous") not in (None, current):
            target = entry["previous"]
            break
    if target is None:
        raise TrackingError("no_rollback")
    c = client(settings)
    c.set_registered_model_alias(settings.model_name, "production", str(target))
    # The new entry's "previous" is the version that was current before *its* promotion, so a second
    # rollback keeps walking back in time rather than bouncing between two versions.
    earlier = next((h.get("previous") for h in reversed(history) if h["version"] == target), None)
    _append_history(
        c, settings,
        {"action": "rollback", "version": target, "previous": earlier, "from": current, "learner": learner,
         "at": time.time()},
    )  # fmt: skip
    return target


def set_description(version: int, description: str, settings: Settings | None = None) -> None:
    """Change a version's description."""
    settings = settings or get_settings()
    client(settings).update_model_version(settings.model_name, str(version), description=description)


def set_version_tag(version: int, key: str, value: str, settings: Settings | None = None) -> None:
    """Set a tag on a version."""
    settings = settings or get_settings()
    client(settings).set_model_version_tag(settings.model_name, str(version), key, value)


def load_model(alias: str = "production", settings: Settings | None = None):
    """Load `models:/<name>@<alias>` as a scikit-learn pipeline, safely (skops, our trusted types).

    Raises:
        TrackingError: the alias points nowhere.
        workbench.safe_models.ModelRefused: the model could run code when loaded (pickle...): refused.
    """
    from workbench import safe_models

    settings = settings or get_settings()
    version = resolve_alias(alias, settings)
    if version is None:
        raise TrackingError("alias_nowhere", alias=alias)
    return safe_models.load_model_uri(f"models:/{settings.model_name}/{version}", settings)


def predict_with_alias(rows: pd.DataFrame, alias: str = "production", settings: Settings | None = None) -> pd.DataFrame:
    """Predictions of the model behind an alias for a loan table."""
    from workbench.modeling import predict_frame

    return predict_frame(load_model(alias, settings), rows[list(FEATURES)])


# --------------------------------------------------------------------------------------------
# Learner records and hands-on checks (chapter V)
# --------------------------------------------------------------------------------------------


def comparisons_path(settings: Settings, learner: str) -> Path:
    """Where the runs a learner compared on the page are recorded."""
    return settings.learner_dir(learner) / "comparisons.json"


def record_comparison(settings: Settings, learner: str, run_ids: list[str]) -> None:
    """Remember that the learner compared these runs (for the exercise check)."""
    from workbench.learner_files import read_json, write_json

    path = comparisons_path(settings, learner)
    records = read_json(path, [])
    records = [*(records if isinstance(records, list) else []), {"run_ids": list(run_ids), "at": time.time()}][-50:]
    write_json(path, records)


def _check(ok: bool, ctx, key: str, **values) -> Any:
    from workbench.exercises import CheckResult
    from workbench.i18n import translate

    text = translate(f"mlflow.{key}", ctx.lang, **values)
    return CheckResult(True, detail=text, evidence=values) if ok else CheckResult(False, (text,), evidence=values)


BEST_TAG = "best"  # the run a learner marks as their best attempt (hands-on exercise of chapter V)
_NOT_SETTINGS = ("params.seed", "params.test_size")


def best_runs(learner: str, settings: Settings | None = None) -> list[str]:
    """The learner's runs tagged `best = true` (normally one)."""
    mlflow = _mlflow(settings)
    runs = mlflow.search_runs(
        experiment_ids=[experiment_id(settings)],
        filter_string=f"{equals_filter('tags.learner', learner)} and tags.{BEST_TAG} = 'true'",
    )
    if runs.empty:
        return []
    return list(runs.loc[runs["tags.learner"] == learner, "run_id"])  # exact names only (LIKE lets look-alikes in)


def mark_best_run(run_id: str, learner: str, settings: Settings | None = None) -> None:
    """Tag one of the learner's runs `best = true`, and none of their other runs (`MlflowClient.set_tag`).

    Raises:
        TrackingError: the run does not exist or belongs to someone else.
    """
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:  # MlflowException: unknown run
        raise TrackingError("run_not_found", run_id=run_id) from exc
    if run.data.tags.get("learner") != learner:
        raise TrackingError("run_not_yours", run_id=run_id, learner=learner)
    for other in best_runs(learner, settings):
        if other != run_id:
            c.delete_tag(other, BEST_TAG)
    c.set_tag(run_id, BEST_TAG, "true")


def check_run_with_f1(ctx, min_runs: int = 4):
    """Passed when the learner logged at least `min_runs` runs with different settings and tagged the one with
    the best test F1 among them (ties allowed): tracking is for finding the best attempt, not only keeping it."""
    runs = search_runs(learner=ctx.learner, settings=ctx.settings)
    if runs.empty:
        return _check(False, ctx, "check_no_runs")
    settings_cols = [c for c in runs.columns if c.startswith("params.") and c not in _NOT_SETTINGS]
    tried = len(runs[settings_cols].astype(str).drop_duplicates()) if settings_cols else len(runs)
    if tried < min_runs:
        return _check(False, ctx, "check_f1_more_runs", n=tried, need=min_runs)
    tagged = [r for r in best_runs(ctx.learner, ctx.settings) if r in set(runs["run_id"])]
    if not tagged:
        return _check(False, ctx, "check_f1_untagged", n=tried)
    f1 = runs.set_index("run_id")["metrics.f1"]
    mine, best = float(f1[tagged[0]]), float(f1.max())
    name = str(runs.set_index("run_id").loc[tagged[0], "run_name"])
    if mine < best - 1e-9:
        return _check(False, ctx, "check_f1_not_best", name=name, f1=mine, n=tried)
    return _check(True, ctx, "check_f1_ok", name=name, f1=mine, n=tried)


def check_compared_runs(ctx, min_runs: int = 3):
    """Passed when the learner compared at least `min_runs` existing runs at once on the page."""
    from workbench.learner_files import read_json

    records = read_json(comparisons_path(ctx.settings, ctx.learner), [])
    records = records if isinstance(records, list) else []
    existing = set(search_runs(settings=ctx.settings)["run_id"])
    best = max((len(set(r["run_ids"]) & existing) for r in records), default=0)
    if best >= min_runs:
        return _check(True, ctx, "check_compared_ok", n=best)
    return _check(False, ctx, "check_compared_missing", n=best, need=min_runs)


def check_production_alias(ctx):
    """Passed when the learner registered a version and pointed `production` at one of theirs."""
    versions = {v.version: v for v in list_versions(ctx.settings)}
    mine = {n for n, v in versions.items() if v.tags.get("learner") == ctx.learner}
    if not mine:
        return _check(False, ctx, "check_not_registered")
    promoted = [
        h for h in production_history(ctx.settings)
        if h.get("learner") == ctx.learner and h.get("action") == "promote" and h.get("version") in mine
    ]  # fmt: skip
    if not promoted:
        return _check(False, ctx, "check_not_promoted", versions=", ".join(map(str, sorted(mine))))
    return _check(True, ctx, "check_promoted_ok", version=promoted[-1]["version"])


def check_rolled_back(ctx):
    """Passed when the learner rolled `production` back to an earlier version."""
    rollbacks = [
        h for h in production_history(ctx.settings) if h.get("learner") == ctx.learner and h.get("action") == "rollback"
    ]
    if not rollbacks:
        return _check(False, ctx, "check_no_rollback")
    last = rollbacks[-1]
    return _check(True, ctx, "check_rollback_ok", version=last["version"], previous=last.get("from"))
