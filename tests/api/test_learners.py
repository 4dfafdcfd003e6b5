"""Class mode: one shared API serves each learner's own `@production`, against a real MLflow registry."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from workbench.api import create_app
from workbench.api.learners import learner_token
from workbench.api.models import as_frame
from workbench.core.settings import get_settings

from tests.api.conftest import ROW, api_settings, learner_pipeline

OTHER = {**ROW, "Credit_History": 0, "ApplicantIncome": 2000, "Property_Area": "Rural"}


def register(learner: str, kind: str):
    """Log `kind` as `learner`'s own registered model (plain scikit-learn + skops) with `@production`."""
    import mlflow
    import skops.io as sio
    from mlflow import MlflowClient

    settings = api_settings(mode="class")
    pipeline, X = learner_pipeline(kind)
    name = settings.learner_model_name(learner)
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    mlflow.set_experiment(f"loan-{kind}")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(pipeline)),
            registered_model_name=name,
            input_example=X.head(2),
        )
    MlflowClient().set_registered_model_alias(name, "production", info.registered_model_version)
    return pipeline


def expected(pipeline, row: dict) -> float:
    return round(float(pipeline.predict_proba(as_frame([row]))[0, 1]), 6)


def test_each_learner_route_serves_that_learners_model_with_an_lru() -> None:
    alice, bob = register("Alice Martin", "logistic_regression"), register("bob", "random_forest")
    app = create_app(api_settings(mode="class", api_learner_models=1))
    pool = app.state.learners
    with TestClient(app) as client:
        first = client.post("/learners/Alice Martin/predict", json=ROW)
        assert first.status_code == 200, first.text
        assert first.json()["probability"] == pytest.approx(expected(alice, ROW), abs=1e-9)
        assert first.headers["x-model-version"] == "1" and first.headers["x-model-source"] == "registry"
        status = client.post("/learners/bob/predict_status", json=OTHER)
        assert status.json() == {"status": "Approved" if expected(bob, OTHER) >= 0.5 else "Rejected"}
        batch = client.post("/learners/bob/predict/batch", json=[ROW, OTHER]).json()
        assert [p["probability"] for p in batch["predictions"]] == pytest.approx(
            [expected(bob, ROW), expected(bob, OTHER)], abs=1e-9
        )
        assert expected(alice, ROW) != expected(bob, ROW)  # the two learners' models really differ
        assert pool.loaded() == ["bob"] and pool.loads == 2  # LRU of 1: Alice's model was dropped
        again = client.post("/learners/Alice Martin/predict", json=OTHER).json()
        assert again["probability"] == pytest.approx(expected(alice, OTHER), abs=1e-9)
        assert pool.loaded() == ["Alice Martin"] and pool.loads == 3  # loaded again on her next request
        info = client.get("/learners/Alice Martin/model").json()
        assert info["name"] == api_settings(mode="class").learner_model_name("Alice Martin")
        assert info["serving"]["path"] == "compiled" and info["source"] == "registry"
        # Each learner's predictions land in their own window only; the solo window sees none.
        assert client.get("/learners/Alice Martin/recent_inputs").json()["count"] == 2
        assert client.get("/learners/bob/recent_inputs").json()["count"] == 3
        assert client.get("/recent_inputs").json()["count"] == 0
        assert client.post("/predict", json=ROW).json()["model_source"] == "fallback"  # solo route unchanged
        metrics = client.get("/metrics").text
        assert 'endpoint="/learners/{learner}/predict"' in metrics and "Alice" not in metrics


def test_a_learner_without_a_production_model_gets_a_404_naming_them() -> None:
    register("alice", "logistic_regression")
    with TestClient(create_app(api_settings(mode="class"))) as client:
        for path in ("predict", "predict_status"):
            answer = client.post(f"/learners/carol/{path}", json=ROW)
            assert answer.status_code == 404
            assert "'carol'" in answer.json()["detail"]
            assert api_settings(mode="class").learner_model_name("carol") in answer.json()["detail"]
        assert client.get("/learners/carol/model").status_code == 404
        assert client.post("/learners/carol/predict/batch", json=[ROW]).status_code == 404
        assert client.post("/learners/alice/predict", json={**ROW, "Gender": "X"}).status_code == 422


def test_rate_limits_are_per_learner() -> None:
    settings = api_settings(mode="class", api_rate_limit=0.01, api_rate_burst=3)
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/learners/dora/predict", json=ROW).status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]  # no model, but every call counts
        assert client.post("/learners/dora/predict/batch", json=[ROW]).status_code == 429
        assert client.post("/learners/eve/predict", json=ROW).status_code == 404  # another learner: own bucket
        too_big = client.post("/learners/eve/predict/batch", json=[ROW] * 4)
        assert too_big.status_code == 422 and "at most 3 applications" in too_big.text


def test_with_a_token_only_the_app_or_the_learner_may_call_a_learners_routes() -> None:
    settings = api_settings(mode="class", api_admin_token="s3cret")
    with TestClient(create_app(settings)) as client:
        assert client.post("/learners/carol/predict", json=ROW).status_code == 401
        bearer = {"Authorization": f"Bearer {learner_token('s3cret', 'carol')}"}
        assert client.post("/learners/carol/predict", json=ROW, headers=bearer).status_code == 404  # allowed
        assert client.post("/learners/dave/predict", json=ROW, headers=bearer).status_code == 401  # not dave's
        assert client.get("/learners/dave/recent_inputs", headers=bearer).status_code == 401
        app_token = {"Authorization": "Bearer s3cret"}
        assert client.get("/learners/dave/recent_inputs", headers=app_token).status_code == 200


def test_an_exposed_api_without_a_token_refuses_learner_routes() -> None:
    with TestClient(create_app(api_settings(mode="class"), host="0.0.0.0")) as client:
        assert client.post("/learners/carol/predict", json=ROW).status_code == 403


def test_solo_mode_has_no_learner_routes() -> None:
    with TestClient(create_app(api_settings())) as client:
        assert client.post("/learners/alice/predict", json=ROW).status_code == 404
        assert not [p for p in client.get("/openapi.json").json()["paths"] if p.startswith("/learners")]


def test_learner_tokens_differ_per_learner_and_secret() -> None:
    tokens = {learner_token(s, n) for s in ("a", "b") for n in ("carol", "dave", "Carol")}
    assert len(tokens) == 6 and all(len(t) == 64 and np.char.isalnum(t) for t in tokens)


@pytest.mark.parametrize(
    ("mode", "path", "expected"),
    [
        ("class", "/predict", "/learners/Zo%C3%A9%20M%2Fx/predict"),
        ("class", "/recent_inputs?limit=5", "/learners/Zo%C3%A9%20M%2Fx/recent_inputs?limit=5"),
        ("class", "/metrics", "/metrics"),
        ("class", "/health", "/health"),
        ("solo", "/predict", "/predict"),
        ("solo", "/model", "/model"),
    ],
)
def test_api_client_calls_the_learners_own_route_in_class_mode(mode: str, path: str, expected: str) -> None:
    from workbench.core.api_client import learner_path

    settings = api_settings(mode=mode)
    assert learner_path(path, "Zoé M/x", settings) == expected
    assert learner_path(path, None, settings) == path
