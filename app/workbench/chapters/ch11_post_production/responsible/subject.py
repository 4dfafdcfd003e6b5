"""The model under review: the learner's registered model (loaded safely) or the course pipeline, with the
held-out applications it is judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from workbench.core.data import TARGET, dataset_hash, split_features_target
from workbench.core.i18n import LocalizedError
from workbench.core.settings import Settings

COURSE_MODEL = "logistic_regression"
DEFAULT_SEED = 42
DEFAULT_TEST_SIZE = 0.2


class ResponsibleError(LocalizedError, ValueError):
    """A review that cannot run on these inputs (`message(lang)` for the learner)."""

    namespace = "responsible"


@dataclass
class Subject:
    """A fitted loan model and the data it is reviewed on (raw course columns; 1 = approved)."""

    model: Any
    source: str  # "registry" or "course"
    label: str  # e.g. "loan-approval v3 @production" or "logistic_regression (course pipeline)"
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    data_hash: str
    version: int | None = None
    aliases: tuple[str, ...] = ()
    run_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    model_name: str = ""  # the registered model (registry subjects): the learner's own in class mode


def split_course(data: pd.DataFrame, test_size: float = DEFAULT_TEST_SIZE, seed: int = DEFAULT_SEED):
    """The course's stratified split of a loan table with its target (as `modeling.train_model` does it).

    Raises:
        ResponsibleError: no `Loan_Status` column, or too few rows of one class to split.
    """
    if TARGET not in data.columns or data[TARGET].isna().all():
        raise ResponsibleError("err_no_target")
    data = data[data[TARGET].notna()]
    X, y = split_features_target(data)
    if len(X) < 40 or y.nunique() < 2 or y.value_counts().min() < 5:
        raise ResponsibleError("err_too_few", n=len(X))
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)


def _number(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def registry_subject(data: pd.DataFrame, settings: Settings, learner: str | None = None) -> Subject | None:
    """The registered model behind `@production` (else the newest version), or None when nothing is registered.

    It is judged on the course split with the run's own seed and test size when the run logged them, so the
    held-out rows are the ones it never saw (a model trained elsewhere may have seen some: the card says so).

    Raises:
        workbench.core.safe_models.ModelRefused: the model could run code when loaded (never unpickled).
    """
    from workbench.core import safe_models, tracking

    try:
        versions = tracking.list_versions(settings, learner=learner)
    except Exception:  # an unreachable or broken registry: review the course pipeline instead
        return None
    if not versions:
        return None
    chosen = next((v for v in versions if "production" in v.aliases), versions[0])
    model_name = settings.learner_model_name(learner) if learner is not None else settings.model_name
    model = safe_models.load_model_uri(f"models:/{model_name}/{chosen.version}", settings)
    try:
        run = tracking.client(settings).get_run(chosen.run_id) if chosen.run_id else None
    except Exception:  # the run was deleted: the version stays reviewable
        run = None
    params = dict(run.data.params) if run else {}
    tags = dict(run.data.tags) if run else {}
    seed = int(_number(params.get("seed"), DEFAULT_SEED))
    test_size = _number(params.get("test_size"), DEFAULT_TEST_SIZE)
    if not 0.05 <= test_size <= 0.5:
        test_size = DEFAULT_TEST_SIZE
    X_train, X_test, y_train, y_test = split_course(data, test_size, seed)
    safe_models.check_predicts(model, X_test.head(5))
    alias_text = " ".join(f"@{a}" for a in chosen.aliases)
    return Subject(
        model=model,
        source="registry",
        label=f"{model_name} v{chosen.version} {alias_text}".strip(),
        model_name=model_name,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        data_hash=dataset_hash(data),
        version=chosen.version,
        aliases=chosen.aliases,
        run_id=chosen.run_id,
        params=params,
        metrics=dict(chosen.metrics),
        tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
    )


def course_subject(data: pd.DataFrame, model_name: str = COURSE_MODEL) -> Subject:
    """The course pipeline trained on the course split (when the learner has registered nothing)."""
    from workbench.core.modeling import build_pipeline, clean_params

    X_train, X_test, y_train, y_test = split_course(data)
    pipeline = build_pipeline(model_name, seed=DEFAULT_SEED).fit(X_train, y_train)
    from workbench.core.modeling import compute_metrics

    score = pipeline.predict_proba(X_test)[:, 1]
    return Subject(
        model=pipeline,
        source="course",
        label=model_name,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        data_hash=dataset_hash(data),
        params={k: str(v) for k, v in {"model": model_name, **clean_params(model_name, None)}.items()}
        | {"seed": str(DEFAULT_SEED), "test_size": str(DEFAULT_TEST_SIZE)},
        metrics=compute_metrics(y_test.to_numpy(), (score >= 0.5).astype(int), score),
    )


def load_subject(data: pd.DataFrame, settings: Settings, learner: str | None = None) -> Subject:
    """The learner's registered model when there is one, else the course pipeline.

    Raises:
        ResponsibleError: the data cannot be reviewed (no target, too few rows).
        workbench.core.safe_models.ModelRefused: the registered model is refused (shown, never swapped silently).
    """
    return registry_subject(data, settings, learner) or course_subject(data)
