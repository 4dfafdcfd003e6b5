"""`mlflow run` of the shipped MLproject exactly as the course teaches it, from a clean shell (subprocesses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
MLFLOW = str(Path(sys.executable).parent / "mlflow")


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A shell's environment: no MLFLOW_*/WORKBENCH_* variable, no pytest or CI marker."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(home), **extra}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's MLproject, its environment file and the course data, copied (MLflow writes beside them)."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    for name in ("MLproject", "python_env.yaml", "data/loan.csv"):
        shutil.copy(REPO_ROOT / name, folder / name)
    return folder


def _mlflow_run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    out = subprocess.run([MLFLOW, "run", ".", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "succeeded" in out.stderr, out.stderr[-2000:]
    return out.stdout + out.stderr


def _only_run(uri: str, experiment: str):
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1
    return runs[0]


@pytest.mark.parametrize(
    "args, experiment, model, params",
    [
        ([], "Default", "logistic_regression", {"C": "1.0"}),
        (
            ["--experiment-name", "my-experiment", "-P", "model=decision_tree", "-P", "max_depth=3"],
            "my-experiment",
            "decision_tree",
            {"max_depth": "3"},
        ),
    ],
    ids=["as-taught", "experiment-name-and-params"],
)
def test_mlflow_run_from_a_shell_on_a_fresh_store(tmp_path, project, args, experiment, model, params) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    _mlflow_run(["--env-manager", "local", *args], project, _clean_env(tmp_path, MLFLOW_TRACKING_URI=uri))
    run = _only_run(uri, experiment)
    assert run.info.status == "FINISHED"
    assert run.data.params["model"] == model and params.items() <= run.data.params.items()
    assert run.data.metrics["f1"] > 0.5 and run.data.tags["learner"] == "mlproject"
    assert run.data.tags["mlflow.project.entryPoint"] == "main"


def test_mlflow_run_with_no_tracking_uri_uses_mlflows_default_store(tmp_path, project) -> None:
    """No MLFLOW_TRACKING_URI at all: MLflow's default, `mlflow.db` in the project folder."""
    _mlflow_run(
        ["--env-manager", "local", "-P", "n_estimators=20", "-P", "model=random_forest"], project, _clean_env(tmp_path)
    )
    run = _only_run(f"sqlite:///{project / 'mlflow.db'}", "Default")
    assert run.data.params["n_estimators"] == "20" and run.data.params["model"] == "random_forest"


def test_the_command_shown_on_the_page_puts_the_run_on_the_page(tmp_path, project) -> None:
    """Copied from chapter V into a terminal (here bash, in the project): the run shows among the learner's runs."""
    from workbench.chapters.ch05_mlflow import mlproject
    from workbench.core import tracking

    command = mlproject.shell_command({"model": "decision_tree", "max_depth": 2, "learner": "O'Brien"})
    assert command.splitlines()[1].startswith("mlflow run . --env-manager local")
    out = subprocess.run(
        ["bash", "-c", command], cwd=project, env=_clean_env(tmp_path), capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    runs = tracking.search_runs(learner="O'Brien")
    assert len(runs) == 1 and runs.iloc[0]["model"] == "decision_tree" and runs.iloc[0]["params.max_depth"] == "2"
