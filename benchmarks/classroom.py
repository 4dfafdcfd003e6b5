"""Classroom benchmark (issue 15): 30 learners doing chapter V + VII at once, across 2 app processes.

Each learner runs the calls the pages make, in this order (one thread per learner, half of the learners in
each of 2 processes, the way 2 app replicas share a class):
  sign_in   open Home and chapter V: the sidebar's course progress + the visit (ProgressStore)
  train     chapter V "train and log": train_model + log_training_run (MLflow), then the check recorded
  register  register the run's model as a version of the learner's registered model
  promote   move `production` to that version, then the exercise check recorded (ProgressStore)
  predict   chapter VII "one prediction": POST /predict to the prediction API (retried while it loads the model)
Anchor, in the same run: the same flow by ONE learner alone; the table gives each action's p95 with 30
learners over its median alone.

Stores: WORKBENCH_DATABASE_URL / MLFLOW_TRACKING_URI when set (PostgreSQL for a class), else SQLite files in a
fresh temporary state dir. API: --api-url when given (a class's shared API), else the solo API
(`python -m workbench.api`) started here. WORKBENCH_MODE=class gives each learner their own registered model
(`Settings.learner_model_name`); solo mode shares one.

"database" is the time spent inside ProgressStore calls (progress, visits, check results) per action.

Usage: python benchmarks/classroom.py [--learners 30] [--processes 2] [--api-url URL] [--port 8790]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ACTIONS = ("sign_in", "train", "register", "promote", "predict")
PREDICT_WAIT_SECONDS = 30.0  # the API reloads `production` by polling the registry (every 2 s by default)


@dataclasses.dataclass
class Record:
    """One action of one learner: how long it took, how much of it in ProgressStore, and its error if any."""

    learner: str
    action: str
    seconds: float
    db_seconds: float
    error: str = ""


_db = threading.local()


def _timed_store(path):
    """A ProgressStore whose public calls add their duration to this thread's database clock."""
    from workbench.core.progress import ProgressStore

    class TimedStore(ProgressStore):
        pass

    for name in ("record_attempt", "record_visit", "chapter_items", "completed_items", "last_visited"):
        original = getattr(ProgressStore, name)

        def timed(self, *args, _original=original, **kwargs):
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                _db.seconds = getattr(_db, "seconds", 0.0) + time.perf_counter() - start

        setattr(TimedStore, name, timed)
    return TimedStore(path)


def _learner_flow(name: str, api_url: str, data, store, records: list[Record]) -> None:
    """One learner's chapter V + VII flow; each action timed, an error stops the flow (later actions not run)."""
    from workbench.core import api_client, tracking
    from workbench.core.api_client import EXAMPLE_APPLICATION
    from workbench.core.modeling import train_model
    from workbench.core.progress import course_progress
    from workbench.core.settings import get_settings

    settings = get_settings()  # class mode: every tracking call below uses the learner's own registered model
    state: dict = {}

    def sign_in() -> None:
        course_progress(store, name)  # the sidebar, on every page
        store.record_visit(name, "05_mlflow")

    def train() -> None:
        result = train_model(data, "logistic_regression", {"C": 1.0})
        state["run"] = tracking.log_training_run(result, data, name, settings=settings)
        store.record_attempt(name, "05_mlflow", "run-f1", "hands_on", False, answer={"runs": 1})

    def register() -> None:
        state["version"] = tracking.register_run_model(state["run"].run_id, name, settings=settings).version

    def promote() -> None:
        tracking.set_alias("production", state["version"], name, settings=settings)
        store.record_attempt(name, "05_mlflow", "production-alias", "hands_on", True, answer={"version": 1})
        store.record_visit(name, "07_web_apps_api")

    def predict() -> None:
        # the page's call: in class mode the learner's own route of the shared API (/learners/{name}/predict)
        deadline = time.monotonic() + PREDICT_WAIT_SECONDS
        while True:
            result = api_client.predict(EXAMPLE_APPLICATION, settings=settings, learner=name)
            if result.ok and isinstance(result.body, dict) and result.body.get("prediction") in ("Y", "N"):
                return
            if result.status_code != 503 or time.monotonic() > deadline:  # 503: no model loaded yet
                raise RuntimeError(f"{result.url}: HTTP {result.status_code}: {str(result.body)[:200]}")
            time.sleep(0.5)

    for action, run in zip(ACTIONS, (sign_in, train, register, promote, predict), strict=True):
        _db.seconds = 0.0
        start = time.perf_counter()
        error = ""
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - counted and reported, the benchmark goes on
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        records.append(Record(name, action, time.perf_counter() - start, _db.seconds, error))
        if error:
            return


def _worker(names: list[str], api_url: str, start_at: float) -> list[Record]:
    """One app process: warm up (imports, data), wait for the common start, then one thread per learner."""
    from workbench.core import tracking
    from workbench.core.data import load_course_data
    from workbench.core.db import database_url
    from workbench.core.progress import course_progress
    from workbench.core.settings import get_settings

    tracking.client(get_settings())  # the store exists and MLflow is imported before the clock starts
    data = load_course_data()
    store = _timed_store(database_url(get_settings()))  # PostgreSQL when WORKBENCH_DATABASE_URL is set
    course_progress(store, "warm-up")  # the exercise files parsed once, as in a running app
    records: list[Record] = []
    time.sleep(max(0.0, start_at - time.time()))
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for name in names:
            pool.submit(_learner_flow, name, api_url, data, store, records)
    return records


def _run(names: list[str], processes: int, api_url: str) -> tuple[list[Record], float]:
    """All learners, split across `processes` processes; returns their records and the wall time."""
    groups = [names[i::processes] for i in range(processes)]
    start_at = time.time() + 25  # every process imported and warm by then
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [pool.submit(_worker, group, api_url, start_at) for group in groups if group]
        records = [r for f in futures for r in f.result()]
    return records, time.time() - start_at


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _table(alone: list[Record], crowd: list[Record], n_learners: int) -> str:
    """The results: per action, errors, p50/p95 with the class, database p95, and p95 over the median alone."""
    by_action: dict[str, list[Record]] = defaultdict(list)
    for r in crowd:
        by_action[r.action].append(r)
    alone_by = {r.action: r.seconds for r in alone if not r.error}
    lines = [
        f"{'action':<9} {'done':>5} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'db p95 ms':>9} "
        f"{'alone ms':>8} {'p95/alone':>9}"
    ]
    for action in ACTIONS:
        rows = by_action.get(action, [])
        ok = [r.seconds * 1000 for r in rows if not r.error]
        db = [r.db_seconds * 1000 for r in rows if not r.error]
        errors = sum(1 for r in rows if r.error)
        if not ok:
            lines.append(f"{action:<9} {0:>5} {errors:>6}")
            continue
        single = alone_by.get(action)
        ratio = f"{_quantile(ok, 0.95) / (single * 1000):.1f}x" if single else "-"
        lines.append(
            f"{action:<9} {len(ok):>5}/{n_learners:<2} {errors:>3} {_quantile(ok, 0.5):>8.0f} {_quantile(ok, 0.95):>8.0f} "
            f"{_quantile(db, 0.95):>9.1f} {(single or 0) * 1000:>8.0f} {ratio:>9}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--api-url", default="", help="a running prediction API (default: start the solo API)")
    parser.add_argument("--port", type=int, default=8790, help="port of the solo API started here")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="wb-bench-classroom-"))
    os.environ["WORKBENCH_STATE_DIR"] = str(state)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{state / 'mlflow.db'}")
    os.environ["WORKBENCH_API_PORT"] = str(args.port)
    if args.api_url:  # the learners' calls go where the app's api_client goes: the given API
        given = urllib.parse.urlsplit(args.api_url)
        os.environ["WORKBENCH_API_HOST"], os.environ["WORKBENCH_API_PORT"] = given.hostname or "", str(given.port or 80)
    os.environ["WORKBENCH_API_POLL_SECONDS"] = os.environ.get("WORKBENCH_API_POLL_SECONDS", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "app"), os.environ.get("PYTHONPATH", "")])
    sys.path.insert(0, str(REPO / "app"))
    from workbench.core import api_client
    from workbench.core.settings import get_settings

    settings = get_settings()
    database = settings.database_url.split("@")[-1] if settings.database_url else f"SQLite {settings.progress_db}"
    print(f"mode: {settings.mode}; progress database: {database}")
    pool = os.environ.get("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "MLflow's default (5 + 10 overflow)")
    print(f"MLflow store: {settings.mlflow_tracking_uri.split('@')[-1]}; SQL connection pool per process: {pool}")
    from workbench.core import tracking

    tracking.client(settings)  # MLflow creates or migrates its tables once, before the API and the app processes
    api_url = args.api_url.rstrip("/")
    started = False
    if not api_url:  # class mode: the class's shared API (each learner's own @production), started as a teacher would
        solo_view = dataclasses.replace(settings, mode="solo")
        api_client.start(solo_view, env={"WORKBENCH_MODE": settings.mode})
        api_url, started = api_client.api_url(settings), True
    print(
        f"API: {api_url} ({f'{settings.mode} API started here' if started else 'given'}); {args.processes} app processes"
    )
    try:
        alone, _ = _run(["anchor-learner"], 1, api_url)
        names = [f"learner-{i:02d}" for i in range(args.learners)]
        crowd, wall = _run(names, args.processes, api_url)
    finally:
        if started:
            api_client.stop(dataclasses.replace(settings, mode="solo"))
    print(f"\n{args.learners} learners, {args.processes} processes, wall time {wall:.1f} s (anchor: 1 learner alone)")
    print(_table(alone, crowd, args.learners))
    errors = [r for r in crowd + alone if r.error]
    print(f"\nerrors: {len(errors)} (goal 0)")
    for message, count in sorted(_count(r.error for r in errors).items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {count} x {message}")
    return 0


def _count(values) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return out


if __name__ == "__main__":
    raise SystemExit(main())
