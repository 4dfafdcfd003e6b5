"""core/tracking reaches MLflow through MlflowClient(tracking_uri): no global state set on every call."""

from __future__ import annotations

import pytest
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.settings import get_settings

pytestmark = pytest.mark.usefixtures("mlflow_store")


def test_calls_leave_mlflow_global_state_alone_and_the_experiment_id_is_remembered(monkeypatch) -> None:
    import mlflow
    from mlflow import MlflowClient

    data = generate_loan_data()
    first = tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "ana")  # sets the URI, once
    assert mlflow.get_tracking_uri() == get_settings().mlflow_tracking_uri

    changes: list[tuple] = []
    lookups: list[str] = []
    monkeypatch.setattr(mlflow, "set_tracking_uri", lambda *a, **k: changes.append(("uri", *a)))
    monkeypatch.setattr(mlflow, "set_experiment", lambda *a, **k: changes.append(("experiment", *a)))
    original = MlflowClient.get_experiment_by_name
    monkeypatch.setattr(
        MlflowClient, "get_experiment_by_name", lambda self, name: lookups.append(name) or original(self, name)
    )

    second = tracking.train_and_log(data, "decision_tree", {"max_depth": 3}, "ana")
    assert set(tracking.search_runs()["run_id"]) == {first.run_id, second.run_id}
    tracking.compare_runs([first.run_id, second.run_id])
    tracking.run_detail(first.run_id, "en")
    tracking.mark_best_run(second.run_id, "ana")
    version = tracking.register_run_model(second.run_id, "ana").version
    tracking.set_alias("staging", version, "ana")
    tracking.promote_staging("ana")
    assert tracking.aliases() == {"staging": 1, "production": 1} and tracking.list_versions()[0].run_id == second.run_id
    assert tracking.production_history()[0]["version"] == 1
    assert tracking.experiment_id() == tracking.experiment_id()

    assert changes == []  # neither the tracking URI nor the experiment was set again
    assert lookups == []  # the experiment id came from the cache, not from the store
