"""The modeling core every chapter shares: preprocessing + model pipeline, training, evaluation, figures.

Preprocessing: numeric columns are imputed with the median and standardised; categorical columns are
imputed with the most frequent value and one-hot encoded (unknown categories ignored). Four models,
each with a few hyperparameters a learner can tune. Metrics are always shown beside the majority-class
baseline: on the loan data a model that says "approved" to everyone is already right ~69 % of the time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workbench.core.data import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, split_features_target
from workbench.core.formatting import localize_figure, number
from workbench.core.i18n import translate

DEFAULT_SEED = 42


#: How a hyperparameter is chosen: a whole number, a number, or a number on a log scale (sliders, validation).
ParamKind = Literal["int", "float", "log_float"]


@dataclass(frozen=True)
class ParamSpec:
    """A tunable hyperparameter: its kind, default and bounds (for sliders and validation)."""

    name: str
    kind: ParamKind
    default: float
    low: float
    high: float
    step: float = 1


@dataclass(frozen=True)
class ModelSpec:
    """A model family the course uses, with the hyperparameters a learner can tune."""

    name: str
    params: tuple[ParamSpec, ...]


MODEL_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("logistic_regression", (ParamSpec("C", "log_float", 1.0, 0.001, 100.0),)),
        ModelSpec(
            "decision_tree",
            (ParamSpec("max_depth", "int", 4, 1, 20), ParamSpec("min_samples_leaf", "int", 5, 1, 50)),
        ),
        ModelSpec(
            "random_forest",
            (
                ParamSpec("n_estimators", "int", 100, 10, 300, 10),
                ParamSpec("max_depth", "int", 6, 1, 20),
                ParamSpec("min_samples_leaf", "int", 3, 1, 50),
            ),
        ),
        ModelSpec(
            "gradient_boosting",
            (
                ParamSpec("max_iter", "int", 100, 10, 300, 10),
                ParamSpec("learning_rate", "float", 0.1, 0.01, 1.0, 0.01),
                ParamSpec("max_depth", "int", 3, 1, 10),
            ),
        ),
    )
}
MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SPECS)


def default_params(model_name: str) -> dict[str, float | int]:
    """The default hyperparameters of a model family."""
    return {p.name: (int(p.default) if p.kind == "int" else p.default) for p in MODEL_SPECS[model_name].params}


def clean_params(model_name: str, params: dict | None) -> dict[str, float | int]:
    """Defaults overridden by `params`, cast to the right type and clipped to the allowed range.

    Raises:
        KeyError: unknown model family.
        ValueError: a parameter this model does not have.
    """
    spec = MODEL_SPECS[model_name]
    allowed = {p.name: p for p in spec.params}
    unknown = set(params or {}) - set(allowed)
    if unknown:
        raise ValueError(f"{model_name} has no parameter(s) {sorted(unknown)}")
    out = default_params(model_name)
    for name, value in (params or {}).items():
        p = allowed[name]
        value = min(max(float(value), p.low), p.high)
        out[name] = int(round(value)) if p.kind == "int" else value
    return out


def build_preprocessor() -> ColumnTransformer:
    """Impute, scale numeric columns; impute and one-hot encode categorical columns."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [("numeric", numeric, list(NUMERIC_FEATURES)), ("categorical", categorical, list(CATEGORICAL_FEATURES))]
    )


def build_pipeline(
    model_name: str = "logistic_regression", params: dict | None = None, seed: int = DEFAULT_SEED
) -> Pipeline:
    """The course pipeline: preprocessing then the chosen classifier.

    Args:
        model_name: one of MODEL_NAMES.
        params: hyperparameters (defaults for those not given).
        seed: random state of the model (deterministic results).
    """
    p = clean_params(model_name, params)
    if model_name == "logistic_regression":
        model = LogisticRegression(C=p["C"], max_iter=1000, random_state=seed)
    elif model_name == "decision_tree":
        model = DecisionTreeClassifier(
            max_depth=p["max_depth"], min_samples_leaf=p["min_samples_leaf"], random_state=seed
        )
    elif model_name == "random_forest":
        model = RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            random_state=seed,
            n_jobs=-1,
        )
    else:
        model = HistGradientBoostingClassifier(
            max_iter=p["max_iter"],
            learning_rate=p["learning_rate"],
            max_depth=p["max_depth"],
            random_state=seed,
        )
    return Pipeline([("preprocess", build_preprocessor()), ("model", model)])


@dataclass
class Evaluation:
    """Metrics of a classifier on a test set, with the majority-class baseline beside them."""

    metrics: dict[str, float]
    baseline: dict[str, float]
    confusion: np.ndarray  # [[TN, FP], [FN, TP]] with 1 = approved
    roc: tuple[np.ndarray, np.ndarray]  # false positive rates, true positive rates
    n_test: int


@dataclass
class TrainResult:
    """A fitted pipeline and how well it does."""

    model_name: str
    params: dict[str, float | int]
    pipeline: Pipeline
    evaluation: Evaluation
    n_train: int
    train_seconds: float
    seed: int
    extra: dict = field(default_factory=dict)
    train_metrics: dict[str, float] = field(default_factory=dict)  # the same metrics on the training rows

    @property
    def metrics(self) -> dict[str, float]:
        """Shortcut to the test metrics."""
        return self.evaluation.metrics


METRIC_NAMES: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (positive class = approved) and ROC-AUC."""
    y_true = np.asarray(y_true)
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred, zero_division=0),
        "recall": recall_score(y_true, y_pred, zero_division=0),
        "f1": f1_score(y_true, y_pred, zero_division=0),
        "roc_auc": roc_auc_score(y_true, y_score) if len(np.unique(y_true)) > 1 else float("nan"),
    }
    return {k: float(v) for k, v in metrics.items()}


def evaluate(pipeline: Pipeline, X_test: pd.DataFrame, y_test: pd.Series, y_train: pd.Series) -> Evaluation:
    """Evaluate a fitted pipeline and the majority-class baseline (learned on the training labels)."""
    score = pipeline.predict_proba(X_test)[:, 1]
    pred = (score >= 0.5).astype(int)
    majority = int(np.asarray(y_train).mean() >= 0.5)
    base_pred = np.full(len(y_test), majority)
    baseline = compute_metrics(y_test, base_pred, np.full(len(y_test), float(majority)))
    fpr, tpr, _ = roc_curve(y_test, score) if len(np.unique(y_test)) > 1 else (np.array([0, 1]), np.array([0, 1]), None)
    return Evaluation(
        metrics=compute_metrics(y_test, pred, score),
        baseline=baseline,
        confusion=confusion_matrix(y_test, pred, labels=[0, 1]),
        roc=(fpr, tpr),
        n_test=len(y_test),
    )


def train_model(
    df: pd.DataFrame,
    model_name: str = "logistic_regression",
    params: dict | None = None,
    test_size: float = 0.2,
    seed: int = DEFAULT_SEED,
) -> TrainResult:
    """Split the loan table (stratified), fit the pipeline, evaluate on the held-out part.

    Args:
        df: a validated loan table with Loan_Status.
        model_name: one of MODEL_NAMES.
        params: hyperparameters.
        test_size: fraction held out for evaluation.
        seed: seeds both the split and the model.
    """
    X, y = split_features_target(df)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    pipeline = build_pipeline(model_name, params, seed)
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    train_score = pipeline.predict_proba(X_train)[:, 1]
    return TrainResult(
        model_name=model_name,
        params=clean_params(model_name, params),
        pipeline=pipeline,
        evaluation=evaluate(pipeline, X_test, y_test, y_train),
        n_train=len(X_train),
        train_seconds=seconds,
        seed=seed,
        train_metrics=compute_metrics(y_train, (train_score >= 0.5).astype(int), train_score),
    )


def compare_families(
    df: pd.DataFrame, n_splits: int = 5, n_repeats: int = 2, seed: int = 0, models: tuple[str, ...] = MODEL_NAMES
) -> pd.DataFrame:
    """Cross-validated scores of each model family with its default hyperparameters.

    Returns:
        One row per family: test `accuracy`, `f1`, `roc_auc` (means over the folds), the same on the
        training folds (`train_accuracy`, `train_roc_auc`) and the overfitting gaps (`gap_accuracy`,
        `gap_roc_auc`: train minus test).
    """
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate

    X, y = split_features_target(df)
    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    rows = {}
    for name in models:
        scores = cross_validate(
            build_pipeline(name, seed=seed),
            X,
            y,
            cv=folds,
            scoring=("accuracy", "f1", "roc_auc"),
            return_train_score=True,
        )
        row = {m: float(scores[f"test_{m}"].mean()) for m in ("accuracy", "f1", "roc_auc")}
        row |= {f"train_{m}": float(scores[f"train_{m}"].mean()) for m in ("accuracy", "roc_auc")}
        row |= {f"gap_{m}": row[f"train_{m}"] - row[m] for m in ("accuracy", "roc_auc")}
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def predict_frame(pipeline: Pipeline, df: pd.DataFrame) -> pd.DataFrame:
    """Predictions for a loan table: `prediction` (Y/N) and `probability` of approval."""
    proba = pipeline.predict_proba(df[list(FEATURES)])[:, 1]
    return pd.DataFrame({"prediction": np.where(proba >= 0.5, "Y", "N"), "probability": proba.round(4)}, index=df.index)


# --------------------------------------------------------------------------------------------
# Figures (plotly; pages only display them)
# --------------------------------------------------------------------------------------------


def confusion_matrix_figure(evaluation: Evaluation, lang: str) -> go.Figure:
    """Heatmap of the confusion matrix with counts, rows = truth, columns = prediction."""
    labels = [translate("model.rejected", lang), translate("model.approved", lang)]
    cm = evaluation.confusion
    fig = go.Figure(
        go.Heatmap(
            z=cm,
            x=labels,
            y=labels,
            colorscale="Blues",
            showscale=False,
            text=cm,
            texttemplate="%{text}",
            textfont={"size": 18},
            hovertemplate=translate("model.cm_hover", lang) + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=translate("model.cm_title", lang),
        xaxis_title=translate("model.predicted", lang),
        yaxis_title=translate("model.actual", lang),
        yaxis_autorange="reversed",
        height=340,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return localize_figure(fig, lang)


def roc_figure(evaluation: Evaluation, lang: str) -> go.Figure:
    """ROC curve with its AUC and the chance diagonal."""
    fpr, tpr = evaluation.roc
    auc = evaluation.metrics["roc_auc"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"AUC = {number(auc, lang, 3)}", line={"width": 3}))
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=translate("model.chance", lang),
            line={"dash": "dash", "color": "gray"},
        )
    )
    fig.update_layout(
        title=translate("model.roc_title", lang),
        xaxis_title=translate("model.fpr", lang),
        yaxis_title=translate("model.tpr", lang),
        height=340,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"x": 0.55, "y": 0.1},
    )
    return localize_figure(fig, lang)


def metrics_table(evaluation: Evaluation, lang: str) -> pd.DataFrame:
    """Model vs majority-class baseline, one row per metric (for display)."""
    return pd.DataFrame(
        {
            translate("model.metric", lang): [translate(f"model.metric_{m}", lang) for m in METRIC_NAMES],
            translate("model.this_model", lang): [evaluation.metrics[m] for m in METRIC_NAMES],
            translate("model.baseline", lang): [evaluation.baseline[m] for m in METRIC_NAMES],
        }
    )


def training_code(model_name: str, params: dict, test_size: float = 0.2, seed: int = DEFAULT_SEED) -> str:
    """The plain scikit-learn code equivalent to `train_model(...)`, ready to copy."""
    estimator = {
        "logistic_regression": (
            "from sklearn.linear_model import LogisticRegression",
            "LogisticRegression({args}max_iter=1000, random_state={seed})",
        ),
        "decision_tree": (
            "from sklearn.tree import DecisionTreeClassifier",
            "DecisionTreeClassifier({args}random_state={seed})",
        ),
        "random_forest": (
            "from sklearn.ensemble import RandomForestClassifier",
            "RandomForestClassifier({args}random_state={seed}, n_jobs=-1)",
        ),
        "gradient_boosting": (
            "from sklearn.ensemble import HistGradientBoostingClassifier",
            "HistGradientBoostingClassifier({args}random_state={seed})",
        ),
    }[model_name]
    args = "".join(f"{k}={v!r}, " for k, v in clean_params(model_name, params).items())
    return f"""import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import classification_report, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
{estimator[0]}

df = pd.read_csv("data/loan.csv")
numeric = {list(NUMERIC_FEATURES)!r}
categorical = {list(CATEGORICAL_FEATURES)!r}
X, y = df[numeric + categorical], (df["Loan_Status"] == "Y").astype(int)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size={test_size}, random_state={seed}, stratify=y
)

preprocess = ColumnTransformer([
    ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("scale", StandardScaler())]), numeric),
    ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("encode", OneHotEncoder(handle_unknown="ignore"))]), categorical),
])
pipeline = Pipeline([("preprocess", preprocess),
                     ("model", {estimator[1].format(args=args, seed=seed)})])
pipeline.fit(X_train, y_train)

print(classification_report(y_test, pipeline.predict(X_test)))
print("ROC-AUC:", roc_auc_score(y_test, pipeline.predict_proba(X_test)[:, 1]))
print("Majority baseline accuracy:", max(y_test.mean(), 1 - y_test.mean()))
"""
