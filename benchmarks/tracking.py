"""Tracking benchmark (chapter V), on a fresh SQLite store, with `mlflow.search_runs` as the anchor.

1. Train + log one run of the course model (logistic regression on the course data: params, metrics,
   tags, skops model with signature and input example, figures, dataset), warm, median of N.
2. The chapter V page rendered by AppTest with 500 runs in the store (the Runs tab lists them all),
   next to `mlflow.search_runs` of the same 500 runs.

Usage: python benchmarks/tracking.py [--runs 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_LOG_SECONDS = 1.5
GOAL_PAGE_SECONDS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="wb-bench-tracking-"))
    os.environ["WORKBENCH_STATE_DIR"] = str(state)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{state / 'mlflow.db'}"
    os.environ["WORKBENCH_LEARNER"] = "bench"

    import mlflow
    from workbench.core import tracking
    from workbench.core.data import load_course_data
    from workbench.core.modeling import train_model

    data = load_course_data()
    tracking.train_and_log(data, "logistic_regression", None, "bench")  # warm-up: store, imports
    log_times, train_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = train_model(data, "logistic_regression")
        train_times.append(time.perf_counter() - start)
        tracking.log_training_run(result, data, "bench")
        log_times.append(time.perf_counter() - start)

    # Fill the store up to N runs with the same params/metrics/tags as real runs (no model files).
    client = tracking.client()
    experiment = tracking.experiment_id()
    existing = len(tracking.search_runs())
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    for i in range(args.runs - existing):
        run = client.create_run(
            experiment, run_name=f"filler {i}", tags={"learner": "bench", "model_family": "decision_tree"}
        )
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric(m, 0.7 + (i % 10) / 100, now, 0) for m in ("accuracy", "precision", "recall", "f1", "roc_auc")
            ],
            params=[Param("model", "decision_tree"), Param("max_depth", str(1 + i % 10))],
            tags=[RunTag("chapter", "05_mlflow")],
        )
        client.set_terminated(run.info.run_id)
    # The newest run is a full one, as after a learner's training (the run detail shows it).
    tracking.train_and_log(data, "logistic_regression", None, "bench")
    total = len(tracking.search_runs())

    search_times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        found = mlflow.search_runs(experiment_ids=[experiment], max_results=1000)
        search_times.append(time.perf_counter() - start)
    assert len(found) >= total

    from streamlit.testing.v1 import AppTest

    page_times = []
    for _ in range(args.repeat):
        at = AppTest.from_file(str(REPO / "app" / "Home.py"), default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
        at.switch_page("../pages/05_mlflow.py")
        start = time.perf_counter()
        at.run()
        page_times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.dataframe[0].value) == total

    log_median, search_median, page_median = (statistics.median(x) for x in (log_times, search_times, page_times))
    print(f"\nTracking on {state / 'mlflow.db'} ({sys.version.split()[0]}), median of {args.repeat}")
    print("| measure | seconds | goal | ratio to mlflow.search_runs |")
    print("|---|---|---|---|")
    print(f"| train (logistic regression, 491 rows) | {statistics.median(train_times):.3f} | | |")
    print(f"| train + log one run | {log_median:.3f} | < {GOAL_LOG_SECONDS} | {log_median / search_median:.1f}x |")
    print(f"| mlflow.search_runs, {total} runs (anchor) | {search_median:.3f} | | 1.0x |")
    print(
        f"| chapter V page (runs tab) with {total} runs | {page_median:.3f} | < {GOAL_PAGE_SECONDS} | "
        f"{page_median / search_median:.1f}x |"
    )


if __name__ == "__main__":
    main()
