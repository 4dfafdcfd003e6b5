"""Simulations: shifted, noisy or broken batches of the course data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.core.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NEGATIVE,
    NUMERIC_FEATURES,
    POSITIVE,
    TARGET,
    generate_loan_data,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# ----------------------------------------------------------------------------------------------
# Simulations
# ----------------------------------------------------------------------------------------------

DRIFT_KINDS: tuple[str, ...] = (
    "none",
    "shift",
    "scale",
    "category_mix",
    "new_category",
    "missing_spike",
    "unit_change",
    "prediction",
    "concept",
)
CONTINUOUS: tuple[str, ...] = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount")
#: kind → (features it can act on, default feature)
DRIFT_FEATURES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "none": ((), None),
    "shift": (CONTINUOUS, "ApplicantIncome"),
    "scale": (CONTINUOUS, "ApplicantIncome"),
    "category_mix": ((*CATEGORICAL_FEATURES, "Credit_History", "Loan_Amount_Term"), "Property_Area"),
    "new_category": (CATEGORICAL_FEATURES, "Property_Area"),
    "missing_spike": (NUMERIC_FEATURES + CATEGORICAL_FEATURES, "Credit_History"),
    "unit_change": (("LoanAmount",), "LoanAmount"),
    "prediction": (("Credit_History",), "Credit_History"),
    "concept": ((), None),
}
NEW_CATEGORY: dict[str, str] = {
    "Property_Area": "Periurban",
    "Education": "PhD",
    "Dependents": "4+",
    "Gender": "Other",
    "Married": "Divorced",
    "Self_Employed": "Freelance",
}
#: the value a category_mix moves rows to (the second most frequent value of the course data)
MIX_TARGET: dict[str, object] = {
    "Property_Area": "Rural",
    "Education": "Not Graduate",
    "Dependents": "1",
    "Gender": "Female",
    "Married": "No",
    "Self_Employed": "Yes",
    "Credit_History": 0.0,
    "Loan_Amount_Term": 180.0,
}
DEFAULT_STRENGTH: dict[str, float] = {
    "none": 0.0,
    "shift": 0.5,
    "scale": 0.5,
    "category_mix": 0.3,
    "new_category": 0.2,
    "missing_spike": 0.4,
    "unit_change": 1.0,
    "prediction": 0.4,
    "concept": 0.8,
}


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _seed(*parts: object) -> int:
    return int(_rng(*parts).integers(0, 2**31 - 1))


def simulate_batch(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A batch of new applications (with their labels) from the course data's generator."""
    return generate_loan_data(n_rows, seed=_seed("batch", seed))


def apply_drift(
    frame: pd.DataFrame, kind: str, strength: float, *, feature: str | None = None, seed: int = 0
) -> pd.DataFrame:
    """A drifted copy of a batch.

    Args:
        frame: a loan table (features and Loan_Status).
        kind: one of DRIFT_KINDS.
        strength: 0 (no change) to 1 (strongest); for shift, the shift in standard deviations.
        feature: the feature to act on (default per kind, see DRIFT_FEATURES).
        seed: seeds which rows are touched.

    Raises:
        ValueError: unknown kind, or a feature this kind cannot act on.
    """
    if kind not in DRIFT_FEATURES:
        raise ValueError(f"unknown drift kind {kind!r}; choose one of {', '.join(DRIFT_KINDS)}")
    allowed, default = DRIFT_FEATURES[kind]
    feature = feature or default
    if allowed and feature not in allowed:
        raise ValueError(f"{kind} cannot act on {feature!r}; choose one of {', '.join(allowed)}")
    strength = float(min(max(strength, 0.0), 3.0))
    out = frame.copy()
    rng = _rng("drift", kind, feature, seed)
    n = len(out)
    if kind == "none" or n == 0 or strength == 0:
        return out
    share = min(strength, 1.0)
    touched = rng.random(n) < share
    if kind == "shift":
        values = out[feature]
        out[feature] = values + strength * float(values.std(ddof=0))
    elif kind == "scale":
        values = out[feature]
        center = float(values.median())
        out[feature] = (center + (values - center) * (1 + 2 * strength)).clip(lower=0)
    elif kind == "category_mix":
        target = MIX_TARGET[feature]
        out.loc[touched & out[feature].notna().to_numpy(), feature] = target
    elif kind == "new_category":
        out.loc[touched, feature] = NEW_CATEGORY[feature]
    elif kind == "missing_spike":
        out.loc[touched, feature] = np.nan
    elif kind == "unit_change":
        out.loc[touched, feature] = out.loc[touched, feature] * 1000
    elif kind == "prediction":
        # More applicants without a credit history: whole applications (labels included) resampled,
        # so the model's inputs and its predictions move together, and it stays right.
        pool = np.flatnonzero((out["Credit_History"] == 0).to_numpy())
        replace = np.flatnonzero(touched & (out["Credit_History"] == 1).to_numpy())
        if pool.size and replace.size:
            rows = np.arange(n)
            rows[replace] = rng.choice(pool, size=replace.size, replace=True)
            out = out.iloc[rows].reset_index(drop=True).set_axis(frame.index)
    elif kind == "concept":
        # Same applicants, new rule: lenders now approve the most affordable 69 % of loans,
        # whatever the credit history. P(X) and P(Y) barely move; P(Y|X) changes.
        income = out["ApplicantIncome"] + out["CoapplicantIncome"]
        monthly = out["LoanAmount"].fillna(out["LoanAmount"].median()) * 1000 / out["Loan_Amount_Term"].fillna(360)
        burden = (monthly / income.clip(lower=1)) * np.exp(rng.normal(0, 0.15, n))
        cut = np.nanquantile(burden, 0.69)
        new_label = np.where(burden <= cut, POSITIVE, NEGATIVE)
        out[TARGET] = np.where(touched, new_label, out[TARGET])
    return out


@dataclass
class Timeline:
    """Weekly batches of production data, drifting from `start_week` on (weeks count from 1)."""

    batches: list[pd.DataFrame]
    kind: str
    strength: float
    feature: str | None
    start_week: int
    batch_size: int
    seed: int

    @property
    def weeks(self) -> list[int]:
        """Week numbers, from 1."""
        return list(range(1, len(self.batches) + 1))


def simulate_timeline(
    kind: str,
    strength: float | None = None,
    *,
    feature: str | None = None,
    weeks: int = 20,
    start_week: int = 10,
    batch_size: int = 200,
    seed: int = 0,
) -> Timeline:
    """Weekly batches of new applicants; from `start_week` on, each batch gets the drift.

    Raises:
        ValueError: unknown drift kind or feature, fewer than 2 weeks, or a start outside the timeline.
    """
    if weeks < 2 or not 1 <= start_week <= weeks:
        raise ValueError("need at least 2 weeks and a start week inside the timeline")
    if kind not in DRIFT_FEATURES:
        raise ValueError(f"unknown drift kind {kind!r}")
    strength = DEFAULT_STRENGTH[kind] if strength is None else strength
    feature = feature or DRIFT_FEATURES[kind][1]
    rows = simulate_batch(weeks * batch_size, seed=_seed("timeline", seed))  # one draw, cut into weeks
    batches = []
    for week in range(1, weeks + 1):
        batch = rows.iloc[(week - 1) * batch_size : week * batch_size].reset_index(drop=True)
        if week >= start_week:
            batch = apply_drift(batch, kind, strength, feature=feature, seed=_seed("week", seed, week))
        batches.append(batch)
    return Timeline(batches, kind, strength, feature, start_week, batch_size, seed)


def fit_model(frame: pd.DataFrame, model_name: str = "logistic_regression") -> Pipeline:
    """Fit the course pipeline on a labelled loan table (all rows, no split)."""
    from workbench.core.modeling import build_pipeline

    pipeline = build_pipeline(model_name)
    pipeline.fit(frame[list(FEATURES)], (frame[TARGET] == POSITIVE).astype(int))
    return pipeline


def predicted_labels(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The model's decisions (Y/N) for a loan table."""
    return np.where(model.predict_proba(frame[list(FEATURES)])[:, 1] >= 0.5, POSITIVE, NEGATIVE)


def with_predictions(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """The table with a `prediction` column (Y/N), to watch prediction drift like any feature."""
    return frame.assign(prediction=predicted_labels(model, frame))
