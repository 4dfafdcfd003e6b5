"""Which model the API serves when the registry misbehaves or offers a model that is not safe to load.

Real MLflow store and real models; a registry failure is injected at the boundary (`tracking.alias_version`)."""

from __future__ import annotations

import threading
import time

import pytest
from workbench.api.models import ModelManager
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.settings import get_settings

from tests.api.conftest import ROW, api_settings, log_learner_model, log_pickle_model


def _registered(n: int = 1) -> list[int]:
    learner = get_settings().learner
    versions = []
    for i in range(n):
        run = tracking.train_and_log(generate_loan_data(), "logistic_regression", {"C": 1.0 + i}, learner)
        versions.append(tracking.register_run_model(run.run_id, learner).version)
    return versions


def test_a_registry_failure_keeps_the_last_good_model(monkeypatch, caplog) -> None:
    (version,) = _registered()
    tracking.set_alias("production", version, "t")
    manager = ModelManager(api_settings())
    assert manager.model.version == str(version) and manager.model.source == "registry"

    def unreachable(*args, **kwargs):
        raise tracking.RegistryUnavailable("registry_unavailable", reason="OperationalError: database is locked")

    monkeypatch.setattr(tracking, "alias_version", unreachable)
    assert manager.refresh() is False and manager.refresh(force=True) is False
    assert manager.model.version == str(version) and manager.model.source == "registry"
    assert manager.registry_problem == "OperationalError: database is locked"
    assert any("database is locked" in p for p in manager.problems())
    assert any(r.levelname == "WARNING" and "database is locked" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    manager.refresh()
    assert manager.registry_problem is None and manager.problems() == []


def test_a_removed_alias_keeps_serving_and_says_so() -> None:
    (version,) = _registered()
    tracking.set_alias("production", version, "t")
    manager = ModelManager(api_settings())
    assert manager.model.version == str(version)
    tracking.delete_alias("production", "t")
    manager.refresh()
    assert manager.model.version == str(version) and manager.alias_missing
    assert any("no longer points" in p for p in manager.problems())


def test_start_up_is_bounded_then_the_registry_model_arrives(monkeypatch) -> None:
    (version,) = _registered()
    tracking.set_alias("production", version, "t")
    real = tracking.alias_version
    release = threading.Event()

    def slow(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(tracking, "alias_version", slow)
    manager = ModelManager(api_settings(api_startup_seconds=1.0, api_poll_seconds=0.0))
    start = time.monotonic()
    manager.start()
    assert time.monotonic() - start < 10  # bounded: the fallback was trained after 1 s, not after the registry
    assert manager.model.source == "fallback" and "no answer within 1 s" in manager.model.source_detail
    assert manager.problems()
    release.set()  # the registry answers: the first load finishes in the background and swaps the model in
    deadline = time.monotonic() + 30
    while manager.model.source != "registry" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert manager.model.source == "registry" and manager.model.version == str(version)
    assert manager.problems() == []


def test_concurrent_reloads_share_one_load(monkeypatch) -> None:
    manager = ModelManager(api_settings())
    manager.model  # noqa: B018 - first load (fallback)
    calls = []
    real = manager._refresh_locked

    def slow_refresh(force):
        calls.append(force)
        time.sleep(1.0)
        return real(force)

    monkeypatch.setattr(manager, "_refresh_locked", slow_refresh)
    threads = [threading.Thread(target=manager.refresh, args=(True,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_a_pickle_model_moved_to_production_is_refused_and_never_unpickled(tmp_path) -> None:
    good, _ = log_learner_model()
    tracking.set_alias("production", int(good), "t")
    manager = ModelManager(api_settings())
    assert manager.model.version == good
    marker = tmp_path / "payload-ran"
    bad = log_pickle_model(marker)
    tracking.set_alias("production", int(bad), "t")
    assert manager.refresh() is False
    assert not marker.exists()
    assert manager.model.version == good  # the last good version keeps serving
    assert manager.refused.version == bad and manager.refused.reason == "pickle_format"
    assert manager.refused.params == {"format": "cloudpickle"}
    assert manager.refresh() is False and manager.refused.version == bad  # not retried at every poll
    assert manager.model.predict_proba([ROW])[0] > 0.5


def test_a_pickle_model_is_loaded_only_with_the_explicit_opt_in(tmp_path) -> None:
    marker = tmp_path / "payload-ran"
    bad = log_pickle_model(marker)
    tracking.set_alias("production", int(bad), "t")
    refusing = ModelManager(api_settings())
    assert refusing.model.source == "fallback" and "was refused" in refusing.model.source_detail
    assert not marker.exists()
    trusting = ModelManager(api_settings(allow_pickle_models=True))
    trusting.model  # noqa: B018 - the opt-in unpickles the file: the payload runs
    assert marker.exists()


@pytest.mark.parametrize("kind", ["logistic_regression", "random_forest"])
def test_a_learner_built_model_is_served(kind) -> None:
    import pandas as pd

    version, pipeline = log_learner_model(kind)
    tracking.set_alias("production", int(version), "t")
    manager = ModelManager(api_settings())
    model = manager.model
    assert model.source == "registry" and model.version == version and manager.refused is None
    rows = generate_loan_data(50, seed=3).drop(columns=["Loan_ID", "Loan_Status"]).astype(object)
    records = rows.where(rows.notna(), None).to_dict("records")
    expected = pipeline.predict_proba(
        pd.DataFrame(records).astype(
            {
                c: float
                for c in ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History")
            }
        )
    )[:, 1]
    assert model.predict_proba(records) == pytest.approx(expected, abs=1e-9)


def test_a_model_that_fails_the_smoke_test_is_refused() -> None:
    """A safe file, but a model trained on other columns: it would fail every request, so it never serves."""
    import mlflow
    from sklearn.linear_model import LogisticRegression

    (good,) = _registered()
    tracking.set_alias("production", good, "t")
    manager = ModelManager(api_settings())
    assert manager.model.version == str(good)
    other = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    mlflow.set_experiment("other-features")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            other,
            name="model",
            serialization_format="skops",
            skops_trusted_types=["numpy.dtype"],
            registered_model_name=get_settings().model_name,
        )
    tracking.set_alias("production", int(info.registered_model_version), "t")
    assert manager.refresh() is False
    assert manager.refused.reason == "smoke_test" and manager.refused.version == str(info.registered_model_version)
    assert manager.model.version == str(good)
