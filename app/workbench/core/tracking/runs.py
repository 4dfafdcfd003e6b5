"""Runs: search, compare, detail."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.core.formatting import localize_figure
from workbench.core.settings import Settings, get_settings, learner_key
from workbench.core.tracking.store import (
    LEARNER_TAG,
    MODEL_URI_TAG,
    PREPARED_TAG,
    TrackingError,
    check_run_owner,
    client,
    experiment_id,
)

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
    include_prepared: bool = True,
) -> pd.DataFrame:
    """Runs of the course experiment, newest first, as a flat table (params.*, metrics.*, tags.*).

    Class mode: only `learner`'s runs (by their `workbench.learner` tag), and `learner` is required.
    `include_prepared=False` leaves out the runs the workbench trained for the learner (`PREPARED_TAG`): checks.

    Raises:
        TrackingError: class mode and no learner given.
    """
    settings = settings or get_settings()
    filters = []
    if settings.class_mode:
        if not learner:
            raise TrackingError("learner_required")
        filters.append(equals_filter(f"tags.`{LEARNER_TAG}`", learner_key(learner)))
    elif learner:
        filters.append(equals_filter("tags.learner", learner))
    if model:
        filters.append(equals_filter("tags.model_family", model))
    if min_metric is not None:
        filters.append(f"metrics.{metric} >= {float(min_metric)}")
    if not include_parents:
        filters.append("tags.model_family != ''")
    runs = _runs_frame(
        client(settings).search_runs(
            experiment_ids=[experiment_id(settings)],
            filter_string=" and ".join(filters),
            order_by=["attributes.start_time DESC"],
            max_results=max_results,
        )
    )
    for column, wanted in (("tags.learner", learner), ("tags.model_family", model)):
        if wanted and not runs.empty:  # exact values only (a LIKE filter lets look-alikes through)
            runs = runs[runs[column] == wanted] if column in runs else runs.iloc[0:0]
    if not include_prepared and f"tags.{PREPARED_TAG}" in runs:
        runs = runs[runs[f"tags.{PREPARED_TAG}"] != "true"]
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
    metric_cols = sorted(c for c in runs.columns if c.startswith("metrics."))
    param_cols = sorted(c for c in runs.columns if c.startswith("params."))
    return pd.concat([out, runs[metric_cols], runs[param_cols]], axis=1)


def _runs_frame(runs) -> pd.DataFrame:
    """MLflow runs as one row each: run_id, start_time (UTC), metrics.*, params.*, tags.* (as `mlflow.search_runs`)."""
    rows = [
        {
            "run_id": run.info.run_id,
            "start_time": pd.to_datetime(run.info.start_time, unit="ms", utc=True),
            **{f"metrics.{k}": v for k, v in run.data.metrics.items()},
            **{f"params.{k}": v for k, v in run.data.params.items()},
            **{f"tags.{k}": v for k, v in run.data.tags.items()},
        }
        for run in runs
    ]
    frame = pd.DataFrame(rows)
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")]
    return frame.astype({c: "float64" for c in metric_cols}) if rows else frame


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


def compare_runs(run_ids: list[str], settings: Settings | None = None, *, learner: str | None = None) -> Comparison:
    """Compare runs by id (class mode: `learner`'s runs only).

    Raises:
        TrackingError: fewer than two runs, an id that does not exist, or (class mode) another learner's run.
    """
    if len(run_ids) < 2:
        raise TrackingError("compare_two")
    settings = settings or get_settings()
    c = client(settings)
    rows = []
    for run_id in run_ids:
        try:
            run = c.get_run(run_id)
        except Exception as exc:  # MlflowException(RESOURCE_DOES_NOT_EXIST)
            raise TrackingError("run_not_found", run_id=run_id) from exc
        check_run_owner(run, learner, settings)
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
    shown = [name or run_id[:8] for run_id, name in zip(run_ids, names)]
    counts = pd.Series(shown).value_counts()
    return [f"{name} · {run_id[:8]}" if counts[name] > 1 else name for run_id, name in zip(run_ids, shown)]


def metric_bars_figure(comparison: Comparison, lang: str):
    """Grouped bars: one group per metric, one bar per run."""
    import plotly.graph_objects as go

    from workbench.core.i18n import translate

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
    return {
        "label": name,
        "values": [position[label] for label in labels],
        "tickvals": list(range(len(ticks))),
        "ticktext": ticks,
        "range": [0, max(len(ticks) - 1, 1)],
    }


def parallel_coordinates_figure(comparison: Comparison, lang: str = "fr"):
    """Parallel coordinates: the parameters that differ (the model family too), then the metrics (axes in `lang`)."""
    import plotly.graph_objects as go

    from workbench.core.i18n import translate

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
        scores = comparison.metrics.loc[metric].astype(float)
        if scores.notna().all():
            dims.append({"label": label(f"model.metric_{metric}", metric), "values": scores.tolist(), "range": [0, 1]})
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
    out: list[str] = []
    for item in c.list_artifacts(run_id, path):
        out.extend(_walk_artifacts(c, run_id, item.path) if item.is_dir else [item.path])
    return out


def run_detail(
    run_id: str, lang: str = "fr", settings: Settings | None = None, *, learner: str | None = None
) -> RunDetail:
    """Load a run with its artifacts, its figures in `lang`, and its model's files (class mode: `learner`'s only).

    Raises:
        TrackingError: unknown run, or (class mode) another learner's run.
    """
    from mlflow.artifacts import download_artifacts

    settings = settings or get_settings()
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        raise TrackingError("run_not_found", run_id=run_id) from exc
    check_run_owner(run, learner, settings)
    artifacts = _walk_artifacts(c, run_id)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("confusion_matrix", "roc"):
            path = f"figures/{kind}_{lang}.json"
            if path in artifacts:
                figures[kind] = Path(c.download_artifacts(run_id, path, tmp)).read_text(encoding="utf-8")
    model_uri = run.data.tags.get(MODEL_URI_TAG)
    files: list[tuple[str, int]] = []
    mlmodel = ""
    if model_uri:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(
                download_artifacts(artifact_uri=model_uri, dst_path=tmp, tracking_uri=settings.mlflow_tracking_uri)
            )
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
