"""API benchmark (chapter VII): this API vs `mlflow models serve`, four model families, one run.

Families (each registered in one fresh SQLite registry, `@production` on it):
- own: the workbench's own course model (logistic regression, `workbench.core.modeling` + `workbench.core.tracking`);
- learner_lr, learner_forest, learner_knn: what a learner writes with plain scikit-learn — a
  `make_column_transformer` of `make_pipeline(SimpleImputer, StandardScaler)` and
  `make_pipeline(SimpleImputer, OneHotEncoder)`, then a logistic regression, a random forest or k-nearest
  neighbours — logged with `mlflow.sklearn.log_model(..., serialization_format="skops",
  skops_trusted_types=...)` (no workbench code).

For each family: serve it with `python -m workbench.api` and with `mlflow models serve -m
models:/<name>@production --env-manager local` (the anchor), load both with `workbench.core.loadtest.run_raw_load`
(keep-alive HTTP/1.1 on plain sockets, one connection per client, requests encoded up front, the same
applications: the client's own cost, ~0.07 ms a request against ~0.25 ms with `http.client`, hardly counts in
either server's latency), 1 and 16 clients, interleaved;
print requests/s, p50 and p99, the ratio, and how the API served the family (`/model` → serving.path).
Goals (issue 18): >= 10x MLflow's requests/s for the compilable families at both concurrencies, >= 20x for
the own model; for KNN (not compilable) >= 3x at 16 clients and >= 1x at 1 client.

Usage: python benchmarks/api.py [--requests 2000] [--families own,learner_lr,...] [--port 8610]
(--port P uses P..P+7: two ports per family.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import timeit
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("own", "learner_lr", "learner_forest", "learner_knn")
GOALS = {"own": (20.0, 20.0), "learner_lr": (10.0, 10.0), "learner_forest": (10.0, 10.0), "learner_knn": (1.0, 3.0)}
NUMERIC = ["ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History"]
CATEGORICAL = ["Gender", "Married", "Dependents", "Education", "Self_Employed", "Property_Area"]


def learner_model(family: str, data):
    """The learner's pipeline, plain scikit-learn (as in the course)."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    preprocessing = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
    )
    model = {
        "learner_lr": lambda: LogisticRegression(max_iter=1000),
        "learner_forest": lambda: RandomForestClassifier(n_estimators=100, random_state=0),
        "learner_knn": lambda: KNeighborsClassifier(n_neighbors=15),
    }[family]()
    X, y = data[NUMERIC + CATEGORICAL], (data["Loan_Status"] == "Y").astype(int)
    return make_pipeline(preprocessing, model).fit(X, y), X


def register(family: str, data, tracking_uri: str) -> str:
    """Log and register one family under its own name with `@production`; returns the name."""
    import mlflow
    import skops.io as sio
    from mlflow import MlflowClient

    name = f"bench-{family.replace('_', '-')}"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("api-benchmark")
    if family == "own":
        from workbench.core.modeling import train_model

        result = train_model(data, "logistic_regression")
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                result.pipeline,
                name="model",
                serialization_format="skops",
                registered_model_name=name,
                skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(result.pipeline)),
            )
    else:
        pipeline, X = learner_model(family, data)
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                serialization_format="skops",
                registered_model_name=name,
                skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(pipeline)),
                input_example=X.head(2),
            )
    MlflowClient().set_registered_model_alias(name, "production", info.registered_model_version)
    return name


def serving_path(url: str) -> str:
    """How the API serves its model (from /model)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        serving = json.load(response)["serving"]
    step = f" ({serving['unsupported_step']})" if serving["unsupported_step"] else ""
    return serving["path"] + step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per cell")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--port", type=int, default=0, help="first of two ports (default: free ports)")
    args = parser.parse_args()
    families = [f for f in args.families.split(",") if f]

    state = Path(tempfile.mkdtemp(prefix="wb-bench-api-"))
    tracking_uri = f"sqlite:///{state / 'mlflow.db'}"
    env = dict(
        os.environ,
        WORKBENCH_STATE_DIR=str(state),
        MLFLOW_TRACKING_URI=tracking_uri,
        WORKBENCH_API_POLL_SECONDS="0",
        WORKBENCH_API_RATE_LIMIT="0",
        MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
    )
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    os.environ.update({k: env[k] for k in ("WORKBENCH_STATE_DIR", "MLFLOW_TRACKING_URI")})

    from workbench.core.api_client import sample_applications
    from workbench.core.data import load_course_data
    from workbench.core.loadtest import json_bodies, run_raw_load
    from workbench.core.services import free_port, wait_for_http

    data = load_course_data()
    applications = [a for a in sample_applications(600, seed=5) if all(v is not None for v in a.values())][:200]
    results: dict[tuple[str, str, int], object] = {}
    paths: dict[str, str] = {}
    for number, family in enumerate(families):
        name = register(family, data, tracking_uri)
        ours_port = args.port + 2 * number if args.port else free_port()  # fresh ports for each family
        mlflow_port = args.port + 2 * number + 1 if args.port else free_port()
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
                    f"models:/{name}@production",
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
        try:
            logs = []
            for server, (command, _health, _, _) in servers.items():
                log = state / f"{family}-{server.split()[0]}.log"
                logs.append(log)
                with log.open("w") as out:
                    procs.append(
                        subprocess.Popen(
                            command,
                            cwd=REPO,
                            env={**env, "WORKBENCH_MODEL_NAME": name},
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            for log, (_, health, url, bodies) in zip(logs, servers.values()):
                try:
                    wait_for_http(health, timeout=240)
                except TimeoutError:
                    print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                    raise
                warm = run_raw_load(url, bodies, 200, 4)
                assert warm.ok == 200, f"{url} answered {warm.statuses}"
            paths[family] = serving_path(f"http://127.0.0.1:{ours_port}/model")
            for concurrency in (1, 16):
                for server, (_, _, url, bodies) in servers.items():  # interleaved: same machine state for both
                    results[(family, server, concurrency)] = run_raw_load(url, bodies, args.requests, concurrency)
        finally:
            for proc in procs:
                try:
                    os.killpg(proc.pid, 15)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=30)

    print(
        f"\n{args.requests} requests per cell, one keep-alive connection per client (run_raw_load), same applications"
    )
    print("| family | served as | clients | server | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for family in families:
        for concurrency in (1, 16):
            for server in ("workbench API", "mlflow models serve"):
                r = results[(family, server, concurrency)]
                print(
                    f"| {family} | {paths[family] if server == 'workbench API' else '-'} | {concurrency} | {server} "
                    f"| {r.throughput:.0f} | {r.percentile(50):.2f} | {r.percentile(99):.2f} | {r.requests - r.ok} |"
                )
    print("\n| family | clients | req/s ratio | goal | met | p50 ratio | p99 ratio |")
    print("|---|---|---|---|---|---|---|")
    for family in families:
        for concurrency, goal in zip((1, 16), GOALS[family]):
            ours = results[(family, "workbench API", concurrency)]
            anchor = results[(family, "mlflow models serve", concurrency)]
            ratio = ours.throughput / anchor.throughput
            print(
                f"| {family} | {concurrency} | {ratio:.1f}x | >= {goal:g}x | {'yes' if ratio >= goal else 'NO'} "
                f"| {ours.percentile(50) / anchor.percentile(50):.3f} | {ours.percentile(99) / anchor.percentile(99):.3f} |"
            )
    in_process_floor(data)


def in_process_floor(data) -> None:
    """One row through `Pipeline.predict_proba` and through the compiled path, in this process."""
    from workbench.api.compiler import compile_pipeline
    from workbench.api.models import API_SCHEMA, as_frame
    from workbench.core.api_client import EXAMPLE_APPLICATION

    print("\nIn-process, one row (best of 5):")
    print("| family | Pipeline.predict_proba | compiled |")
    print("|---|---|---|")
    for family in ("learner_lr", "learner_forest"):
        pipeline, _ = learner_model(family, data)
        compiled = compile_pipeline(pipeline, API_SCHEMA)
        frame, record = as_frame([EXAMPLE_APPLICATION]), [EXAMPLE_APPLICATION]
        slow, fast = (lambda p=pipeline, f=frame: p.predict_proba(f)), (lambda c=compiled, r=record: c.predict_proba(r))
        pipeline_ms = min(timeit.repeat(slow, number=20, repeat=5)) / 20 * 1000
        compiled_us = min(timeit.repeat(fast, number=500, repeat=5)) / 500 * 1e6
        print(f"| {family} | {pipeline_ms:.2f} ms | {compiled_us:.0f} µs |")


if __name__ == "__main__":
    main()
