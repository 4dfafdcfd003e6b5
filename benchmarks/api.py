"""API benchmark (chapter VII): this API vs `mlflow models serve`, same model, same load client, one run.

1. Train the course model (logistic regression on the course data), log and register it, point
   `@production` at it, in a fresh SQLite store.
2. Serve it twice: `python -m workbench.api` and `mlflow models serve -m models:/loan-approval@production
   --env-manager local` (the anchor).
3. Load both with `workbench.core.loadtest.run_load` (keep-alive HTTP/1.1 connections, one per client), 1 and
   16 concurrent clients, the same applications; print requests/s and latency percentiles and the ratios.
4. Also print the in-process floor: one row through `Pipeline.predict_proba` and through the compiled
   NumPy path the API uses.

Usage: python benchmarks/api.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

from workbench.core.services import free_port, wait_for_http

REPO = Path(__file__).resolve().parents[1]
GOAL_RPS = 3.0
GOAL_P50 = 1 / 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="wb-bench-api-"))
    env = dict(
        os.environ,
        WORKBENCH_STATE_DIR=str(state),
        MLFLOW_TRACKING_URI=f"sqlite:///{state / 'mlflow.db'}",
        WORKBENCH_API_POLL_SECONDS="0",
        MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
    )
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    os.environ.update({k: env[k] for k in ("WORKBENCH_STATE_DIR", "MLFLOW_TRACKING_URI")})

    from workbench.core import tracking
    from workbench.core.api_client import sample_applications
    from workbench.core.data import FEATURES, load_course_data
    from workbench.core.loadtest import json_bodies, run_load
    from workbench.core.modeling import train_model
    from workbench.fastpredict import compile_pipeline

    data = load_course_data()
    result = train_model(data, "logistic_regression")
    run = tracking.log_training_run(result, data, "bench")
    version = tracking.register_run_model(run.run_id, "bench")
    tracking.set_alias("production", version.version, "bench")

    applications = [a for a in sample_applications(600, seed=5) if all(v is not None for v in a.values())][:200]
    ours_port, mlflow_port = free_port(), free_port()
    servers = {
        "workbench API": (
            [sys.executable, "-m", "workbench.api", "--port", str(ours_port), "--log-level", "warning"],
            f"http://127.0.0.1:{ours_port}/health",
            f"http://127.0.0.1:{ours_port}/predict",
            json_bodies(applications),
        ),
        "mlflow models serve": (
            [
                str(Path(sys.executable).parent / "mlflow"),
                "models",
                "serve",
                "-m",
                "models:/loan-approval@production",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(mlflow_port),
            ],
            f"http://127.0.0.1:{mlflow_port}/ping",
            f"http://127.0.0.1:{mlflow_port}/invocations",
            json_bodies([{"dataframe_records": [a]} for a in applications]),
        ),
    }
    procs = []
    results: dict[tuple[str, int], object] = {}
    try:
        for command, _health, _, _ in servers.values():
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        for _, health, url, bodies in servers.values():
            wait_for_http(health, timeout=180)
            warm = run_load(url, bodies, 200, 4)
            assert warm.ok == 200, f"{url} answered {warm.statuses}"
        for concurrency in (1, 16):
            for name, (_, _, url, bodies) in servers.items():  # interleaved: same machine state for both
                results[(name, concurrency)] = run_load(url, bodies, args.requests, concurrency)
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)

    row = data[list(FEATURES)].iloc[[0]]
    record = row.astype(object).where(row.notna(), None).to_dict("records")
    compiled = compile_pipeline(result.pipeline)
    pipeline_ms = min(timeit.repeat(lambda: result.pipeline.predict_proba(row), number=50, repeat=5)) / 50 * 1000
    compiled_ms = min(timeit.repeat(lambda: compiled.predict_proba(record), number=500, repeat=5)) / 500 * 1000

    print(
        f"\nSame model (logistic regression, registry version {version.version}), {args.requests} requests "
        "per cell, one keep-alive connection per client"
    )
    print("| clients | server | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for concurrency in (1, 16):
        for name in servers:
            r = results[(name, concurrency)]
            bad = r.requests - r.ok
            print(
                f"| {concurrency} | {name} | {r.throughput:.0f} | {r.percentile(50):.2f} | {r.percentile(95):.2f} "
                f"| {r.percentile(99):.2f} | {bad} |"
            )
    print(f"\n| clients | req/s ratio (goal >= {GOAL_RPS:.0f}x) | p50 ratio (goal <= {GOAL_P50:.2f}) |")
    print("|---|---|---|")
    for concurrency in (1, 16):
        ours, anchor = results[("workbench API", concurrency)], results[("mlflow models serve", concurrency)]
        print(
            f"| {concurrency} | {ours.throughput / anchor.throughput:.1f}x | "
            f"{ours.percentile(50) / anchor.percentile(50):.3f} |"
        )
    print("\nIn-process floor, one row:")
    print(f"| Pipeline.predict_proba (DataFrame) | {pipeline_ms:.3f} ms |")
    print(f"| compiled NumPy path (the API's)     | {compiled_ms * 1000:.1f} µs |")


if __name__ == "__main__":
    main()
