"""The victim model, its feature space and the attacker's budget, shared by every attack."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_FEATURES,
    NUMERIC_RANGES,
    split_features_target,
)
from workbench.core.i18n import LocalizedError
from workbench.core.loan_schema import LOAN_SCHEMA

Progress = Callable[[float], None] | None
DEFAULT_BUDGET = 30.0
DEFAULT_SEED = 42
#: Numeric features whose values are amounts (rounded to whole units in a valid application).
INTEGER_FEATURES = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")
#: Features an applicant can plausibly tweak when trying to get a loan through the API.
DEFAULT_API_FEATURES = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")
FLIP_KEY = "ch11_post_production/flip.json"  # the learner's edited application
#: `Column.problems` codes → the strings that explain them to the learner
PROBLEM_KEYS = {
    "category": "problem_category",
    "not_number": "problem_not_number",
    "range": "problem_range",
    "binary": "problem_binary",
}


class SecurityError(LocalizedError, ValueError):
    """An attack or defense that cannot run with these inputs (`message(lang)` for the learner).

    Also one problem of an invalid application (`application_problems`), keys `security.problem_*`.
    """

    namespace = "security"


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)))


def one_thread(func: Callable) -> Callable:
    """Run a function's small NumPy/scikit-learn work on one thread: on a few hundred rows, BLAS threads
    cost more than they save (several times slower on a busy 2-core machine)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper


class Budget:
    """A time budget: `expired()` once `seconds` have passed since creation."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise SecurityError("err_budget")
        self.seconds = float(seconds)
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def expired(self) -> bool:
        """True when the budget is spent."""
        return self.elapsed >= self.seconds


# --------------------------------------------------------------------------------------------
# The victim and its model space
# --------------------------------------------------------------------------------------------


@dataclass
class Victim:
    """A fitted course pipeline with its train/test split (the model under attack)."""

    model_name: str
    pipeline: Any
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_test: pd.DataFrame
    y_test: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def space(self) -> ModelSpace:
        """The preprocessed space the model sees."""
        return ModelSpace.from_pipeline(self.pipeline)

    @property
    def model(self) -> Any:
        """The estimator after preprocessing."""
        return self.pipeline.named_steps["model"]

    def accuracy(self) -> float:
        """Accuracy on the held-out applications."""
        return float((self.pipeline.predict(self.X_test) == self.y_test).mean())


@one_thread
def train_victim(
    data: pd.DataFrame,
    model_name: str = "logistic_regression",
    params: dict | None = None,
    seed: int = DEFAULT_SEED,
    test_size: float = 0.2,
) -> Victim:
    """Split the loan table (stratified) and fit the course pipeline that will be attacked.

    A random forest is set to one thread: attacks query it thousands of times on a few rows.
    """
    from sklearn.model_selection import train_test_split

    from workbench.core.modeling import build_pipeline

    X, y = split_features_target(data)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    pipeline = build_pipeline(model_name, params, seed)
    pipeline.fit(X_train, y_train)
    if model_name == "random_forest":
        pipeline.named_steps["model"].n_jobs = 1
    return Victim(
        model_name,
        pipeline,
        X_train.reset_index(drop=True),
        y_train.to_numpy(),
        X_test.reset_index(drop=True),
        y_test.to_numpy(),
        dict(params or {}),
    )


@dataclass(frozen=True)
class ModelSpace:
    """The preprocessed columns of a course pipeline and the way back to a valid application."""

    preprocess: Any
    columns: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    groups: dict[str, tuple[int, tuple[str, ...]]]  # categorical feature → (first column, categories)

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> ModelSpace:
        """Read the fitted preprocessing step of a course pipeline."""
        preprocess = pipeline.named_steps["preprocess"]
        scaler = preprocess.named_transformers_["numeric"].named_steps["scale"]
        encoder = preprocess.named_transformers_["categorical"].named_steps["encode"]
        columns = list(NUMERIC_FEATURES)
        groups = {}
        for feature, categories in zip(CATEGORICAL_FEATURES, encoder.categories_):
            groups[feature] = (len(columns), tuple(str(c) for c in categories))
            columns += [f"{feature}={c}" for c in categories]
        return cls(
            preprocess, tuple(columns), np.asarray(scaler.mean_, float), np.asarray(scaler.scale_, float), groups
        )

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Applications → model-space matrix (float64)."""
        return np.asarray(self.preprocess.transform(X[list(FEATURES)]), dtype=float)

    def mask(self, features: Sequence[str]) -> np.ndarray:
        """1.0 on the columns that belong to `features`, 0.0 elsewhere (what an attack may change)."""
        unknown = set(features) - set(FEATURES)
        if unknown:
            raise SecurityError("err_unknown_features", features=", ".join(sorted(unknown)))
        mask = np.zeros(len(self.columns))
        for feature in features:
            if feature in NUMERIC_FEATURES:
                mask[NUMERIC_FEATURES.index(feature)] = 1.0
            else:
                start, categories = self.groups[feature]
                mask[start : start + len(categories)] = 1.0
        return mask

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest model-space value of each column for a valid application."""
        low, high = np.zeros(len(self.columns)), np.ones(len(self.columns))
        for j, feature in enumerate(NUMERIC_FEATURES):
            a, b = NUMERIC_RANGES[feature]
            low[j], high[j] = (a - self.mean[j]) / self.scale[j], (b - self.mean[j]) / self.scale[j]
        return low, high

    def raw_numbers(self, Z: np.ndarray) -> np.ndarray:
        """The numeric columns of a model-space matrix, back in the application's units."""
        return Z[:, : len(NUMERIC_FEATURES)] * self.scale + self.mean

    def invalid_rows(self, Z: np.ndarray) -> np.ndarray:
        """True for rows a strict input validation would reject (a number out of range, a credit history
        that is not 0 or 1, a one-hot group that is not exactly one category)."""
        raw = self.raw_numbers(Z)
        bad = np.zeros(len(Z), dtype=bool)
        for j, feature in enumerate(NUMERIC_FEATURES):
            low, high = NUMERIC_RANGES[feature]
            bad |= (raw[:, j] < low - 1e-6) | (raw[:, j] > high + 1e-6)
        credit = raw[:, NUMERIC_FEATURES.index("Credit_History")]
        bad |= np.minimum(np.abs(credit), np.abs(credit - 1)) > 1e-6
        for start, categories in self.groups.values():
            block = Z[:, start : start + len(categories)]
            one_hot = np.all(np.isclose(block, 0) | np.isclose(block, 1), axis=1) & np.isclose(block.sum(axis=1), 1)
            bad |= ~one_hot
        return bad

    def to_applications(self, Z: np.ndarray, original: pd.DataFrame) -> pd.DataFrame:
        """Map model-space rows back to valid applications.

        Columns the attack left untouched keep the original value (missing values included); changed
        numbers are clipped to `NUMERIC_RANGES` and rounded (amounts to whole units, credit history to 0/1);
        a changed one-hot group becomes its largest category.
        """
        original = original[list(FEATURES)].reset_index(drop=True)
        Z0 = self.transform(original)
        out = original.copy().astype(object)
        raw = self.raw_numbers(Z)
        for j, feature in enumerate(NUMERIC_FEATURES):
            changed = np.abs(Z[:, j] - Z0[:, j]) > 1e-9
            low, high = NUMERIC_RANGES[feature]
            values = np.clip(raw[:, j], low, high)
            if feature == "Credit_History":
                values = (values >= 0.5).astype(float)
            elif feature in INTEGER_FEATURES:
                values = np.clip(np.round(values), math.ceil(low), math.floor(high))
            out.loc[changed, feature] = values[changed]
        for feature, (start, categories) in self.groups.items():
            block = Z[:, start : start + len(categories)]
            changed = np.any(np.abs(block - Z0[:, start : start + len(categories)]) > 1e-9, axis=1)
            chosen = np.array(categories, dtype=object)[block.argmax(axis=1)]
            out.loc[changed, feature] = chosen[changed]
        for feature in NUMERIC_FEATURES:
            out[feature] = pd.to_numeric(out[feature]).astype(float)
        return out


def application_problems(application: dict) -> list[SecurityError]:
    """What a strict validation would refuse in one application (empty when it is valid).

    Each problem is a `SecurityError`: `str(problem)` is `feature: reason` in English (tests, logs),
    `problem.message(lang)` the learner's.
    """
    problems = [SecurityError("problem_missing", feature=f) for f in FEATURES if f not in application]
    for column in sorted(LOAN_SCHEMA.values(), key=lambda c: c.kind != "category"):  # categories, then numbers
        value = application.get(column.name)
        if value is None or (column.kind != "category" and isinstance(value, float) and math.isnan(value)):
            continue
        problems += [SecurityError(PROBLEM_KEYS[code], feature=column.name, **p) for code, p in column.problems(value)]
    return problems


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows of an application table as JSON-friendly dicts (None for missing, Credit_History as int)."""
    table = frame[list(FEATURES)].astype(object)
    rows = table.where(table.notna(), None).to_dict("records")
    for row in rows:
        for feature in NUMERIC_FEATURES:
            value = row[feature]
            if value is not None:
                value = float(value)
                row[feature] = int(value) if value.is_integer() else value
    return rows
