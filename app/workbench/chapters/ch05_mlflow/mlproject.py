"""Run the repository's MLflow Project (`MLproject`) the way a learner would in a terminal."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from workbench.core.settings import Settings, get_settings

RUN_ID = re.compile(r"run_id=([0-9a-f]{32})|Run \(ID '([0-9a-f]{32})'\)")


@dataclass(frozen=True)
class ProjectRun:
    """The outcome of `mlflow run`."""

    command: list[str]
    returncode: int
    run_id: str | None
    log: str

    @property
    def succeeded(self) -> bool:
        """True when mlflow run exited with 0 and a run id was found."""
        return self.returncode == 0 and self.run_id is not None


def load_project(settings: Settings | None = None) -> dict:
    """The parsed MLproject file (name, environment, entry points with their parameters)."""
    path = (settings or get_settings()).repo_root / "MLproject"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def project_text(settings: Settings | None = None) -> str:
    """The MLproject file as written."""
    return ((settings or get_settings()).repo_root / "MLproject").read_text(encoding="utf-8")


def build_command(params: dict[str, object], settings: Settings | None = None) -> list[str]:
    """`mlflow run <repo> --env-manager local -P k=v ...` with the venv's own mlflow.

    Raises:
        ValueError: a parameter the MLproject does not declare.
    """
    from workbench.core.tracking import EXPERIMENT

    settings = settings or get_settings()
    declared = load_project(settings)["entry_points"]["main"]["parameters"]
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ValueError(f"the MLproject has no parameter(s) {unknown}")
    mlflow_bin = str(Path(sys.executable).parent / "mlflow")
    command = [mlflow_bin, "run", str(settings.repo_root), "--env-manager", "local", "--experiment-name", EXPERIMENT]
    for key, value in params.items():
        command += ["-P", f"{key}={value}"]
    return command


def shell_command(params: dict[str, object], settings: Settings | None = None) -> str:
    """The same run typed in a terminal, in the repository, so that it lands on the workbench's page.

    `mlflow run . --env-manager local` alone works too: the run then goes to the store MLFLOW_TRACKING_URI
    names (MLflow's default: `mlflow.db` in the current folder), in the Default experiment.
    """
    from workbench.core.tracking import EXPERIMENT

    settings = settings or get_settings()
    parts = [f"mlflow run . --env-manager local --experiment-name {shlex.quote(EXPERIMENT)}"]
    parts += [f"-P {shlex.quote(f'{k}={v}')}" for k, v in params.items()]
    return f"export MLFLOW_TRACKING_URI={shlex.quote(settings.mlflow_tracking_uri)}\n" + " \\\n    ".join(parts)


def project_env(settings: Settings) -> dict[str, str]:
    """The environment of `mlflow run`: the workbench's store, the venv's bin first on PATH."""
    # mlflow.set_experiment() in this process exports MLFLOW_EXPERIMENT_ID; `mlflow run` refuses it
    # beside --experiment-name, and a leftover MLFLOW_RUN_ID would hijack the run.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")
    }
    env["MLFLOW_TRACKING_URI"] = settings.mlflow_tracking_uri
    env["WORKBENCH_STATE_DIR"] = str(settings.state_dir)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    return env


def stream_run(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    on_line: Callable[[str], None] | None = None,
    timeout: float = 600,
) -> ProjectRun:
    """Run `mlflow run` in a subprocess (its own process group, killed after `timeout` seconds),
    streaming its output line by line to `on_line`."""
    lines: list[str] = []
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    timer = threading.Timer(timeout, _kill_group, args=(proc,))
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if on_line is not None:
                on_line(lines[-1])
        returncode = proc.wait()
    finally:
        timer.cancel()
    if returncode == -signal.SIGKILL:
        lines.append(f"[workbench] stopped after {timeout:g} s")
    log = "\n".join(lines)
    run_id = None
    for match in RUN_ID.finditer(log):
        run_id = match.group(1) or match.group(2)
    return ProjectRun(command, returncode, run_id, log)


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop `mlflow run` and the command it started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_project(
    params: dict[str, object],
    on_line: Callable[[str], None] | None = None,
    settings: Settings | None = None,
    timeout: float = 600,
) -> ProjectRun:
    """Run the repository's project in a subprocess, streaming its output line by line to `on_line`."""
    settings = settings or get_settings()
    command = build_command(params, settings)
    return stream_run(command, settings.repo_root, project_env(settings), on_line, timeout)
