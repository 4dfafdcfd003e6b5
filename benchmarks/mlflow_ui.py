"""MLflow UI start-up: the workbench's `mlflow ui` (one worker, no job runner) vs plain `mlflow ui`, side by side.

Both on a copy of the same store, interleaved over several rounds: seconds from process start until
`/health` answers 200, and until the course experiment's runs are listed by the REST API the UI calls.

Usage: python benchmarks/mlflow_ui.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from workbench.core.services import free_port

REPO = Path(__file__).resolve().parents[1]


def prepare_store(folder: Path) -> str:
    """A store with the course experiment and two runs (what a learner has when they open the UI)."""
    os.environ["WORKBENCH_STATE_DIR"] = str(folder)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    from workbench.core import tracking
    from workbench.core.data import generate_loan_data

    data = generate_loan_data(300)
    for model in ("logistic_regression", "decision_tree"):
        tracking.train_and_log(data, model, None, "bench")
    return tracking.experiment_id()


def measure(command: list[str], env: dict[str, str], port: int, experiment: str) -> tuple[float, float]:
    """(seconds to /health 200, seconds to the runs answered by the API), then stop the server."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        health = _wait(f"{url}/health", start)
        body = json.dumps({"experiment_ids": [experiment], "max_results": 10}).encode()
        request = urllib.request.Request(
            f"{url}/ajax-api/2.0/mlflow/runs/search", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert len(json.loads(response.read())["runs"]) == 2
        return health, time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _wait(url: str, start: float, timeout: float = 300) -> float:
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-mlflow-ui-"))
    try:
        experiment = prepare_store(folder)
        from workbench.core import mlflow_ui
        from workbench.core.settings import get_settings

        settings = get_settings()
        env = dict(os.environ)
        results: dict[str, list[tuple[float, float]]] = {"plain mlflow ui (anchor)": [], "workbench": []}
        for _ in range(args.rounds):
            port = free_port()
            plain = [
                str(Path(sys.executable).parent / "mlflow"),
                "ui",
                "--backend-store-uri",
                settings.mlflow_tracking_uri,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            results["plain mlflow ui (anchor)"].append(measure(plain, env, port, experiment))
            port = free_port()
            ours = mlflow_ui.ui_command(port, settings)
            results["workbench"].append(measure(ours, dict(env, **mlflow_ui.UI_ENV), port, experiment))
        print(f"{'':28} {'health (s)':>12} {'runs listed (s)':>16}   (median of {args.rounds}, {os.cpu_count()} cores)")
        medians = {}
        for name, rows in results.items():
            medians[name] = (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
            print(f"{name:28} {medians[name][0]:12.1f} {medians[name][1]:16.1f}")
        anchor, ours = medians["plain mlflow ui (anchor)"], medians["workbench"]
        print(f"ratio workbench / anchor: health {ours[0] / anchor[0]:.2f}, runs listed {ours[1] / anchor[1]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
