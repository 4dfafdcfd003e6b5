"""API test fixtures: a TestClient on an app with a known model, and a real uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from workbench.core.settings import Settings, get_settings

from tests.conftest import REPO_ROOT, free_port

ROW = {
    "Gender": "Male",
    "Married": "Yes",
    "Dependents": "0",
    "Education": "Graduate",
    "Self_Employed": "No",
    "ApplicantIncome": 5849,
    "CoapplicantIncome": 0,
    "LoanAmount": 128,
    "Loan_Amount_Term": 360,
    "Credit_History": 1,
    "Property_Area": "Urban",
}


def api_settings(**overrides) -> Settings:
    """Settings for an in-process API: no registry polling unless asked."""
    return replace(get_settings(), **{"api_poll_seconds": 0.0, **overrides})


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A TestClient on an API serving the fallback model (empty registry)."""
    from workbench.api import create_app

    with TestClient(create_app(api_settings())) as test_client:
        yield test_client


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class ApiProcess:
    """A real `python -m workbench.api` process; `log()` reads what it printed."""

    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path, started: float) -> None:
        self.proc, self.url, self.log_path, self.started = proc, url, log_path, started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_api(isolated_state):
    """Start real API processes with extra environment variables; all are stopped after the test."""
    import urllib.request

    processes: list[ApiProcess] = []

    def start(wait: bool = True, host: str = "127.0.0.1", **env: str) -> ApiProcess:
        port = free_port()
        full_env = dict(os.environ, WORKBENCH_API_PORT=str(port), WORKBENCH_API_POLL_SECONDS="0.5", **env)
        log_path = isolated_state.parent / f"api-{port}.log"
        log = log_path.open("w")
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.api", "--host", host, "--port", str(port), "--log-level", "warning"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        api = ApiProcess(proc, f"http://127.0.0.1:{port}", log_path, started)
        processes.append(api)

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"{api.url}/health", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        if wait:
            assert wait_until(healthy, timeout=120), api.log()[-3000:]
        return api

    yield start
    for api in processes:
        api.proc.terminate()
        try:
            api.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            api.proc.kill()
            api.proc.wait(timeout=20)


@pytest.fixture
def live_api(start_api) -> str:
    """A real `python -m workbench.api` process on a free port; yields its base URL."""
    return start_api().url


@pytest.fixture(autouse=True)
def _registry(mlflow_store: str) -> str:
    """Every API test has its own, already migrated, MLflow store (empty registry)."""
    return mlflow_store


# --------------------------------------------------------------------------------------------------
# Registry models as others make them: a learner with plain scikit-learn + MLflow, an attacker with pickle
# --------------------------------------------------------------------------------------------------

LEARNER_NUMERIC = ["ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History"]
LEARNER_CATEGORICAL = ["Gender", "Married", "Dependents", "Education", "Self_Employed", "Property_Area"]


def learner_pipeline(kind: str = "logistic_regression"):
    """A pipeline as a learner writes it from the course: plain scikit-learn, no workbench code."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = pd.read_csv(REPO_ROOT / "data" / "loan.csv")
    X = data[LEARNER_NUMERIC + LEARNER_CATEGORICAL]
    y = (data["Loan_Status"] == "Y").astype(int)
    preprocessing = ColumnTransformer(
        [
            (
                "num",
                Pipeline([("imputer", SimpleImputer(strategy="median")), ("scaler", StandardScaler())]),
                LEARNER_NUMERIC,
            ),
            (
                "cat",
                Pipeline(
                    [
                        ("imputer", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                LEARNER_CATEGORICAL,
            ),
        ]
    )
    model = (
        LogisticRegression(max_iter=1000)
        if kind == "logistic_regression"
        else RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0)
    )
    return Pipeline([("preprocessing", preprocessing), ("classifier", model)]).fit(X, y), X


def log_learner_model(kind: str = "logistic_regression") -> tuple[str, object]:
    """Log and register the learner's pipeline the documented way (skops + the types it needs). Returns
    (version, pipeline)."""
    import mlflow
    import skops.io as sio

    pipeline, X = learner_pipeline(kind)
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    mlflow.set_experiment("my-loan-model")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(pipeline)),
            registered_model_name=get_settings().model_name,
            input_example=X.head(2),
        )
    return str(info.registered_model_version), pipeline


class Payload:
    """What an attacker puts in a pickle: unpickling calls open(marker, "w"), which creates the file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def log_pickle_model(marker) -> str:
    """Register a real cloudpickle MLflow model whose model.pkl is a payload that would create `marker`."""
    import pickle
    from urllib.parse import unquote, urlparse

    import mlflow

    pipeline, _ = learner_pipeline()
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    mlflow.set_experiment("attacker")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline, name="model", serialization_format="cloudpickle", registered_model_name=get_settings().model_name
        )
    location = mlflow.get_logged_model(info.model_id).artifact_location
    model_file = Path(unquote(urlparse(location).path)) / "model.pkl"
    assert model_file.is_file(), model_file
    model_file.write_bytes(pickle.dumps(Payload(str(marker))))
    return str(info.registered_model_version)
