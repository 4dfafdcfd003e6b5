"""Chapter V work-based check over real MLflow state: the learner's own nested runs and signed models."""

from __future__ import annotations

import mlflow
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from workbench.chapters.ch05_mlflow.own_runs import check_own_nested_runs
from workbench.core import tracking
from workbench.core.data import generate_loan_data, split_features_target
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

pytestmark = pytest.mark.usefixtures("mlflow_store")


def _ctx(learner: str = "ana", lang: str = "en") -> CheckContext:
    return CheckContext(learner, lang, get_settings())


def _learner_script(learner: str, *, settings: list[dict], signed: bool = True, nested: bool = True) -> None:
    """What a learner writes: plain scikit-learn and plain MLflow, numeric columns only, a loop of nested runs."""
    X, y = split_features_target(generate_loan_data(120, seed=1))
    X = X.select_dtypes("number").fillna(0).astype("float64")
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    mlflow.set_experiment(tracking.EXPERIMENT)
    with mlflow.start_run(run_name="my-search"):
        mlflow.set_tag("learner", learner)
        for params in settings:
            with mlflow.start_run(run_name=str(params), nested=nested):
                mlflow.set_tag("learner", learner)
                mlflow.log_params(params)
                model = (DecisionTreeClassifier if "max_depth" in params else LogisticRegression)(**params).fit(X, y)
                kwargs = {"input_example": X.head(2)} if signed else {}
                mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle", **kwargs)


def test_nothing_before_the_work_and_the_page_grid_search_does_not_count() -> None:
    assert not check_own_nested_runs(_ctx()).passed
    data = generate_loan_data(120, seed=2)
    tracking.grid_search(data, "ana", {"decision_tree": [{"max_depth": 2}, {"max_depth": 3}]})
    result = check_own_nested_runs(_ctx())
    assert not result.passed and "nested=True" in result.missing[0]


def test_unsigned_models_and_a_single_setting_are_named() -> None:
    _learner_script("ana", settings=[{"max_depth": 2}, {"max_depth": 2}], signed=False)
    result = check_own_nested_runs(_ctx())
    assert not result.passed
    assert any("only 1 different setting" in m for m in result.missing)
    assert any("no model with a signature" in m and "{'max_depth': 2}" in m for m in result.missing)


def test_own_nested_signed_runs_pass_and_the_signature_is_enforced() -> None:
    _learner_script("bob", settings=[{"max_depth": 2}, {"C": 0.5}])  # someone else's work does not count
    assert not check_own_nested_runs(_ctx("ana")).passed
    _learner_script("ana", settings=[{"max_depth": 2}, {"C": 0.5}])
    result = check_own_nested_runs(_ctx("ana", "fr"))
    assert result.passed, result.missing
    assert "« my-search »" in result.detail and "2 runs enfants" in result.detail
    assert "refuse une demande sans la colonne" in result.detail and "« ? »" not in result.detail
    assert len(result.evidence["children"]) == 2
