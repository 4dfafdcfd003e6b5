"""The API as a real process under hostile input, unsafe models and registry faults (issue 12, point by point)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from workbench.core import tracking
from workbench.core.settings import get_settings

from tests.api.conftest import ROW, log_learner_model, log_pickle_model, wait_until
from tests.conftest import REPO_ROOT, free_port

HEADER = (REPO_ROOT / "data" / "loan.csv").read_text().splitlines()[0]
LINE = (REPO_ROOT / "data" / "loan.csv").read_text().splitlines()[1]


def _health(url: str) -> dict:
    return requests.get(f"{url}/health", timeout=10).json()


# --- 1. non-finite numbers ------------------------------------------------------------------------------


def test_non_finite_numbers_get_a_422_naming_the_field_json_and_csv(start_api) -> None:
    api = start_api()
    json_headers = {"content-type": "application/json"}
    for path in ("/predict", "/predict_status"):
        for token in ("NaN", "Infinity", "-Infinity", "1e999"):
            body = json.dumps({**ROW, "ApplicantIncome": "X"}).replace('"X"', token)
            response = requests.post(f"{api.url}{path}", data=body, headers=json_headers, timeout=10)
            assert response.status_code == 422, (path, token, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", "ApplicantIncome"]
    batch = "[" + json.dumps(ROW) + "," + json.dumps({**ROW, "LoanAmount": "X"}).replace('"X"', "Infinity") + "]"
    response = requests.post(f"{api.url}/predict/batch", data=batch, headers=json_headers, timeout=10)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", 1, "LoanAmount"]
    fields = HEADER.split(",")
    bad = LINE.split(",")
    bad[fields.index("LoanAmount")] = "inf"
    csv = f"{HEADER}\n{LINE}\n{','.join(bad)}\n".encode()
    for response in (
        requests.post(f"{api.url}/predict/batch", files={"file": ("x.csv", csv, "text/csv")}, timeout=10),
        requests.post(
            f"{api.url}/predict/batch",
            data=csv.replace(b"inf", b"1e999"),
            headers={"content-type": "text/csv"},
            timeout=10,
        ),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "line 3", "LoanAmount"]
    assert requests.post(f"{api.url}/predict", json=ROW, timeout=10).status_code == 200
    assert "Traceback" not in api.log() and "Internal Server Error" not in api.log()


# --- 2. unsafe models -------------------------------------------------------------------------------------


def test_a_pickle_model_moved_to_production_is_never_unpickled(start_api, tmp_path: Path) -> None:
    good, _ = log_learner_model()
    tracking.set_alias("production", int(good), "teacher")
    api = start_api()
    assert wait_until(lambda: requests.get(f"{api.url}/model", timeout=10).json()["version"] == good, 60)
    marker = tmp_path / "payload-ran"
    bad = log_pickle_model(marker)
    tracking.set_alias("production", int(bad), "attacker")
    assert wait_until(lambda: _health(api.url)["status"] == "degraded", timeout=60), api.log()[-2000:]
    health = _health(api.url)
    assert health["model_version"] == good and health["model_source"] == "registry"
    assert any(f"version {bad}" in p and "cloudpickle" in p for p in health["problems"])
    info = requests.get(f"{api.url}/model", timeout=10).json()
    assert info["version"] == good
    assert info["refused"]["version"] == bad and info["refused"]["reason"] == "pickle_format"
    answers = [requests.post(f"{api.url}/predict", json=ROW, timeout=10) for _ in range(20)]
    assert {a.status_code for a in answers} == {200} and {a.json()["model_version"] for a in answers} == {good}
    reload = requests.post(f"{api.url}/reload", timeout=60)
    assert reload.status_code == 200 and reload.json()["version"] == good and reload.json()["refused"]
    time.sleep(2)  # a few more polls of the watcher
    assert not marker.exists()
    assert "WARNING" in api.log() and f"refusing loan-approval version {bad}" in api.log()


def test_a_model_built_by_a_learner_with_plain_scikit_learn_and_mlflow_is_served(start_api) -> None:
    import pandas as pd

    version, pipeline = log_learner_model("random_forest")
    MlflowClient(get_settings().mlflow_tracking_uri).set_registered_model_alias("loan-approval", "production", version)
    api = start_api()
    assert wait_until(lambda: requests.get(f"{api.url}/model", timeout=10).json()["source"] == "registry", 60)
    info = requests.get(f"{api.url}/model", timeout=10).json()
    assert (info["source"], info["version"], info["refused"], info["problems"]) == ("registry", version, None, [])
    answer = requests.post(f"{api.url}/predict", json=ROW, timeout=10).json()
    expected = pipeline.predict_proba(pd.DataFrame([ROW]).astype({"Credit_History": float}))[0, 1]
    assert answer["probability"] == pytest.approx(expected, abs=1e-6) and answer["model_source"] == "registry"


# --- 3. registry faults -----------------------------------------------------------------------------------


def test_a_store_locked_for_20_s_does_not_change_the_served_model(start_api) -> None:
    learner = get_settings().learner
    run = tracking.train_and_log(tracking_data(), "logistic_regression", {"C": 1.0}, learner)
    version = tracking.register_run_model(run.run_id, learner).version
    tracking.set_alias("production", version, learner)
    api = start_api()
    assert wait_until(lambda: _health(api.url)["model_version"] == str(version), 60)
    database = get_settings().state_dir / "mlflow.db"
    lock = sqlite3.connect(database, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")
    seen, statuses, slowest = set(), set(), 0.0
    reload_codes: list[int] = []
    try:
        end = time.monotonic() + 20
        reloader = None
        while time.monotonic() < end:
            start = time.monotonic()
            answer = requests.post(f"{api.url}/predict", json=ROW, timeout=10).json()
            slowest = max(slowest, time.monotonic() - start)
            seen.add((answer["model_version"], answer["model_source"]))
            statuses.add(_health(api.url)["status"])
            if reloader is None and time.monotonic() > end - 15:  # a reload stuck on the lock blocks nobody
                reloader = threading.Thread(
                    target=lambda: reload_codes.append(requests.post(f"{api.url}/reload", timeout=60).status_code)
                )
                reloader.start()
            time.sleep(0.2)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert seen == {(str(version), "registry")}
    assert "degraded" in statuses  # the lock really stopped the registry reads
    assert slowest < 2.0, slowest
    reloader.join(timeout=60)
    assert reload_codes == [200]
    assert wait_until(lambda: _health(api.url)["status"] == "ok", timeout=30)
    assert "WARNING" in api.log() and ("reading the registry" in api.log() or "registry problem" in api.log())


def tracking_data():
    from workbench.core.data import generate_loan_data

    return generate_loan_data()


def test_an_unreachable_tracking_server_delays_start_up_by_seconds_not_minutes(start_api) -> None:
    closed = free_port()
    api = start_api(wait=False, MLFLOW_TRACKING_URI=f"http://127.0.0.1:{closed}")
    assert wait_until(lambda: _ok(api.url), timeout=60, interval=0.2), api.log()[-2000:]
    elapsed = time.monotonic() - api.started
    assert elapsed <= 15, elapsed
    health = _health(api.url)
    assert health["status"] == "degraded" and health["model_source"] == "fallback"
    answer = requests.post(f"{api.url}/predict", json=ROW, timeout=10)
    assert answer.json()["model_source"] == "fallback" and answer.headers["x-model-source"] == "fallback"
    assert "WARNING" in api.log()


def _ok(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


# --- 4. /reload -------------------------------------------------------------------------------------------


def test_reload_needs_a_token_is_closed_to_web_pages_and_rate_limited(start_api) -> None:
    guarded = start_api(WORKBENCH_API_ADMIN_TOKEN="s3cret")
    assert requests.post(f"{guarded.url}/reload", timeout=30).status_code == 401
    assert requests.get(f"{guarded.url}/recent_inputs", timeout=30).status_code == 401
    ok = requests.post(f"{guarded.url}/reload", headers={"Authorization": "Bearer s3cret"}, timeout=30)
    assert ok.status_code == 200
    exposed = start_api(host="0.0.0.0")
    refused = requests.post(f"{exposed.url}/reload", timeout=30)
    assert refused.status_code == 403 and "WORKBENCH_API_ADMIN_TOKEN" in refused.json()["detail"]
    assert requests.get(f"{exposed.url}/recent_inputs", timeout=30).status_code == 403
    local = start_api()
    page = requests.post(
        f"{local.url}/reload",
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
        data="x",
        timeout=30,
    )
    assert page.status_code == 403
    codes = [requests.post(f"{local.url}/reload", timeout=60).status_code for _ in range(5)]
    assert codes.count(200) == 3 and codes.count(429) == 2


def test_a_reload_storm_does_not_starve_predictions(start_api) -> None:
    api = start_api()
    stop = threading.Event()

    def storm() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                session.post(f"{api.url}/reload", timeout=60)

    threads = [threading.Thread(target=storm) for _ in range(4)]
    for thread in threads:
        thread.start()
    latencies = []
    try:
        end = time.monotonic() + 5
        with requests.Session() as session:
            while time.monotonic() < end:
                start = time.monotonic()
                assert session.post(f"{api.url}/predict", json=ROW, timeout=10).status_code == 200
                latencies.append(time.monotonic() - start)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert len(latencies) > 50 and max(latencies) < 2.0, (len(latencies), max(latencies))


# --- 5. rate limit ----------------------------------------------------------------------------------------


def test_spoofed_forwarded_for_does_not_dodge_the_rate_limit(start_api) -> None:
    limited = start_api(WORKBENCH_API_RATE_LIMIT="5", WORKBENCH_API_RATE_BURST="5")
    start = time.monotonic()
    codes = [
        requests.post(
            f"{limited.url}/predict", json=ROW, headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"}, timeout=10
        ).status_code
        for i in range(200)
    ]
    allowed = 5 + 5 * (time.monotonic() - start) + 1
    assert codes.count(200) <= allowed and codes.count(429) >= 200 - allowed, codes.count(200)
    trusting = start_api(
        WORKBENCH_API_RATE_LIMIT="5", WORKBENCH_API_RATE_BURST="5", WORKBENCH_API_TRUSTED_PROXIES="127.0.0.1"
    )
    codes = [
        requests.post(
            f"{trusting.url}/predict", json=ROW, headers={"X-Forwarded-For": f"10.1.0.{i}"}, timeout=10
        ).status_code
        for i in range(30)
    ]
    assert codes == [200] * 30  # behind a trusted proxy, each forwarded client has its own bucket


def test_a_batch_costs_its_rows_against_the_rate_limit(start_api) -> None:
    api = start_api(WORKBENCH_API_RATE_LIMIT="1", WORKBENCH_API_RATE_BURST="20")
    too_big = requests.post(f"{api.url}/predict/batch", json=[ROW] * 21, timeout=10)
    assert too_big.status_code == 422 and "at most 20 applications" in too_big.json()["detail"][0]["msg"]
    time.sleep(1.5)  # the token the refused request cost comes back
    assert requests.post(f"{api.url}/predict/batch", json=[ROW] * 20, timeout=10).status_code == 200
    assert requests.post(f"{api.url}/predict", json=ROW, timeout=10).status_code == 429


# --- 6. slow clients, concurrency -------------------------------------------------------------------------


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def test_slow_clients_are_timed_out(start_api) -> None:
    api = start_api(WORKBENCH_API_HEADER_TIMEOUT="1", WORKBENCH_API_BODY_TIMEOUT="1")
    headers_never_end = _connect(api.url)
    headers_never_end.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    start = time.monotonic()
    assert headers_never_end.recv(1024) == b""  # closed by the server
    assert time.monotonic() - start < 5
    body_never_ends = _connect(api.url)
    body_never_ends.sendall(
        b'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"Gender": '
    )
    start = time.monotonic()
    answer = body_never_ends.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - start < 5
    assert requests.post(f"{api.url}/predict", json=ROW, timeout=10).status_code == 200
    assert "Traceback" not in api.log()


def test_limit_concurrency_answers_503_beyond_the_cap(start_api) -> None:
    api = start_api(WORKBENCH_API_LIMIT_CONCURRENCY="3")
    idle = [_connect(api.url) for _ in range(3)]
    for sock in idle:
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # headers not finished: the connection stays open
    time.sleep(0.3)
    assert requests.get(f"{api.url}/health", timeout=10).status_code == 503
    for sock in idle:
        sock.close()
    assert wait_until(lambda: _ok(api.url), timeout=10)
