"""Real processes of chapter V: `mlflow run` of the shipped MLproject, `mlflow ui` start/stop, code snippets."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import pytest
from workbench.chapters.ch05_mlflow import mlproject, tracking_code
from workbench.core import services, tracking
from workbench.core.data import generate_loan_data
from workbench.core.settings import get_settings

from tests.conftest import free_port

pytestmark = pytest.mark.usefixtures("mlflow_store")


def test_mlproject_declares_the_training_entry_point() -> None:
    project = mlproject.load_project()
    assert project["name"] == "loan-approval" and project["python_env"] == "python_env.yaml"
    params = project["entry_points"]["main"]["parameters"]
    assert {"model", "C", "max_depth", "n_estimators", "seed", "data", "learner"} <= set(params)
    assert "workbench.core.train" in project["entry_points"]["main"]["command"]
    command = mlproject.build_command({"model": "random_forest", "n_estimators": 20})
    assert command[1:4] == ["run", str(get_settings().repo_root), "--env-manager"] and "local" in command
    assert "-P" in command and "n_estimators=20" in command
    with pytest.raises(ValueError, match="no parameter"):
        mlproject.build_command({"bogus": 1})
    shown = mlproject.shell_command({"model": "x"}).splitlines()
    assert shown[0] == f"export MLFLOW_TRACKING_URI={get_settings().mlflow_tracking_uri}"
    assert shown[1].startswith("mlflow run . --env-manager local --experiment-name loan-approval")


def test_mlflow_run_of_the_shipped_project_logs_a_run() -> None:
    tracking.experiment_id()  # as on the page: this process has already selected the experiment
    lines: list[str] = []
    result = mlproject.run_project(
        {"model": "decision_tree", "max_depth": 3, "learner": "O'Brien"}, on_line=lines.append
    )
    assert result.succeeded, result.log[-3000:]
    assert any("succeeded" in line for line in lines)
    runs = tracking.search_runs(learner="O'Brien")
    assert list(runs["run_id"]) == [result.run_id]
    assert runs.iloc[0]["params.max_depth"] == "3" and runs.iloc[0]["model"] == "decision_tree"
    source = tracking.client().get_run(result.run_id).data.tags
    assert source.get("mlflow.project.entryPoint") == "main"


def test_train_cli_rejects_a_bad_data_file(tmp_path, capsys) -> None:
    from workbench.core import train

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert train.main(["--data", str(bad)]) == 2
    assert "Missing columns" in capsys.readouterr().err


def _group_pids(pgid: int) -> list[int]:
    return services._group_members(pgid)


def _environ(pid: int) -> dict[str, str]:
    raw = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def test_mlflow_ui_starts_on_the_same_store_and_stops_without_orphans(monkeypatch) -> None:
    import urllib.request

    from workbench.core import mlflow_ui

    for name in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK"):  # as in a learner's shell: the workbench sets them
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    tracking.train_and_log(generate_loan_data(150), "logistic_regression", None, "ana")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    status = mlflow_ui.start_ui(port, settings, wait_seconds=120)
    try:
        assert status.running and status.healthy and status.url == url
        again = mlflow_ui.start_ui(port, settings)
        assert again.pid == status.pid  # starting twice does not start a second server
        request = urllib.request.Request(
            f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name={tracking.EXPERIMENT}"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert tracking.EXPERIMENT in response.read().decode()
        members = _group_pids(status.pid)
        assert members
        for pid in members:  # the UI and every process it forks: no telemetry, no GenAI job runner
            environ = _environ(pid)
            assert environ.get("MLFLOW_DISABLE_TELEMETRY") == "true" and environ.get("DO_NOT_TRACK") == "true"
            assert "huey" not in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        assert mlflow_ui.runs_url(url, settings) == (
            f"{url}/#/experiments/{tracking.experiment_id(settings)}/runs?workflowType=machine_learning"
        )
    finally:
        assert services.stop(settings, mlflow_ui.SERVICE)
    deadline = time.monotonic() + 10
    while _group_pids(status.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_pids(status.pid) == []
    assert not services.status(settings, mlflow_ui.SERVICE).running
    assert services.port_is_free("127.0.0.1", port)
    assert services.stop(settings, mlflow_ui.SERVICE) is False


def test_service_that_fails_reports_its_log() -> None:
    import sys

    settings = get_settings()
    port = free_port()
    with pytest.raises(RuntimeError, match="boom"):
        services.start(
            settings,
            "broken",
            [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
            url=f"http://127.0.0.1:{port}",
            health_url=f"http://127.0.0.1:{port}/health",
            wait_seconds=20,
        )
    assert not services.status(settings, "broken").running


def test_services_stop_when_the_process_that_started_them_exits(tmp_path) -> None:
    """Ctrl+C on the app must not leave the API running: start a service from a child process, let it exit."""
    import subprocess
    import sys

    port = free_port()
    script = f"""
import sys
from pathlib import Path
from workbench.core import services
from workbench.core.settings import get_settings
settings = get_settings()
url = "http://127.0.0.1:{port}"
status = services.start(settings, "web", [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"],
                        url=url, health_url=url + "/", wait_seconds=30)
print(status.pid, flush=True)
"""
    env = dict(os.environ, WORKBENCH_STATE_DIR=str(tmp_path), MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path}/m.db")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[-1])
    settings = dataclasses.replace(get_settings(), state_dir=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and services._alive(pid):
            time.sleep(0.1)
        assert not services._alive(pid)
        assert services.port_is_free("127.0.0.1", port)
        assert not services.status(settings, "web").running
    finally:
        services.stop(settings, "web")


def test_two_sessions_starting_a_service_at_once_start_it_once() -> None:
    import sys
    from concurrent.futures import ThreadPoolExecutor

    settings = get_settings()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(services.start, settings, "web", command, url=url, health_url=url + "/", wait_seconds=30)
                for _ in range(2)
            ]
            statuses = [f.result(timeout=60) for f in futures]
        assert statuses[0].pid == statuses[1].pid and all(s.healthy for s in statuses)
    finally:
        services.stop(settings, "web")
    assert services.port_is_free("127.0.0.1", port)


def test_show_me_the_code_snippets_run_against_the_store(tmp_path, monkeypatch) -> None:
    data = generate_loan_data()
    (tmp_path / "data").mkdir()
    data.to_csv(tmp_path / "data" / "loan.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(tracking_code.train_and_log_code("logistic_regression", {"C": 0.5}, "ana"), namespace)  # noqa: S102
    runs = tracking.search_runs(learner="ana")
    assert len(runs) == 1 and runs.iloc[0]["params.C"] == "0.5"
    run_id = runs.iloc[0]["run_id"]
    exec(tracking_code.registry_code("register", run_id=run_id, description="from code"), namespace)  # noqa: S102
    assert tracking.get_version(1).description == "from code"
    exec(tracking_code.registry_code("set_alias", alias="staging", version=1), namespace)  # noqa: S102
    exec(tracking_code.registry_code("promote"), namespace)  # noqa: S102
    assert tracking.aliases() == {"staging": 1, "production": 1}
    exec(tracking_code.registry_code("load"), namespace)  # noqa: S102
    exec(tracking_code.compare_code([run_id, run_id]), namespace)  # noqa: S102
    exec(tracking_code.search_runs_code("ana", None, "f1", 0.1), namespace)  # noqa: S102
    assert os.environ.get("MLFLOW_TRACKING_URI", "").startswith("sqlite:")


def test_a_stale_record_whose_pid_now_belongs_to_another_process_is_left_alone() -> None:
    """The service died; the system gave its PID to another program: `status` must not call that program the
    service, and `stop` must never signal it."""
    import subprocess
    import sys

    settings = get_settings()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        record = services._record_path(settings, "prediction-api")
        record.parent.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{free_port()}"
        base = {
            "pid": other.pid,
            "url": url,
            "health_url": url + "/health",
            "log": str(record.with_suffix(".log")),
            "command": [sys.executable, "-m", "workbench.api", "--port", "8000"],
        }
        for stale in ({**base, "started": "12345"}, base):  # another start time; an old record: another command
            record.write_text(json.dumps(stale))
            assert not services.status(settings, "prediction-api").running
            assert services.stop(settings, "prediction-api") is False
            assert not record.exists()
            assert other.poll() is None  # still running: never signalled
    finally:
        other.kill()
        other.wait()


def test_a_record_of_our_own_running_service_is_recognised() -> None:
    import sys

    settings = get_settings()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    status = services.start(
        settings,
        "web",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        url=url,
        health_url=url + "/",
        wait_seconds=30,
    )
    try:
        assert status.running and services.status(settings, "web").running
        record = json.loads(services._record_path(settings, "web").read_text())
        assert record["started"] == services.process_identity(status.pid)
    finally:
        assert services.stop(settings, "web") is True
    assert not services._alive(status.pid)
