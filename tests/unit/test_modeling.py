"""Modeling core: pipeline, metrics against scikit-learn, baseline, determinism, figures, code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from workbench.core.data import FEATURES, generate_loan_data, split_features_target
from workbench.core.modeling import (
    MODEL_NAMES,
    MODEL_SPECS,
    build_pipeline,
    clean_params,
    compute_metrics,
    confusion_matrix_figure,
    default_params,
    metrics_table,
    predict_frame,
    roc_figure,
    train_model,
    training_code,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return generate_loan_data()


def test_metrics_match_scikit_learn() -> None:
    y_true = np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 1])
    y_pred = np.array([1, 0, 0, 1, 1, 1, 0, 0, 1, 0])
    y_score = np.array([0.9, 0.2, 0.4, 0.8, 0.6, 0.7, 0.1, 0.3, 0.95, 0.45])
    m = compute_metrics(y_true, y_pred, y_score)
    assert m["accuracy"] == pytest.approx(0.7)
    assert m["precision"] == pytest.approx(skm.precision_score(y_true, y_pred)) == pytest.approx(0.8)
    assert m["recall"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(skm.f1_score(y_true, y_pred))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y_true, y_score))


def test_metrics_with_a_single_class_do_not_crash() -> None:
    m = compute_metrics(np.array([1, 1]), np.array([1, 0]), np.array([0.9, 0.1]))
    assert np.isnan(m["roc_auc"]) and m["recall"] == 0.5


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_every_model_trains_and_beats_chance(data, model_name) -> None:
    result = train_model(data, model_name)
    ev = result.evaluation
    assert ev.n_test == round(0.2 * len(data)) or ev.n_test == len(data) - result.n_train
    assert ev.confusion.sum() == ev.n_test
    assert ev.metrics["roc_auc"] > 0.6
    assert result.params == default_params(model_name)


def test_baseline_is_the_majority_class(data) -> None:
    ev = train_model(data).evaluation
    X, y = split_features_target(data)
    majority_rate = ev.baseline["accuracy"]
    assert majority_rate == pytest.approx(y.mean(), abs=0.03)  # ~69 % approved
    assert ev.baseline["recall"] == 1.0  # always "approved"
    assert ev.baseline["roc_auc"] == 0.5


def test_evaluation_matches_scikit_learn_on_the_same_split(data) -> None:
    from sklearn.model_selection import train_test_split

    result = train_model(data, "logistic_regression", seed=5)
    X, y = split_features_target(data)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.2, random_state=5, stratify=y)
    pred = result.pipeline.predict(X_test)
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y_test, pred))
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y_test, pred))
    cm = skm.confusion_matrix(y_test, pred)
    assert (result.evaluation.confusion == cm).all()


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_training_is_deterministic_given_a_seed(data, model_name) -> None:
    a = train_model(data, model_name, seed=11)
    b = train_model(data, model_name, seed=11)
    assert a.metrics == b.metrics
    X, _ = split_features_target(data)
    np.testing.assert_allclose(a.pipeline.predict_proba(X), b.pipeline.predict_proba(X), atol=1e-12)


def test_pipeline_handles_missing_values_and_unknown_categories(data) -> None:
    pipeline = train_model(data).pipeline
    row = {c: None for c in FEATURES} | {
        "ApplicantIncome": 4000,
        "CoapplicantIncome": 0,
        "Education": "Graduate",
        "Property_Area": "Urban",
    }
    odd = dict(row, Property_Area="Moon")
    out = predict_frame(pipeline, pd.DataFrame([row, odd]))
    assert list(out.columns) == ["prediction", "probability"]
    assert set(out["prediction"]) <= {"Y", "N"}
    assert out["probability"].between(0, 1).all()


def test_hyperparameters_change_the_model(data) -> None:
    shallow = train_model(data, "decision_tree", {"max_depth": 1})
    assert shallow.pipeline.named_steps["model"].get_depth() == 1
    deep = train_model(data, "decision_tree", {"max_depth": 12, "min_samples_leaf": 1})
    assert deep.pipeline.named_steps["model"].get_depth() > 1


def test_clean_params_casts_clips_and_rejects() -> None:
    assert clean_params("random_forest", {"n_estimators": 5000.7, "max_depth": "3"}) == {
        "n_estimators": 300,
        "max_depth": 3,
        "min_samples_leaf": 3,
    }
    assert clean_params("logistic_regression", {"C": 1e-9})["C"] == MODEL_SPECS["logistic_regression"].params[0].low
    with pytest.raises(ValueError, match="no parameter"):
        clean_params("logistic_regression", {"max_depth": 3})
    with pytest.raises(KeyError):
        build_pipeline("svm")


def test_ten_thousand_rows_train_quickly() -> None:
    result = train_model(generate_loan_data(10_000, seed=1), "logistic_regression")
    assert result.n_train == 8_000
    assert result.metrics["accuracy"] > result.evaluation.baseline["accuracy"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_figures_and_table_are_localised(data, lang) -> None:
    ev = train_model(data).evaluation
    cm = confusion_matrix_figure(ev, lang)
    assert cm.data[0].z.sum() == ev.n_test
    assert ("Refusé" if lang == "fr" else "Rejected") in cm.data[0].x
    roc = roc_figure(ev, lang)
    assert roc.data[0].name.startswith("AUC = ")
    table = metrics_table(ev, lang)
    assert table.shape == (5, 3)


def test_training_code_runs_and_reproduces_the_metrics(data, tmp_path, monkeypatch) -> None:
    (tmp_path / "data").mkdir()
    data.to_csv(tmp_path / "data" / "loan.csv", index=False)
    monkeypatch.chdir(tmp_path)
    code = training_code("random_forest", {"n_estimators": 50, "max_depth": 4}, seed=3)
    namespace: dict = {}
    exec(compile(code, "training_code", "exec"), namespace)  # noqa: S102 - our own generated code
    result = train_model(data, "random_forest", {"n_estimators": 50, "max_depth": 4}, seed=3)
    assert skm.roc_auc_score(namespace["y_test"], namespace["pipeline"].predict_proba(namespace["X_test"])[:, 1]) == (
        pytest.approx(result.metrics["roc_auc"])
    )
