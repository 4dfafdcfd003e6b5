"""Starting, stepping and approving a pipeline run, and its steps (build, test, train, gate, deploy)."""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.chapters.ch08_cicd.delivery.state import (
    BUILD_INPUTS,
    EVAL_ROWS,
    EVAL_SEED,
    GATE_METRICS,
    GITIGNORE,
    INJECTED_TEST,
    INJECTED_TEST_CODE,
    INJECTIONS,
    MAX_NEW_ROWS,
    MODES,
    NEW_DATA_SEED,
    NOISE_RATE,
    STEPS,
    WEAK_MODEL,
    GateDecision,
    PipelineConfig,
    PipelineError,
    PipelineRun,
    StepState,
    StepStatus,
    build_dir,
    cicd_dir,
    junit_record_key,
    load_history,
    record,
    sandbox_dir,
)
from workbench.core.learner_files import read_json, write_json
from workbench.core.records import records_for
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Starting, stepping, approving
# --------------------------------------------------------------------------------------------


def validate_config(config: PipelineConfig) -> PipelineConfig:
    """The config with its model parameters cleaned.

    Raises:
        PipelineError: an unknown mode, injection, model, metric, or a value out of range.
    """
    from workbench.core.modeling import MODEL_NAMES, clean_params

    if config.mode not in MODES:
        raise PipelineError("error_mode", mode=config.mode)
    if config.injection not in INJECTIONS:
        raise PipelineError("error_injection", injection=config.injection)
    if config.model_name not in MODEL_NAMES:
        raise PipelineError("error_model", model=config.model_name)
    if config.metric not in GATE_METRICS:
        raise PipelineError("error_metric", metric=config.metric)
    if not 0 <= config.new_rows <= MAX_NEW_ROWS:
        raise PipelineError("error_rows", max=MAX_NEW_ROWS)
    if not -1 < config.margin < 1:
        raise PipelineError("error_margin")
    if not " ".join(config.message.split()):
        raise PipelineError("error_message")
    try:
        params = clean_params(config.model_name, config.params)
    except ValueError as exc:
        raise PipelineError("error_params", error=str(exc)) from exc
    return replace(config, params=params, message=" ".join(config.message.split())[:200])


def new_pipeline(settings: Settings, learner: str, config: PipelineConfig) -> PipelineRun:
    """A new pipeline (nothing runs yet), numbered after the learner's history.

    Raises:
        PipelineError: the config is invalid.
    """
    config = validate_config(config)
    number = max((h.get("number", 0) for h in load_history(settings, learner)), default=0) + 1
    return PipelineRun(
        id=uuid.uuid4().hex[:8],
        number=number,
        learner=learner,
        config=config,
        steps=[StepState(name) for name in STEPS],
        started=time.time(),
    )


def run_next_step(
    run: PipelineRun, settings: Settings, on_line: Callable[[str], None] | None = None
) -> StepState | None:
    """Run the next pending step and record the run in the history.

    A failing step stops the pipeline (the following steps are skipped). In continuous delivery the
    production step is not run: it waits for `approve` (or `reject`).

    Returns:
        The step that ran (or now waits), or None when there was nothing left to run.
    """
    step = run.next_step
    if step is None:
        return None
    if step.name == "production" and run.config.mode == "delivery":
        step.status = StepStatus.WAITING
        step.message = ("production_waiting", {"version": run.version})
        record(settings, run)
        return step
    _execute(run, step, settings, on_line)
    return step


def _execute(run: PipelineRun, step: StepState, settings: Settings, on_line: Callable[[str], None] | None) -> None:
    start = time.perf_counter()
    try:
        passed, log, message = STEP_FUNCTIONS[step.name](run, settings, on_line)
    except PipelineError as exc:
        passed, log, message = False, str(exc), (exc.key, exc.params)
    except Exception as exc:  # a CI runner marks the step failed and shows why; never a traceback on the page
        passed, log, message = (
            False,
            f"{type(exc).__name__}: {exc}",
            ("step_error", {"error": f"{type(exc).__name__}: {exc}"}),
        )
    step.seconds = time.perf_counter() - start
    step.status = StepStatus.PASSED if passed else StepStatus.FAILED
    step.log, step.message = log, message
    if not passed:
        for later in run.steps[run.steps.index(step) + 1 :]:
            later.status = StepStatus.SKIPPED
        run.finished = time.time()
    elif step.name == "production":
        run.finished = time.time()
    record(settings, run)


def run_all(
    run: PipelineRun,
    settings: Settings,
    on_step: Callable[[StepState], None] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> PipelineRun:
    """Run the steps one after the other until the pipeline ends, fails, or waits for an approval.

    Args:
        on_step: called with each step before it runs (to show progress).
        on_line: receives each line of build and pytest output.
    """
    while (step := run.next_step) is not None:
        if on_step is not None:
            on_step(step)
        run_next_step(run, settings, on_line)
    return run


def approve(run: PipelineRun, settings: Settings) -> StepState:
    """A human approves the release: the waiting production step runs.

    Raises:
        PipelineError: the pipeline is not waiting for an approval.
    """
    step = run.step("production")
    if step.status != "waiting":
        raise PipelineError("error_not_waiting")
    _execute(run, step, settings, None)
    return step


def reject(run: PipelineRun, settings: Settings) -> StepState:
    """A human refuses the release: production stays where it is, the candidate stays in staging.

    Raises:
        PipelineError: the pipeline is not waiting for an approval.
    """
    step = run.step("production")
    if step.status != "waiting":
        raise PipelineError("error_not_waiting")
    step.status = StepStatus.SKIPPED
    step.message = ("production_rejected", {"version": run.version})
    run.rejected = True
    run.finished = time.time()
    record(settings, run)
    return step


# --------------------------------------------------------------------------------------------
# Steps. Each returns (passed, log, message) where message = (translation key, values).
# --------------------------------------------------------------------------------------------

StepResult = tuple[bool, str, tuple[str, dict]]


def _git(repo: Path, *args: str):
    from workbench.chapters.ch02_fundamentals.git_sandbox import run_git

    result = run_git(repo, *args)
    if not result.ok:
        raise PipelineError("error_git", command=result.command, output=result.output[-500:])
    return result


def ensure_sandbox(settings: Settings, learner: str) -> list[str]:
    """Create the learner's repository from the example package (first commit) if it does not exist.

    Returns:
        The commands run, with their output (empty when the repository already existed).
    """
    from workbench.chapters.ch02_fundamentals.git_sandbox import init_sandbox, is_initialised
    from workbench.chapters.ch04_packaging.lab import COPY_IGNORE, package_source

    repo = sandbox_dir(settings, learner)
    if is_initialised(repo):
        return []
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(package_source(settings), repo, ignore=shutil.ignore_patterns(*COPY_IGNORE))
    (repo / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    lines = [f"$ cp -r examples/loan_model_package {repo}"]
    for result in init_sandbox(repo, learner):
        lines.append(f"$ {result.command}\n{result.output}".rstrip())
    for args in (("add", "-A"), ("commit", "-q", "-m", "Import the loan-model package")):
        result = _git(repo, *args)
        lines.append(f"$ {result.command}\n{result.output}".rstrip())
    return lines


def apply_injection(repo: Path, injection: str) -> str | None:
    """Add the failing test for the `failing_test` injection, remove it otherwise. Returns what changed."""
    path = repo / INJECTED_TEST
    if injection == "failing_test":
        if not path.is_file():
            path.write_text(INJECTED_TEST_CODE, encoding="utf-8")
            return f"added {INJECTED_TEST}"
        return None
    if path.is_file():
        path.unlink()
        return f"removed {INJECTED_TEST}"
    return None


def build_inputs_key(repo: Path) -> str:
    """A hash of the git objects the wheel is built from (same key ⇒ same wheel)."""
    parts = []
    for name in BUILD_INPUTS:
        result = _git(repo, "rev-parse", f"HEAD:{name}")
        parts.append(f"{name}={result.output.strip()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def step_commit(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """A real commit in the learner's repository: the change log line, and the injected test if asked."""
    repo = sandbox_dir(settings, run.learner)
    lines = ensure_sandbox(settings, run.learner)
    changed = apply_injection(repo, run.config.injection)
    if changed:
        lines.append(changed)
    changelog = repo / "CHANGELOG.md"
    before = changelog.read_text(encoding="utf-8") if changelog.is_file() else "# Changes\n\n"
    changelog.write_text(f"{before}- pipeline #{run.number}: {run.config.message}\n", encoding="utf-8")
    for args in (("add", "-A"), ("commit", "-m", run.config.message)):
        result = _git(repo, *args)
        lines.append(f"$ {result.command}\n{result.output}".rstrip())
    run.commit = _git(repo, "rev-parse", "HEAD").output.strip()
    run.build_key = build_inputs_key(repo)
    lines.append(f"$ git rev-parse HEAD\n{run.commit}")
    return True, "\n".join(lines), ("commit_done", {"sha": run.commit[:7], "message": run.config.message})


def step_build(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """`python -m build` on the commit, or the cached wheel when the wheel's inputs did not change."""
    from workbench.chapters.ch04_packaging import lab as pk

    dest = build_dir(settings, run.learner)
    cache_file = dest / "cache.json"
    cache = read_json(cache_file, {})
    cache = cache if isinstance(cache, dict) else {}
    wheel = Path(cache.get("wheel", "")) if cache.get("wheel") else None
    if run.config.use_build_cache and cache.get("key") == run.build_key and wheel is not None and wheel.is_file():
        run.wheel = str(wheel)
        log = (
            f"build cache hit: key {run.build_key[:12]} (src/, pyproject.toml, MANIFEST.in, README.md unchanged "
            f"since commit {str(cache.get('commit'))[:7]})\nreusing {wheel.name}"
        )
        return True, log, ("build_cached", {"wheel": wheel.name, "sha": str(cache.get("commit"))[:7]})
    result = pk.build_package(dest, sandbox_dir(settings, run.learner), on_line=on_line)
    log = f"$ {' '.join(result.command)}\n{result.log}"
    if not result.ok:
        return False, log, ("build_failed", {"code": result.returncode})
    run.wheel = str(result.wheel)
    write_json(cache_file, {"key": run.build_key, "wheel": str(result.wheel), "commit": run.commit})
    return True, log, ("build_done", {"wheel": result.wheel.name, "seconds": result.seconds})


def step_test(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """pytest on the installed wheel, with the commit's tests, and its JUnit XML report parsed."""
    from workbench.chapters.ch04_packaging import lab as pk

    if not run.wheel:
        raise PipelineError("error_no_wheel")
    report = pk.run_package_tests(
        build_dir(settings, run.learner),
        wheel=Path(run.wheel),
        tests_dir=sandbox_dir(settings, run.learner) / "tests",
        on_line=on_line,
    )
    run.test_report = report
    if report.junit_path.is_file():
        artifact = cicd_dir(settings, run.learner) / "artifacts" / f"pipeline-{run.number:03d}" / "junit.xml"
        artifact.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(report.junit_path, artifact)
        run.junit_file = str(artifact)
        records_for(settings, run.learner).put_text(
            junit_record_key(run.number), report.junit_path.read_text(encoding="utf-8", errors="replace")
        )
    log = f"$ {' '.join(report.command)}\n{report.log}"
    if report.ok:
        return True, log, ("tests_passed", {"n": report.tests, "seconds": report.seconds})
    failed = [c.name for c in report.cases if c.outcome in ("failed", "error")]
    if not report.cases:
        return False, log, ("tests_none", {"code": report.returncode})
    return False, log, ("tests_failed", {"n": len(failed), "total": report.tests, "names": ", ".join(failed[:3])})


def evaluation_data() -> pd.DataFrame:
    """The fixed evaluation set every candidate and the production model are scored on."""
    from workbench.core.data import generate_loan_data

    return generate_loan_data(EVAL_ROWS, seed=EVAL_SEED)


def training_data(settings: Settings, number: int, new_rows: int, injection: str = "none") -> pd.DataFrame:
    """The course data plus pipeline #number's batch of new applications (labels flipped if injected)."""
    import numpy as np

    from workbench.core.data import NEGATIVE, POSITIVE, TARGET, generate_loan_data, load_course_data

    frames = [load_course_data(settings.data_path)]
    if new_rows:
        batch = generate_loan_data(new_rows, seed=NEW_DATA_SEED + number)
        batch["Loan_ID"] = [f"NB{number:03d}{i:05d}" for i in range(len(batch))]
        frames.append(batch)
    data = pd.concat(frames, ignore_index=True)
    if injection == "noisy_labels":
        flip = np.random.default_rng(NEW_DATA_SEED + number).random(len(data)) < NOISE_RATE
        data.loc[flip, TARGET] = np.where(data.loc[flip, TARGET] == POSITIVE, NEGATIVE, POSITIVE)
    return data


def score(model: Any, data: pd.DataFrame) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and ROC-AUC of a fitted pipeline on a labelled loan table."""
    from workbench.core.data import split_features_target
    from workbench.core.modeling import compute_metrics

    X, y = split_features_target(data)
    proba = model.predict_proba(X)[:, 1]
    return compute_metrics(y, (proba >= 0.5).astype(int), proba)


def baseline_scores(data: pd.DataFrame) -> dict[str, float]:
    """The scores of "always answer the majority class" on a labelled loan table."""
    import numpy as np

    from workbench.core.data import split_features_target
    from workbench.core.modeling import compute_metrics

    _, y = split_features_target(data)
    majority = int(np.asarray(y).mean() >= 0.5)
    return compute_metrics(y, np.full(len(y), majority), np.full(len(y), float(majority)))


def step_train(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Continuous training: retrain on the course data + a new batch, log the run to MLflow, score it."""
    from workbench.core import tracking
    from workbench.core.modeling import train_model

    config = run.config
    data = training_data(settings, run.number, config.new_rows, config.injection)
    model_name, params = WEAK_MODEL if config.injection == "weak_params" else (config.model_name, config.params)
    result = train_model(data, model_name, params)
    run.model_label = tracking.run_label(model_name, result.params)
    run.n_train_rows = len(data)
    logged = tracking.log_training_run(
        result,
        data,
        run.learner,
        chapter="08_cicd",
        run_name=f"pipeline #{run.number} {run.model_label}",
        data_source=f"course data + new batch (seed {NEW_DATA_SEED + run.number}, {config.new_rows} rows)",
        settings=settings,
    )
    run.mlflow_run_id, run.model_uri = logged.run_id, logged.model_uri
    run.candidate_metrics = score(result.pipeline, evaluation_data())
    client = tracking.client(settings)
    for name, value in run.candidate_metrics.items():
        client.log_metric(logged.run_id, f"eval_{name}", value)
    for key, value in {
        "pipeline_run": run.id,
        "pipeline_number": str(run.number),
        "injection": config.injection,
        "commit": run.commit or "",
    }.items():
        client.set_tag(logged.run_id, key, value)
    metric = config.metric
    log = "\n".join(
        [
            f"training rows: {len(data)} = course data + {config.new_rows} new (seed {NEW_DATA_SEED + run.number})"
            + (f", {NOISE_RATE:.0%} of the labels flipped" if config.injection == "noisy_labels" else ""),
            f"model: {run.model_label}",
            f"mlflow run: {logged.run_id} ({logged.seconds:.1f} s to log)",
            f"evaluation set: {EVAL_ROWS} rows (seed {EVAL_SEED})",
            " ".join(f"eval_{k}={v:.4f}" for k, v in run.candidate_metrics.items()),
        ]
    )
    value = run.candidate_metrics[metric]
    return (
        True,
        log,
        (
            "train_done",
            {
                "model": run.model_label,
                "rows": len(data),
                "value": value,
                "metric": metric,
                "run_id": logged.run_id[:8],
            },
        ),
    )


def decide_gate(
    candidate: dict[str, float],
    baseline: dict[str, float],
    production: dict[str, float] | None,
    metric: str,
    margin: float,
    production_version: int | None = None,
) -> GateDecision:
    """The quality gate: the candidate must beat the baseline, and `@production` by at least `margin`.

    Beating the baseline means strictly more; beating production means `candidate >= production + margin`
    (with a margin of 0, a candidate as good as production passes).
    """
    value, base = candidate[metric], baseline[metric]
    prod = None if production is None else production[metric]
    if value <= base:
        reason = "below_baseline"
    elif prod is not None and value < prod + margin - 1e-12:
        reason = "below_production"
    else:
        reason = "passed"
    return GateDecision(reason == "passed", metric, margin, value, base, prod, production_version, reason)


def production_scores(
    settings: Settings, data: pd.DataFrame, learner: str | None = None
) -> tuple[int | None, dict[str, float] | None]:
    """The version `@production` of the learner's model points to and its scores on `data` (None, None when
    nothing is in production)."""
    from workbench.core import tracking
    from workbench.core.safe_models import ModelRefused

    version = tracking.resolve_alias("production", settings, learner=learner)
    if version is None:
        return None, None
    try:
        return version, score(tracking.load_model("production", settings, learner=learner), data)
    except ModelRefused as exc:  # the gate fails closed: it cannot compare against a model it will not load
        raise PipelineError("error_production_refused", version=version, detail=str(exc)) from exc


def step_gate(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Score `@production` on the same evaluation set and decide whether the candidate may go on."""
    from workbench.core import tracking

    if not run.candidate_metrics:
        raise PipelineError("error_no_candidate")
    data = evaluation_data()
    version, production = production_scores(settings, data, run.learner)
    run.production_before = version
    gate = decide_gate(
        run.candidate_metrics, baseline_scores(data), production, run.config.metric, run.config.margin, version
    )
    run.gate = gate
    client = tracking.client(settings)
    client.set_tag(run.mlflow_run_id, "gate", "passed" if gate.passed else f"failed: {gate.reason}")
    if production is not None:
        client.log_metric(run.mlflow_run_id, f"gate_production_{gate.metric}", production[gate.metric])
    return gate.passed, gate_log(gate), (gate.message_key, gate.values)


def gate_log(gate: GateDecision) -> str:
    """The gate's numbers as a CI log prints them."""
    production = "-" if gate.production is None else f"{gate.production:.4f}  (version {gate.production_version})"
    return "\n".join(
        [
            f"evaluation set: {EVAL_ROWS} rows (seed {EVAL_SEED}), metric: {gate.metric}, margin: {gate.margin:+.3f}",
            f"candidate   {gate.candidate:.4f}",
            f"baseline    {gate.baseline:.4f}  (always the majority class)",
            f"production  {production}",
            f"gate: {'OPEN' if gate.passed else 'CLOSED'} ({gate.reason})"
            + (
                " - a tie: margin 0 asks for 'no worse than production', not 'better'"
                if gate.passed and gate.equal_to_production
                else ""
            ),
        ]
    )


def step_staging(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Continuous delivery: register the candidate as a new version and point `staging` at it."""
    from workbench.core import tracking

    description = f"pipeline #{run.number} ({run.model_label}), commit {(run.commit or '')[:7]}"
    info = tracking.register_run_model(run.mlflow_run_id, run.learner, description=description, settings=settings)
    run.version = info.version
    tracking.set_version_tag(info.version, "pipeline_run", run.id, settings, learner=run.learner)
    tracking.set_version_tag(info.version, "commit", run.commit or "", settings, learner=run.learner)
    tracking.set_alias("staging", info.version, run.learner, settings)
    name = settings.learner_model_name(run.learner)
    log = f"registered {name} version {info.version} from run {run.mlflow_run_id}\n@staging -> {info.version}"
    return True, log, ("staging_done", {"version": info.version, "name": name})


def step_production(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Deployment: point `production` at the candidate's version (recorded for rollbacks)."""
    from workbench.core import tracking

    if run.version is None:
        raise PipelineError("error_no_version")
    before = tracking.resolve_alias("production", settings, learner=run.learner)
    tracking.set_alias("production", run.version, run.learner, settings)
    run.production_after = tracking.resolve_alias("production", settings, learner=run.learner)
    log = f"@production: {before if before is not None else '-'} -> {run.production_after}"
    key = "production_done_auto" if run.config.mode == "deployment" else "production_done_approved"
    return True, log, (key, {"version": run.version, "previous": before if before is not None else "—"})


STEP_FUNCTIONS: dict[str, Callable[..., StepResult]] = {
    "commit": step_commit,
    "build": step_build,
    "test": step_test,
    "train": step_train,
    "gate": step_gate,
    "staging": step_staging,
    "production": step_production,
}
