"""The one way the workbench loads a registry model: skops with our reviewed types, nothing that runs code."""

from __future__ import annotations

import subprocess
import sys

import pytest
import skops.io as sio
from workbench.core import safe_models, tracking
from workbench.core.safe_models import ModelRefused, load_model_dir

from tests.api.conftest import Payload, learner_pipeline, log_learner_model, log_pickle_model

pytestmark = pytest.mark.usefixtures("mlflow_store")


def _save(pipeline, path, **kwargs):
    import mlflow.sklearn

    mlflow.sklearn.save_model(pipeline, path, pip_requirements=["scikit-learn"], **kwargs)
    return path


@pytest.fixture(scope="module")
def pipeline():
    return learner_pipeline()[0]


def test_a_pickle_payload_runs_with_mlflows_loader_and_never_with_ours(tmp_path, pipeline) -> None:
    import pickle

    folder = _save(pipeline, tmp_path / "model", serialization_format="cloudpickle")
    marker = tmp_path / "payload-ran"
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(ModelRefused) as info:
        load_model_dir(folder)
    assert info.value.key == "pickle_format" and info.value.params == {"format": "cloudpickle"}
    assert 'serialization_format="skops"' in info.value.message("fr") and not marker.exists()
    # The control: the payload is real. MLflow's default loader (in another process) runs it.
    subprocess.run(
        [sys.executable, "-c", "import sys, mlflow.sklearn; mlflow.sklearn.load_model(sys.argv[1])", str(folder)],
        capture_output=True,
        timeout=120,
    )
    assert marker.exists()


def test_the_trusted_list_inside_the_model_is_ignored(tmp_path, pipeline) -> None:
    """A skops file whose MLmodel trusts os.system: MLflow's loader accepts it, ours refuses it."""
    import os

    import mlflow.sklearn
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    smuggled = Pipeline([("shell", FunctionTransformer(os.system)), ("model", pipeline)])
    folder = _save(
        smuggled,
        tmp_path / "model",
        serialization_format="skops",
        skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(smuggled)),
    )
    assert mlflow.sklearn.load_model(str(folder)) is not None  # MLflow trusts the model's own list
    with pytest.raises(ModelRefused) as info:
        load_model_dir(folder)
    assert info.value.key == "untrusted_types" and "system" in info.value.params["types"]


def test_not_a_scikit_learn_model_and_unreadable_folders(tmp_path) -> None:
    pyfunc = tmp_path / "pyfunc"
    pyfunc.mkdir()
    (pyfunc / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n"
    )
    with pytest.raises(ModelRefused) as info:
        load_model_dir(pyfunc)
    assert info.value.key == "not_sklearn" and info.value.params == {"flavors": "python_function"}
    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "MLmodel").write_text(
        "flavors:\n  sklearn:\n    pickled_model: ../../etc/passwd\n    serialization_format: skops\n"
    )
    with pytest.raises(ModelRefused, match="outside the model folder"):
        load_model_dir(escape)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "MLmodel").write_text(
        "flavors:\n  sklearn:\n    pickled_model: model.skops\n    serialization_format: skops\n"
    )
    (junk / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ModelRefused) as info:
        load_model_dir(junk)
    assert info.value.key == "unreadable"
    with pytest.raises(ModelRefused) as info:
        load_model_dir(tmp_path / "missing")
    assert info.value.key == "unreadable"


def test_the_opt_in_loads_pickle_models(tmp_path, pipeline) -> None:
    folder = _save(pipeline, tmp_path / "model", serialization_format="cloudpickle")
    assert load_model_dir(folder, allow_pickle=True).predict_proba is not None


def _learner_models():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
        VotingClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic_regression": LogisticRegression(max_iter=500),
        "random_forest": RandomForestClassifier(n_estimators=5),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=5),
        "knn_kd_tree": KNeighborsClassifier(algorithm="kd_tree"),
        "svc": SVC(probability=True),
        "mlp": MLPClassifier(max_iter=20),
        "calibrated": CalibratedClassifierCV(LogisticRegression(max_iter=500)),
        "voting": VotingClassifier(
            [("lr", LogisticRegression(max_iter=500)), ("dt", DecisionTreeClassifier())], voting="soft"
        ),
    }


@pytest.mark.parametrize("name", list(_learner_models()))
def test_models_a_learner_plausibly_builds_are_trusted(name, tmp_path) -> None:
    import warnings

    from sklearn.pipeline import Pipeline

    base, X = learner_pipeline()
    y = base.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Pipeline(
            [("preprocessing", base.named_steps["preprocessing"]), ("classifier", _learner_models()[name])]
        ).fit(X, y)
    folder = _save(
        model,
        tmp_path / name,
        serialization_format="skops",
        skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(model)),
    )
    loaded = load_model_dir(folder)
    assert (loaded.predict_proba(X.head(20)) == model.predict_proba(X.head(20))).all()


def test_load_model_uri_serves_a_registered_learner_model_and_refuses_pickle(tmp_path) -> None:
    version, pipeline = log_learner_model()
    loaded = safe_models.load_model_uri(f"models:/loan-approval/{version}")
    _, X = learner_pipeline()
    assert (loaded.predict_proba(X.head(10)) == pipeline.predict_proba(X.head(10))).all()
    marker = tmp_path / "payload-ran"
    bad = log_pickle_model(marker)
    tracking.set_alias("production", int(bad), "t")
    with pytest.raises(ModelRefused):
        tracking.load_model("production")  # chapter V, the CI/CD gate and the A/B tests go through here
    assert not marker.exists()


def test_the_ci_gate_and_the_ab_lab_refuse_a_pickle_production_model(tmp_path) -> None:
    from workbench.chapters.ch08_cicd import delivery
    from workbench.chapters.ch11_post_production import ab_tests
    from workbench.core.settings import get_settings

    settings = get_settings()
    marker = tmp_path / "payload-ran"
    bad = int(log_pickle_model(marker))
    good, _ = log_learner_model()
    tracking.set_alias("production", bad, "t")
    tracking.set_alias("challenger", int(good), "t")
    with pytest.raises(delivery.PipelineError) as info:
        delivery.production_scores(settings, delivery.evaluation_data())
    assert info.value.key == "error_production_refused" and "cloudpickle" in info.value.message("en")
    with pytest.raises(ModelRefused):
        ab_tests.registry_ab_models(settings)
    assert not marker.exists()


def test_check_predicts_refuses_what_is_not_a_probability() -> None:
    import numpy as np
    import pandas as pd

    class Constant:
        def __init__(self, value):
            self.value = value

        def predict_proba(self, rows):
            return np.tile(self.value, (len(rows), 1))

    rows = pd.DataFrame({"x": [1, 2, 3]})
    safe_models.check_predicts(Constant([0.3, 0.7]), rows)
    for bad in ([0.5], [np.nan, 1.0], [-0.5, 1.5]):
        with pytest.raises(ModelRefused) as info:
            safe_models.check_predicts(Constant(bad), rows)
        assert info.value.key == "smoke_test"
