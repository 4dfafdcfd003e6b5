"""Data preparation: check incoming applications and build the preprocessing + model pipeline."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

CATEGORIES: dict[str, tuple[str, ...]] = {
    "Gender": ("Male", "Female"),
    "Married": ("Yes", "No"),
    "Dependents": ("0", "1", "2", "3+"),
    "Education": ("Graduate", "Not Graduate"),
    "Self_Employed": ("Yes", "No"),
    "Property_Area": ("Urban", "Semiurban", "Rural"),
}
#: numeric column -> (minimum, maximum); LoanAmount is in thousands, Loan_Amount_Term in months.
RANGES: dict[str, tuple[float, float]] = {
    "ApplicantIncome": (0, 1_000_000),
    "CoapplicantIncome": (0, 1_000_000),
    "LoanAmount": (0, 10_000),
    "Loan_Amount_Term": (0, 600),
    "Credit_History": (0, 1),
}
#: columns whose minimum is excluded: an amount or a term is more than 0
ABOVE_MINIMUM: tuple[str, ...] = ("LoanAmount", "Loan_Amount_Term")
NUMERIC_FEATURES: tuple[str, ...] = tuple(RANGES)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(CATEGORIES)
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def validate_records(records: Iterable[Mapping[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """Check applications and return them as the table the model expects.

    Missing fields are allowed (the pipeline imputes them); unknown fields are ignored.

    Raises:
        ValueError: a number that is not a number or out of range, or an unknown category.
    """
    rows = records.to_dict("records") if isinstance(records, pd.DataFrame) else [dict(r) for r in records]
    if not rows:
        raise ValueError("no application to predict")
    clean = []
    for number, row in enumerate(rows, start=1):
        out: dict[str, object] = {}
        for column, (low, high) in RANGES.items():
            value = row.get(column)
            if _missing(value):
                out[column] = math.nan
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"application {number}: {column} must be a number, got {value!r}")
            too_low = value <= low if column in ABOVE_MINIMUM else value < low
            if too_low or value > high or (column == "Credit_History" and value not in (0, 1)):
                bracket = "(" if column in ABOVE_MINIMUM else "["
                raise ValueError(f"application {number}: {column}={value!r} is outside {bracket}{low}, {high}]")
            out[column] = float(value)
        for column, allowed in CATEGORIES.items():
            value = row.get(column)
            if _missing(value):
                out[column] = None
            elif str(value) not in allowed:
                raise ValueError(f"application {number}: {column}={value!r} is not one of {', '.join(allowed)}")
            else:
                out[column] = str(value)
        clean.append(out)
    return pd.DataFrame(clean, columns=list(FEATURES))


def build_pipeline(C: float = 1.0, seed: int = 42):
    """Impute and scale the numbers, impute and one-hot encode the categories, then a logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    preprocess = ColumnTransformer(
        [("numeric", numeric, list(NUMERIC_FEATURES)), ("categorical", categorical, list(CATEGORICAL_FEATURES))]
    )
    model = LogisticRegression(C=C, max_iter=1000, random_state=seed)
    return Pipeline([("preprocess", preprocess), ("model", model)])
