"""How the API serves a model: compiled (checked against the pipeline at load time), micro-batched, or
plain, and /model says which and why. Real registry models built with plain scikit-learn."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.base import BaseEstimator, ClassifierMixin
from workbench.api import create_app
from workbench.api.batching import MicroBatcher
from workbench.api.models import API_SCHEMA, ModelManager, as_frame, choose_serving, generated_rows
from workbench.core import tracking

from tests.api.conftest import ROW, api_settings, learner_pipeline, log_learner_model


def _records(n: int = 40) -> list[dict]:
    return generated_rows(n, seed=11)


@pytest.mark.parametrize(
    ("kind", "path", "step"),
    [
        ("logistic_regression", "compiled", None),
        ("random_forest", "compiled", None),
        ("knn", "batched", "classifier (KNeighborsClassifier)"),
    ],
)
def test_learner_models_serve_on_their_path_with_the_pipelines_answers(kind, path, step) -> None:
    version, pipeline = log_learner_model(kind)
    tracking.set_alias("production", int(version), "t")
    manager = ModelManager(api_settings())
    with TestClient(create_app(api_settings(), manager)) as client:
        info = client.get("/model").json()
        assert info["version"] == version and info["serving"]["path"] == path
        assert info["serving"]["unsupported_step"] == step
        assert info["fast_path"] is (path == "compiled")
        if step:
            assert step in info["serving"]["reason"] and "micro-batching" in info["serving"]["reason"]
            assert "preprocessing is compiled" in info["serving"]["reason"]
        else:
            assert "same answers as the pipeline" in info["serving"]["reason"]
        rows = [ROW, *_records(20)]
        answers = client.post("/predict/batch", json=rows).json()["predictions"]
        single = [client.post("/predict", json=row).json()["probability"] for row in rows[:5]]
    expected = pipeline.predict_proba(as_frame(rows))[:, 1]
    assert [a["probability"] for a in answers] == pytest.approx(np.round(expected, 6), abs=1e-9)
    assert single == pytest.approx(np.round(expected[:5], 6), abs=1e-9)


def test_a_compiled_model_that_disagrees_is_not_used(monkeypatch) -> None:
    """The load-time check: a compiled model off by more than 1e-9 anywhere is dropped, the pipeline serves."""
    from workbench.api import models

    pipeline, _ = learner_pipeline()
    other, _ = learner_pipeline("random_forest")
    real = models.compile_pipeline
    monkeypatch.setattr(models, "compile_pipeline", lambda p, schema: real(other, schema))
    manager = ModelManager(api_settings())
    compiled, serving, _ = choose_serving(pipeline, manager.reference())
    assert compiled is None and serving.path == "batched"
    assert "differs from the pipeline" in serving.reason


def test_the_check_covers_rows_with_missing_values(monkeypatch) -> None:
    """A compiled model right on complete rows but wrong on missing values is caught too."""
    from workbench.api import models

    pipeline, _ = learner_pipeline()
    real = models.compile_pipeline

    def wrong_on_missing(p, schema):
        compiled = real(p, schema)
        right = compiled.predict_proba

        class Wrong:
            model = compiled.model

            def predict_proba(self, rows):
                out = right(rows)
                return out + np.array([0.01 if any(v is None for v in r.values()) else 0.0 for r in rows])

        return Wrong()

    monkeypatch.setattr(models, "compile_pipeline", wrong_on_missing)
    compiled, serving, _ = choose_serving(pipeline, ModelManager(api_settings()).reference())
    assert compiled is None and "differs" in serving.reason


class BatchDependent(ClassifierMixin, BaseEstimator):
    """A model whose answer for a row depends on the other rows of the call (not batchable)."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        income = np.asarray(X["ApplicantIncome"], dtype=float)
        p = 1 / (1 + np.exp(-(income - income.mean()) / 1000))
        return np.column_stack([1 - p, p])


def test_a_model_whose_answers_depend_on_the_batch_is_served_plain() -> None:
    model = BatchDependent().fit(None, None)
    compiled, serving, _ = choose_serving(model, ModelManager(api_settings()).reference())
    assert compiled is None and serving.path == "plain"
    assert serving.unsupported_step == "model (BatchDependent)" and "changes with the other rows" in serving.reason


def test_the_fallback_model_is_compiled(client) -> None:
    info = client.get("/model").json()
    assert info["serving"]["path"] == "compiled" and info["serving"]["unsupported_step"] is None
    assert info["serving"]["batching"]["calls"] == 0


def test_a_failing_compiled_model_lets_the_pipeline_answer(client) -> None:
    import dataclasses

    manager = client.app.state.manager

    class Broken:
        def predict_proba(self, rows):
            raise IndexError("compiler bug")

    manager._set(dataclasses.replace(manager.model, compiled=Broken()))
    expected = manager.model.pipeline.predict_proba(as_frame([ROW]))[0, 1]
    assert client.post("/predict", json=ROW).json()["probability"] == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------------------------------
# The micro-batcher itself
# --------------------------------------------------------------------------------------------------


class Counting:
    """A slow predict that records the size of each call; fails on rows with a negative income."""

    def __init__(self, seconds: float = 0.005) -> None:
        self.calls: list[int] = []
        self.seconds = seconds

    def __call__(self, rows: list[dict]) -> np.ndarray:
        import time

        self.calls.append(len(rows))
        time.sleep(self.seconds)
        incomes = np.array([row["ApplicantIncome"] for row in rows], dtype=float)
        if (incomes < 0).any():
            raise ValueError("negative income")
        return incomes / 1000


def test_concurrent_requests_share_calls_and_keep_their_own_answers() -> None:
    predict, batcher = Counting(), MicroBatcher(max_rows=8)

    async def main():
        return await asyncio.gather(*[batcher.predict("m", predict, [{"ApplicantIncome": i}]) for i in range(40)])

    results = asyncio.run(main())
    batcher.close()
    assert [float(r[0]) for r in results] == [i / 1000 for i in range(40)]
    assert max(predict.calls) <= 8 and len(predict.calls) < 40 and sum(predict.calls) == 40
    assert batcher.stats.requests == 40 and batcher.stats.requests_per_call > 1


def test_one_bad_request_does_not_fail_the_others() -> None:
    predict, batcher = Counting(), MicroBatcher()

    async def main():
        rows = [[{"ApplicantIncome": -1 if i == 3 else i}] for i in range(10)]
        return await asyncio.gather(*[batcher.predict("m", predict, r) for r in rows], return_exceptions=True)

    results = asyncio.run(main())
    batcher.close()
    assert isinstance(results[3], ValueError)
    assert [float(r[0]) for i, r in enumerate(results) if i != 3] == [i / 1000 for i in range(10) if i != 3]


def test_a_single_client_waits_for_no_window() -> None:
    predict, batcher = Counting(0.001), MicroBatcher()

    async def main():
        for i in range(20):
            await batcher.predict("m", predict, [{"ApplicantIncome": i}])
            assert batcher.window() == 0.0

    asyncio.run(main())
    batcher.close()
    assert predict.calls == [1] * 20 and batcher.stats.window == 0.0


def test_requests_for_different_models_are_never_mixed() -> None:
    first, second, batcher = Counting(), Counting(), MicroBatcher()

    async def main():
        jobs = [
            batcher.predict(k, p, [{"ApplicantIncome": i}]) for i in range(10) for k, p in (("a", first), ("b", second))
        ]
        return await asyncio.gather(*jobs)

    asyncio.run(main())
    batcher.close()
    assert sum(first.calls) == 10 and sum(second.calls) == 10


def test_the_api_schema_is_the_course_table() -> None:
    values, floats = API_SCHEMA.data([ROW, {**ROW, "LoanAmount": None, "Gender": None}])
    columns = list(as_frame([ROW]).columns)
    assert API_SCHEMA.columns == tuple(columns)
    assert np.isnan(floats[1, columns.index("LoanAmount")]) and floats[0, columns.index("LoanAmount")] == 128
    assert values[0, columns.index("Gender")] == "Male" and values[1, columns.index("Gender")] != "Male"
