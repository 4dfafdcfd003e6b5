"""Compile a fitted scikit-learn pipeline into plain NumPy, so one prediction costs microseconds.

`Pipeline.predict_proba` on a one-row DataFrame costs milliseconds, almost all of it per-call overhead
(input validation, pandas, one Python call per step), not arithmetic. A fitted pipeline is only known
numbers — imputer statistics, encoder categories, scaler means, model coefficients, tree nodes — so it can
be turned into a few array operations:

- `Pipeline`, `ColumnTransformer` (any nesting, `remainder`, columns by name, index, slice or mask),
  `SimpleImputer` (with `add_indicator`), `OneHotEncoder` and `OrdinalEncoder` (every `handle_unknown`,
  `drop`, infrequent categories: the encoder itself is asked, once, what it outputs for each category, for
  a missing value and for an unknown one), `StandardScaler`, `MinMaxScaler`, `RobustScaler`,
  `MaxAbsScaler`, feature selectors, an identity `FunctionTransformer`, "passthrough";
- linear models (`LogisticRegression`, `SGDClassifier`, `RidgeClassifier`): a dot product;
- trees and tree ensembles (`DecisionTree`, `RandomForest`, `ExtraTrees`, `GradientBoosting`,
  `HistGradientBoosting` with its native missing values and categorical splits): every fitted tree's nodes
  are stacked into one set of arrays and all trees are walked together, one NumPy step per tree level (no
  Python loop over trees).

Anything else raises `NotCompilable` naming the step (path in the pipeline and class), and the API serves
that model through micro-batching instead. A compiled model never changes an answer: `verify` compares it
with the pipeline's own `predict_proba` and the API only uses it when they agree to 1e-9.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from workbench.api.compiled_models import NotCompilable, _compile_model, _Identity, _name

#: Largest difference allowed between the compiled model and the pipeline (absolute, on probabilities).
TOLERANCE = 1e-9
_UNKNOWN_TEXT = "\x00workbench-unknown-category\x00"


@dataclass(frozen=True)
class Spec:
    """What a step receives, known when compiling: column names when the data is still a DataFrame (as
    scikit-learn would see it) and which columns hold numbers. Column choices are resolved once, here."""

    names: tuple[str, ...] | None
    numeric: tuple[bool, ...]


#: Data between two steps at run time: the values (float64, or object when text is in them) and, when
#: known, the same values as float64.
Data = tuple[np.ndarray, np.ndarray | None]
Step = Callable[[Data], Data]


def _floats(data: Data) -> np.ndarray:
    """The values as float64 (what scikit-learn's input validation does; raises on text)."""
    values, floats = data
    if floats is not None:
        return floats
    return values if values.dtype == np.float64 else values.astype(np.float64)


def _out(values: np.ndarray) -> Data:
    """A step's output array."""
    if values.dtype == object:
        return values, None
    if values.dtype != np.float64:
        values = values.astype(np.float64)
    return values, values


def _numbers(width: int) -> Spec:
    return Spec(None, (True,) * width)


def _selector(spec: Spec, indices: Sequence[int]) -> tuple[Step, Spec]:
    """Some columns, by position; float64 when all of them are numbers (as pandas would give)."""
    idx = np.asarray(list(indices), dtype=np.intp)
    numeric = tuple(spec.numeric[i] for i in idx)
    names = None if spec.names is None else tuple(spec.names[i] for i in idx)
    if all(numeric):

        def numbers(data: Data) -> Data:
            values, floats = data
            sub = floats[:, idx] if floats is not None else values[:, idx].astype(np.float64)
            return sub, sub

        return numbers, Spec(names, numeric)
    return (lambda data: (data[0][:, idx], None)), Spec(names, numeric)


def _missing(values: np.ndarray, missing_value: Any = np.nan) -> np.ndarray:
    """Where the values are missing (NaN by default, like scikit-learn's `_get_mask`)."""
    if isinstance(missing_value, float) and math.isnan(missing_value):
        if values.dtype == object:
            return values != values  # noqa: PLR0124 - NaN is the only value not equal to itself
        return np.isnan(values)
    return values == missing_value


# --------------------------------------------------------------------------------------------------
# Transformers
# --------------------------------------------------------------------------------------------------


def _compile_transformer(est: Any, path: str, spec: Spec) -> tuple[Step, Spec]:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import SelectorMixin
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    width = len(spec.numeric)
    if est is None or (isinstance(est, str) and est == "passthrough"):
        return (lambda data: data), spec
    if isinstance(est, Pipeline):
        return _chain(est.steps, path, spec)
    if isinstance(est, ColumnTransformer):
        return _column_transformer(est, path, spec)
    if isinstance(est, SimpleImputer):
        return _simple_imputer(est, spec)
    if isinstance(est, OneHotEncoder | OrdinalEncoder):
        return _encoder(est, path)
    if isinstance(est, StandardScaler):
        mean = np.zeros(width) if est.mean_ is None or not est.with_mean else np.asarray(est.mean_, dtype=float)
        scale = np.ones(width) if est.scale_ is None else np.asarray(est.scale_, dtype=float)
        return _affine(lambda x: (x - mean) / scale, width)
    if isinstance(est, RobustScaler):
        center = None if est.center_ is None else np.asarray(est.center_, dtype=float)
        scale = None if est.scale_ is None else np.asarray(est.scale_, dtype=float)

        def robust(x: np.ndarray) -> np.ndarray:
            x = x - center if center is not None else x
            return x / scale if scale is not None else x

        return _affine(robust, width)
    if isinstance(est, MinMaxScaler):
        scale, minimum, low, high = est.scale_, est.min_, *est.feature_range

        def min_max(x: np.ndarray) -> np.ndarray:
            out = x * scale + minimum
            return np.clip(out, low, high) if est.clip else out

        return _affine(min_max, width)
    if isinstance(est, MaxAbsScaler):
        scale = np.asarray(est.scale_, dtype=float)
        return _affine(lambda x: x / scale, width)
    if isinstance(est, FunctionTransformer):
        if est.func is None:
            return (lambda data: data), (spec if not est.validate else Spec(None, spec.numeric))
        raise NotCompilable(f"{path} ({_name(est)})", f"runs the function {getattr(est.func, '__name__', est.func)!r}")
    if isinstance(est, SelectorMixin):
        step, out = _selector(spec, np.flatnonzero(est.get_support()))
        return step, Spec(None, out.numeric)
    raise NotCompilable(f"{path} ({_name(est)})", "this transformer is not supported by the compiler")


def _chain(steps: Sequence[tuple[str, Any]], path: str | None, spec: Spec) -> tuple[Step, Spec]:
    runs = []
    for name, step in steps:
        run, spec = _compile_transformer(step, f"{path} › {name}" if path else name, spec)
        runs.append(run)

    def chained(data: Data) -> Data:
        for run in runs:
            data = run(data)
        return data

    return chained, spec


def _affine(function: Callable[[np.ndarray], np.ndarray], width: int) -> tuple[Step, Spec]:
    return (lambda data: _out(function(_floats(data)))), _numbers(width)


def _column_transformer(ct: Any, path: str, spec: Spec) -> tuple[Step, Spec]:
    """Each transformer on its columns (by name when it was fitted on a DataFrame and gets one now),
    outputs side by side."""
    fitted_names = getattr(ct, "feature_names_in_", None)
    parts: list[tuple[Step, Step]] = []
    out_numeric: list[bool] = []
    for name, trans, columns in ct.transformers_:
        indices = list(ct._transformer_to_input_indices.get(name, []))
        if (isinstance(trans, str) and trans == "drop") or not indices:
            continue
        if isinstance(columns, str | int) and not isinstance(columns, bool):
            raise NotCompilable(f"{path} › {name}", "a single column given as a scalar (1-D input)")
        if fitted_names is not None and spec.names is not None:
            positions = {n: i for i, n in enumerate(spec.names)}
            missing = [str(fitted_names[i]) for i in indices if str(fitted_names[i]) not in positions]
            if missing:
                raise NotCompilable(f"{path} › {name}", f"needs columns the API does not have: {', '.join(missing)}")
            indices = [positions[str(fitted_names[i])] for i in indices]
        select, selected = _selector(spec, indices)
        run, out = _compile_transformer(trans, f"{path} › {name}", selected)
        parts.append((select, run))
        out_numeric.extend(out.numeric)

    def run_all(data: Data) -> Data:
        outputs = [run(select(data))[0] for select, run in parts]
        if not outputs:
            return _out(np.zeros((data[0].shape[0], 0)))
        return _out(np.hstack(outputs) if len(outputs) > 1 else outputs[0])

    return run_all, Spec(None, tuple(out_numeric) if not all(out_numeric) else (True,) * len(out_numeric))


def _simple_imputer(imputer: Any, spec: Spec) -> tuple[Step, Spec]:
    """Fill missing values with the fitted statistics; drop the columns that had none (unless kept);
    append the missing-value indicator when asked."""
    statistics = imputer.statistics_
    keep = np.arange(len(statistics)) if imputer.keep_empty_features else np.flatnonzero(~_missing(statistics))
    fill = statistics[keep]
    text = statistics.dtype == object
    indicator = imputer.indicator_ if imputer.add_indicator else None
    indicator_features = None if indicator is None else np.asarray(indicator.features_, dtype=np.intp)
    missing_value = imputer.missing_values

    every = len(keep) == len(statistics)  # no column dropped: no copies to select them

    def run(data: Data) -> Data:
        values = data[0] if text else _floats(data)
        mask = _missing(values, missing_value)
        if every:
            out = np.where(mask, fill, values) if mask.any() else values
        else:
            out = np.where(mask[:, keep], fill, values[:, keep])
        if indicator_features is not None:
            out = np.hstack([out, mask[:, indicator_features].astype(np.float64)])
        return _out(out)

    numeric = [spec.numeric[i] for i in keep] if text else [True] * len(keep)
    numeric += [True] * (0 if indicator_features is None else len(indicator_features))
    return run, Spec(None, tuple(numeric))


def _encoder(encoder: Any, path: str) -> tuple[Step, Spec]:
    """One-hot or ordinal encoding as one table per feature: row = category, missing or unknown."""
    from sklearn.preprocessing import OneHotEncoder

    categories = encoder.categories_
    if isinstance(encoder, OneHotEncoder):
        widths = list(getattr(encoder, "_n_features_outs", []))
        if len(widths) != len(categories):
            raise NotCompilable(f"{path} ({_name(encoder)})", "cannot tell the width of each feature's columns")
    else:
        widths = [1] * len(categories)
    offsets = np.cumsum([0, *widths])
    object_input = any(c.dtype == object for c in categories)
    base = [c[0] if len(c) else np.nan for c in categories]

    def probe(j: int, values: list[Any]) -> np.ndarray | None:
        rows = np.array([base] * len(values), dtype=object if object_input else np.float64)
        for i, value in enumerate(values):
            rows[i, j] = value
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "X does not have valid feature names"
                out = encoder.transform(rows)
        except ValueError:
            return None
        out = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
        return np.asarray(out[:, offsets[j] : offsets[j + 1]], dtype=np.float64)

    # One table for all features: feature j's rows (its categories, then missing, then unknown) hold its
    # output in its own columns and zeros elsewhere, so a row's encoding is the sum of one row per feature.
    blocks, lookups, width = [], [], int(offsets[-1])
    start = 0
    for j, cats in enumerate(categories):
        known = [c for c in cats if not _is_missing_value(c)]
        table = probe(j, known) if known else np.zeros((0, widths[j]))
        if table is None:
            raise NotCompilable(f"{path} ({_name(encoder)})", f"cannot encode the known categories of feature {j}")
        rows = [table]
        missing_row = probe(j, [np.nan])
        if missing_row is not None:
            rows.append(missing_row)
        unknown_value = _UNKNOWN_TEXT if cats.dtype == object else _unknown_number(cats)
        unknown_row = probe(j, [unknown_value])
        if unknown_row is not None:
            rows.append(unknown_row)
        block = np.zeros((sum(len(r) for r in rows), width))
        block[:, offsets[j] : offsets[j + 1]] = np.vstack(rows)
        blocks.append(block)
        missing_at = start + len(known) if missing_row is not None else None
        unknown_at = start + len(known) + (missing_row is not None) if unknown_row is not None else None
        lookups.append(({_key(c): start + i for i, c in enumerate(known)}, missing_at, unknown_at))
        start += len(block)
    stacked = np.vstack(blocks) if blocks else np.zeros((0, width))

    def position(j: int, value: Any) -> int:
        lookup, missing_at, unknown_at = lookups[j]
        found = lookup.get(value)
        if found is not None:
            return found
        if _is_missing_value(value):
            if missing_at is None:
                raise ValueError(f"Found unknown categories [nan] in column {j} during transform")
            return missing_at
        found = lookup.get(_key(value), unknown_at)
        if found is None:
            raise ValueError(f"Found unknown categories [{value!r}] in column {j} during transform")
        return found

    def run(data: Data) -> Data:
        idx = [[position(j, value) for j, value in enumerate(row)] for row in data[0].tolist()]
        return _out(stacked[np.array(idx, dtype=np.intp).reshape(len(idx), len(lookups))].sum(axis=1))

    return run, _numbers(width)


def _is_missing_value(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # noqa: PLR0124


def _key(value: Any) -> Any:
    """A dict key that matches how scikit-learn compares categories (numpy scalars as Python values)."""
    return value.item() if isinstance(value, np.generic) else value


def _unknown_number(categories: np.ndarray) -> float:
    finite = categories[~np.isnan(categories.astype(float))]
    return float(finite.max()) + 1.5 if len(finite) else 1.5


# --------------------------------------------------------------------------------------------------
# The compiled pipeline
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSchema:
    """The columns the API hands to a pipeline, in order, and which of them are numbers."""

    columns: tuple[str, ...]
    numeric: frozenset[str]

    @property
    def spec(self) -> Spec:
        """The input as the first step sees it: a DataFrame with these columns."""
        return Spec(self.columns, tuple(c in self.numeric for c in self.columns))

    @cached_property
    def _numeric_flags(self) -> tuple[bool, ...]:
        return tuple(c in self.numeric for c in self.columns)

    def data(self, rows: Sequence[Mapping[str, Any]]) -> Data:
        """Input dicts as run-time `Data` (None → NaN, numbers as floats), like `as_frame` does for pandas.
        Built in plain Python, then two arrays: for a few rows, NumPy's per-call cost is the whole cost."""
        columns, flags, nan = self.columns, self._numeric_flags, math.nan
        objects, numbers = [], []
        for row in rows:
            given = [row.get(c) for c in columns]
            floats = [nan if v is None or not numeric else float(v) for v, numeric in zip(given, flags)]
            numbers.append(floats)
            objects.append([f if numeric else (nan if v is None else v) for v, f, numeric in zip(given, floats, flags)])
        shape = (len(rows), len(columns))
        return np.array(objects, dtype=object).reshape(shape), np.array(numbers, dtype=np.float64).reshape(shape)


@dataclass(frozen=True)
class CompiledPipeline:
    """A fitted pipeline as NumPy steps: `predict_proba(rows)` gives P(class 1) for input dicts."""

    schema: InputSchema
    transform: Step
    proba: Callable[[np.ndarray], np.ndarray]
    decision: Callable[[np.ndarray], np.ndarray] | None
    model: str  # the final estimator's class, for /model

    def features(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """What the final estimator receives, as float64."""
        return _floats(self.transform(self.schema.data(rows)))

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probability of class 1 (`pipeline.predict_proba(...)[:, 1]`) for each input dict."""
        return self.proba(self.features(rows))

    def decision_function(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The final estimator's decision function (linear models, gradient boosting raw scores)."""
        if self.decision is None:
            raise AttributeError(f"{self.model} has no compiled decision function")
        return self.decision(self.features(rows))


def compile_pipeline(pipeline: Any, schema: InputSchema) -> CompiledPipeline:
    """Compile a fitted scikit-learn pipeline (or a lone classifier) for inputs shaped like `schema`.

    Raises:
        NotCompilable: a step is not supported (its path and class are in the exception).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    first = pipeline.steps[0][1] if isinstance(pipeline, Pipeline) else pipeline
    names = getattr(first, "feature_names_in_", None)
    by_name = isinstance(first, ColumnTransformer) and names is not None
    if not by_name and (tuple(map(str, names)) if names is not None else None) not in (None, schema.columns):
        raise NotCompilable(
            f"{_first_name(pipeline)} ({_name(first)})", f"expects the columns {', '.join(map(str, names))}"
        )
    if not by_name and getattr(first, "n_features_in_", len(schema.columns)) != len(schema.columns):
        raise NotCompilable(
            f"{_first_name(pipeline)} ({_name(first)})",
            f"expects {first.n_features_in_} columns, the API has {len(schema.columns)}",
        )
    if isinstance(pipeline, Pipeline):
        *transformers, (last_name, model) = pipeline.steps
        transform, _ = _chain(transformers, None, schema.spec)
        if not isinstance(first, ColumnTransformer) and not all(schema.spec.numeric):
            whole = transform  # the first step sees the whole table: text and numbers together, as objects
            transform = lambda data: whole((data[0], None))  # noqa: E731
    else:
        last_name, model, transform = "model", pipeline, (lambda data: data)
    proba, decision = _compile_model(model, last_name)
    return CompiledPipeline(schema, transform, proba, decision, _name(model))


@dataclass(frozen=True)
class CompiledPreprocessing:
    """The compiled steps of a pipeline in front of a model the compiler does not know: the model itself
    is called on their output (a NumPy array), which skips the per-call overhead of the steps."""

    schema: InputSchema
    transform: Step
    model: Any

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probability of class 1 for each input dict."""
        features = _floats(self.transform(self.schema.data(rows)))
        return np.asarray(self.model.predict_proba(features))[:, 1]


def compile_preprocessing(pipeline: Any, schema: InputSchema) -> CompiledPreprocessing:
    """Compile every step but the last (a model fitted on arrays, with `predict_proba`).

    Raises:
        NotCompilable: a step before the model is not supported, or the model expects column names.
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        raise NotCompilable("model", "nothing to compile in front of the model")
    *transformers, (last_name, model) = pipeline.steps
    if hasattr(model, "feature_names_in_") or not hasattr(model, "predict_proba"):
        raise NotCompilable(f"{last_name} ({_name(model)})", "the model expects named columns")
    compiled = compile_pipeline(Pipeline([*transformers, ("model", _Identity())]), schema)
    return CompiledPreprocessing(schema, compiled.transform, model)


def _first_name(pipeline: Any) -> str:
    steps = getattr(pipeline, "steps", None)
    return steps[0][0] if steps else "model"


def verify(compiled: CompiledPipeline, pipeline: Any, frame: pd.DataFrame, tolerance: float = TOLERANCE) -> str | None:
    """Compare the compiled model with `pipeline.predict_proba` on the rows of `frame` (the API's own
    input table). Returns None when they agree everywhere, else the first difference found.

    Rows the pipeline cannot score (a missing value and no imputer) must make the compiled model fail
    too, since the API then answers 422: when the pipeline refuses the table, complete rows are compared
    together and up to `ROW_BY_ROW` incomplete rows one by one.
    """
    problem = _compare(compiled, pipeline, frame, tolerance)
    if problem != "pipeline failed":
        return problem
    complete = frame[frame.notna().all(axis=1)]
    problem = _compare(compiled, pipeline, complete, tolerance) if len(complete) else None
    if problem is not None:
        return "the pipeline cannot score complete rows" if problem == "pipeline failed" else problem
    incomplete = frame[frame.isna().any(axis=1)].head(ROW_BY_ROW)
    for i in range(len(incomplete)):
        problem = _compare(compiled, pipeline, incomplete.iloc[[i]], tolerance)
        if problem == "pipeline failed":
            try:
                compiled.predict_proba(_records(incomplete.iloc[[i]]))
            except Exception:  # noqa: BLE001 - refused by both: they agree
                continue
            return f"the compiled model scores a row the pipeline refuses: {_records(incomplete.iloc[[i]])[0]}"
        if problem is not None:
            return problem
    return None


#: Incomplete rows compared one by one when the pipeline refuses missing values.
ROW_BY_ROW = 40


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _compare(compiled: CompiledPipeline, pipeline: Any, frame: pd.DataFrame, tolerance: float) -> str | None:
    try:
        expected = np.asarray(pipeline.predict_proba(frame), dtype=float)[:, 1]
    except Exception:  # noqa: BLE001 - the caller decides what a refusal means
        return "pipeline failed"
    records = _records(frame)
    try:
        got = compiled.predict_proba(records)
    except Exception as exc:  # noqa: BLE001 - any failure is a disagreement
        return f"the compiled model failed where the pipeline did not ({type(exc).__name__}: {exc})"
    gap = np.abs(got - expected)
    if not np.all(gap <= tolerance):  # NaN counts as a difference
        worst = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))
        return f"compiled {got[worst]!r} where the pipeline gives {expected[worst]!r} for {records[worst]}"
    return None
