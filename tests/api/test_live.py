"""The API as a real uvicorn process: load without errors, alias moves picked up, fuzzing with schemathesis."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.loadtest import json_bodies, run_load
from workbench.core.settings import get_settings

from tests.api.conftest import ROW, wait_until
from tests.conftest import REPO_ROOT


def test_sixteen_clients_times_five_hundred_requests_without_error(live_api) -> None:
    from workbench.core.api_client import sample_applications

    result = run_load(f"{live_api}/predict", json_bodies(sample_applications(200)), 16 * 500, 16)
    assert result.errors == 0
    assert result.statuses == {200: 8000}
    assert result.percentile(50) < 1000


def test_alias_move_is_picked_up_without_a_failed_request(live_api) -> None:
    data = generate_loan_data()
    learner = get_settings().learner
    first = tracking.train_and_log(data, "logistic_regression", {"C": 1.0}, learner)
    second = tracking.train_and_log(data, "decision_tree", {"max_depth": 3}, learner)
    for run in (first, second):
        tracking.register_run_model(run.run_id, learner)
    tracking.set_alias("production", 1, learner)
    assert wait_until(lambda: requests.get(f"{live_api}/model", timeout=5).json()["version"] == "1", timeout=60)
    info = requests.get(f"{live_api}/model", timeout=5).json()
    assert info["source"] == "registry" and info["alias"] == "production" and info["run_id"] == first.run_id

    codes: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(f"{live_api}/predict", json=ROW, timeout=10)
                codes.append(response.status_code)
                if response.ok:
                    versions.add(response.json()["model_version"])

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        tracking.set_alias("production", 2, learner)
        assert wait_until(lambda: "2" in versions, timeout=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert set(codes) == {200} and len(codes) > 20
    assert versions == {"1", "2"}
    assert requests.post(f"{live_api}/reload", timeout=30).json()["version"] == "2"


def test_schemathesis_finds_no_server_error(live_api, tmp_path: Path) -> None:
    """Fuzzing, including non-finite numbers (NaN, Infinity, 1e999) that schemathesis alone never sends."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live_api}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "60",
        "--generation-deterministic",
        "--request-timeout",
        "20",
        "--workers",
        "2",
    ]
    log = tmp_path / "non-finite.log"
    env = dict(
        os.environ, SCHEMATHESIS_HOOKS="tests.api.schemathesis_hooks", NONFINITE_LOG=str(log), PYTHONPATH=str(REPO_ROOT)
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Server error" not in result.stdout and "Tested: 8" in result.stdout, result.stdout[-3000:]
    sent = log.read_text().splitlines()
    # the hook rewrites about half the bodies it sees (a random draw): enough to send each kind more than once
    assert len(sent) >= 10 and {line.split("=")[1] for line in sent} >= {"NaN", "Infinity"}, sent


@pytest.mark.parametrize("path", ["/predict", "/predict_status"])
def test_live_validation_error(live_api, path) -> None:
    response = requests.post(f"{live_api}{path}", json={**ROW, "Credit_History": "yes"}, timeout=10)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Credit_History"]
