"""A fast path for predicting with the course pipeline, row by row.

`Pipeline.predict_proba` on a one-row DataFrame costs milliseconds, almost all of it per-call overhead
(ColumnTransformer, pandas, input validation), not arithmetic. A fitted course pipeline is only known
numbers — imputer statistics, one-hot categories, scaler mean and scale, and a model — so it can be
"compiled" into plain NumPy: the preprocessing becomes a few array operations, a logistic regression a
dot product, and a tree model is called directly on the ready-made NumPy row. The compiled predictor is
checked against the pipeline's own output (tests, and `verify` at load time in the API), and anything it
does not recognise falls back to the pipeline itself.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.data import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES


@dataclass(frozen=True)
class CompiledPipeline:
    """The numbers of a fitted course pipeline, ready for NumPy."""

    numeric_fill: np.ndarray  # imputer medians, per numeric column
    numeric_mean: np.ndarray
    numeric_scale: np.ndarray
    categorical_fill: tuple[str, ...]  # imputer most frequent value, per categorical column
    categories: tuple[dict[str, int], ...]  # value → one-hot position, per categorical column
    width: int  # number of columns after preprocessing
    coef: np.ndarray | None  # logistic regression: weights and intercept
    intercept: float
    model: Any  # a tree-based estimator called on the NumPy matrix, when not linear

    def transform(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The preprocessed matrix (rows × width) for input dicts with the 11 course fields."""
        n = len(rows)
        n_num = len(NUMERIC_FEATURES)
        out = np.zeros((n, self.width))
        numbers = np.array([[_number(row.get(c)) for c in NUMERIC_FEATURES] for row in rows], dtype=float).reshape(
            n, n_num
        )
        numbers = np.where(np.isnan(numbers), self.numeric_fill, numbers)
        out[:, :n_num] = (numbers - self.numeric_mean) / self.numeric_scale
        offset = n_num
        for j, column in enumerate(CATEGORICAL_FEATURES):
            mapping = self.categories[j]
            for i, row in enumerate(rows):
                value = row.get(column)
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    value = self.categorical_fill[j]
                position = mapping.get(str(value))
                if position is not None:  # unknown categories stay all-zero (handle_unknown="ignore")
                    out[i, offset + position] = 1.0
            offset += len(mapping)
        return out

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probability of approval for each row."""
        matrix = self.transform(rows)
        if self.coef is not None:
            return 1.0 / (1.0 + np.exp(-(matrix @ self.coef + self.intercept)))
        return self.model.predict_proba(matrix)[:, 1]


def _number(value: Any) -> float:
    if value is None:
        return np.nan
    return float(value)


def compile_pipeline(pipeline: Any) -> CompiledPipeline | None:
    """Compile a fitted course pipeline, or return None if its structure is not the expected one."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    try:
        preprocess = pipeline.named_steps["preprocess"]
        model = pipeline.named_steps["model"]
        transformers = {name: (steps, list(cols)) for name, steps, cols in preprocess.transformers_}
        numeric, numeric_cols = transformers["numeric"]
        categorical, categorical_cols = transformers["categorical"]
        if numeric_cols != list(NUMERIC_FEATURES) or categorical_cols != list(CATEGORICAL_FEATURES):
            return None
        imputer, scaler = numeric.named_steps["impute"], numeric.named_steps["scale"]
        cat_imputer, encoder = categorical.named_steps["impute"], categorical.named_steps["encode"]
        if encoder.drop is not None or encoder.handle_unknown != "ignore":
            return None
        categories = tuple({str(v): i for i, v in enumerate(cats)} for cats in encoder.categories_)
        width = len(NUMERIC_FEATURES) + sum(len(c) for c in categories)
        coef, intercept, tree_model = None, 0.0, None
        if isinstance(model, LogisticRegression) and model.coef_.shape[0] == 1:
            coef, intercept = model.coef_[0].astype(float), float(model.intercept_[0])
        elif isinstance(model, DecisionTreeClassifier | HistGradientBoostingClassifier):
            tree_model = model
        elif isinstance(model, RandomForestClassifier):
            tree_model = copy.copy(model)  # same fitted trees, but...
            tree_model.n_jobs = 1  # ...no thread pool: threads cost more than they save on a few rows
        else:
            return None
        if coef is not None and coef.shape[0] != width:
            return None
        return CompiledPipeline(
            numeric_fill=np.asarray(imputer.statistics_, dtype=float),
            numeric_mean=np.asarray(scaler.mean_, dtype=float),
            numeric_scale=np.asarray(scaler.scale_, dtype=float),
            categorical_fill=tuple(str(v) for v in cat_imputer.statistics_),
            categories=categories,
            width=width,
            coef=coef,
            intercept=intercept,
            model=tree_model,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def verify(compiled: CompiledPipeline, pipeline: Any, rows: pd.DataFrame, atol: float = 1e-9) -> bool:
    """True when the compiled predictor gives the pipeline's own probabilities on `rows`."""
    expected = pipeline.predict_proba(rows[list(FEATURES)])[:, 1]
    records = rows[list(FEATURES)].astype(object).where(rows[list(FEATURES)].notna(), None).to_dict("records")
    return bool(np.allclose(compiled.predict_proba(records), expected, atol=atol, rtol=0))
