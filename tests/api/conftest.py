"""API test fixtures: a TestClient on an app with a known model, and a real uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from workbench.settings import Settings, get_settings

from tests.conftest import REPO_ROOT, free_port

ROW = {
    "Gender": "Male", "Married": "Yes", "Dependents": "0", "Education": "Graduate", "Self_Employed": "No",
    "ApplicantIncome": 5849, "CoapplicantIncome": 0, "LoanAmount": 128, "Loan_Amount_Term": 360,
    "Credit_History": 1, "Property_Area": "Urban",
}  # fmt: skip


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


@pytest.fixture
def live_api(isolated_state) -> Iterator[str]:
    """A real `python -m workbench.api` process on a free port; yields its base URL."""
    import urllib.request

    port = free_port()
    env = dict(os.environ, WORKBENCH_API_PORT=str(port), WORKBENCH_API_POLL_SECONDS="0.5")
    log = (isolated_state.parent / "api.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.api", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        assert wait_until(healthy, timeout=120), (isolated_state.parent / "api.log").read_text()[-3000:]
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(autouse=True)
def _registry(mlflow_store: str) -> str:
    """Every API test has its own, already migrated, MLflow store (empty registry)."""
    return mlflow_store
