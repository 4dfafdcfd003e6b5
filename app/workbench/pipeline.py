"""Chapter VIII: a CI/CD/CT pipeline for the loan model, run step by step with real tools.

commit → build → test → train → gate → staging → production:

- **commit**: a real `git commit` in the learner's copy of `examples/loan_model_package`
  (`settings.learner_dir(learner)/cicd/repo`, a git repository of its own, see workbench.git_sandbox);
- **build**: `python -m build` on that commit (workbench.packaging), skipped when the wheel's inputs
  (`src/`, `pyproject.toml`, `MANIFEST.in`, `README.md`) have the same git tree hashes as the last
  build — a build cache, as real CI systems keep one;
- **test**: pytest on the installed wheel with a JUnit XML report, parsed;
- **train** (continuous training): the course data plus a new batch of applications, logged to MLflow;
- **gate**: the candidate must beat the majority-class baseline and `@production` (by a margin) on the
  same fixed evaluation set;
- **staging** (continuous delivery): a new registry version, alias `staging`;
- **production**: alias `production`, after a human approval (continuous delivery) or at once
  (continuous deployment).

Failures can be injected: a failing test added to the sandbox, labels flipped in the training data, or a
crippled hyperparameter. The pipeline state is a `PipelineRun` (kept by the page in session_state); every
run is also summarised in the learner's `cicd/history.json`, which the hands-on checks read.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.exercises import CheckContext, CheckResult
from workbench.formatting import localize_figure, seconds
from workbench.i18n import LocalizedError, translate
from workbench.learner_files import read_json, write_json
from workbench.lessons import load_annotations
from workbench.settings import Settings

STEPS: tuple[str, ...] = ("commit", "build", "test", "train", "gate", "staging", "production")
MODES: tuple[str, ...] = ("delivery", "deployment")
INJECTIONS: tuple[str, ...] = ("none", "failing_test", "noisy_labels", "weak_params")
WORSE_MODEL_INJECTIONS: tuple[str, ...] = ("noisy_labels", "weak_params")
GATE_METRICS: tuple[str, ...] = ("accuracy", "f1", "roc_auc")
STATUSES: tuple[str, ...] = ("pending", "passed", "failed", "waiting", "skipped")
OUTCOMES: tuple[str, ...] = ("running", "waiting", "production", "failed", "rejected")

EVAL_ROWS = 400
EVAL_SEED = 8080  # the fixed evaluation set: never used for training
NEW_DATA_SEED = 5000  # pipeline #n trains on the course data + generate_loan_data(new_rows, 5000 + n)
NOISE_RATE = 0.4  # share of training labels flipped by the "noisy labels" injection
WEAK_MODEL: tuple[str, dict] = ("logistic_regression", {"C": 0.001})  # so regularised it always says "Y"
MAX_NEW_ROWS = 5000
MAX_HISTORY = 200

INJECTED_TEST = "tests/test_injected_regression.py"
INJECTED_TEST_CODE = '''"""Added by the CI/CD lab (failure injection): a requirement the code does not meet yet."""

import pytest
from loan_model import make_prediction


def test_an_application_without_income_is_refused():
    with pytest.raises(ValueError, match="income"):
        make_prediction([{"Credit_History": 1, "ApplicantIncome": 0, "CoapplicantIncome": 0, "LoanAmount": 128}])
'''
GITIGNORE = "build/\ndist/\n*.egg-info/\n__pycache__/\n.pytest_cache/\n"
#: Files of the sandbox that go into the wheel: when their git hashes are unchanged, the build is reused.
BUILD_INPUTS: tuple[str, ...] = ("src", "pyproject.toml", "MANIFEST.in", "README.md")


class PipelineError(LocalizedError, ValueError):
    """A pipeline action the lab refuses; `message(lang)` explains why in the learner's language."""

    namespace = "cicd"


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineConfig:
    """What the learner chose before starting a pipeline."""

    mode: str = "delivery"  # delivery: a human approves production; deployment: automatic
    injection: str = "none"
    model_name: str = "logistic_regression"
    params: dict = field(default_factory=dict)
    new_rows: int = 200
    metric: str = "accuracy"
    margin: float = 0.0
    message: str = "Retrain on the latest applications"
    use_build_cache: bool = True


def _localised(values: dict, lang: str) -> dict:
    """Message values with the metric name translated (`roc_auc` → "ROC AUC")."""
    if "metric" in values:
        return {**values, "metric": translate(f"model.metric_{values['metric']}", lang)}
    return values


@dataclass
class StepState:
    """One step: its status, duration, raw log, and a message (translation key + values) for the learner."""

    name: str
    status: str = "pending"
    seconds: float = 0.0
    log: str = ""
    message: tuple[str, dict] | None = None

    def text(self, lang: str) -> str:
        """The step's message in `lang` (empty when it has none)."""
        if self.message is None:
            return ""
        key, values = self.message
        return translate(f"cicd.{key}", lang, **_localised(values, lang))


@dataclass(frozen=True)
class GateDecision:
    """The quality gate's verdict on the candidate, with the numbers it compared."""

    passed: bool
    metric: str
    margin: float
    candidate: float
    baseline: float
    production: float | None
    production_version: int | None
    reason: str  # passed | below_baseline | below_production

    @property
    def equal_to_production(self) -> bool:
        """The candidate scores exactly what `@production` scores (it passes only because margin ≤ 0)."""
        return self.production is not None and abs(self.candidate - self.production) <= 1e-12

    @property
    def message_key(self) -> str:
        """The translation key (under `cicd.`) of the verdict."""
        if self.reason == "passed" and self.production is None:
            return "gate_passed_first"
        if self.reason == "passed" and self.equal_to_production:
            return "gate_passed_equal"  # says why a tie passes, and how to ask for a real improvement
        return f"gate_{self.reason}"

    @property
    def values(self) -> dict:
        """The values the verdict's message needs."""
        return {"metric": self.metric, "candidate": self.candidate, "baseline": self.baseline,
                "production": self.production or 0.0, "margin": self.margin, "version": self.production_version}  # fmt: skip

    def text(self, lang: str) -> str:
        """The verdict explained in `lang`."""
        return translate(f"cicd.{self.message_key}", lang, **_localised(self.values, lang))


@dataclass
class PipelineRun:
    """A pipeline execution: its configuration, its steps and what each produced."""

    id: str
    number: int
    learner: str
    config: PipelineConfig
    steps: list[StepState]
    started: float
    finished: float | None = None
    rejected: bool = False
    commit: str | None = None
    build_key: str | None = None
    wheel: str | None = None
    test_report: Any = None  # packaging.TestReport
    junit_file: str | None = None  # this run's copy of the JUnit XML report (an artifact of the pipeline)
    mlflow_run_id: str | None = None
    model_uri: str | None = None
    model_label: str = ""
    n_train_rows: int = 0
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    gate: GateDecision | None = None
    version: int | None = None
    production_before: int | None = None
    production_after: int | None = None

    def step(self, name: str) -> StepState:
        """The state of step `name`."""
        return next(s for s in self.steps if s.name == name)

    @property
    def next_step(self) -> StepState | None:
        """The step that runs next (None when the pipeline is over or waits for an approval)."""
        if self.finished is not None or any(s.status == "waiting" for s in self.steps):
            return None
        return next((s for s in self.steps if s.status == "pending"), None)

    @property
    def failed_step(self) -> str | None:
        """The name of the step that failed, if any."""
        return next((s.name for s in self.steps if s.status == "failed"), None)

    @property
    def outcome(self) -> str:
        """running, waiting (for approval), production, failed or rejected."""
        if self.failed_step:
            return "failed"
        if self.rejected:
            return "rejected"
        if self.step("production").status == "passed":
            return "production"
        if self.step("production").status == "waiting":
            return "waiting"
        return "running"

    @property
    def seconds(self) -> float:
        """Total time spent in the steps."""
        return sum(s.seconds for s in self.steps)


# --------------------------------------------------------------------------------------------
# Where things live
# --------------------------------------------------------------------------------------------


def cicd_dir(settings: Settings, learner: str) -> Path:
    """The learner's CI/CD folder: repo/ (git sandbox), build/ (dist, site, reports), history.json."""
    return settings.learner_dir(learner) / "cicd"


def sandbox_dir(settings: Settings, learner: str) -> Path:
    """The learner's git repository: a copy of the example package (not created here)."""
    return cicd_dir(settings, learner) / "repo"


def build_dir(settings: Settings, learner: str) -> Path:
    """Where the build and test steps write (source/, dist/, site/, reports/, cache.json)."""
    return cicd_dir(settings, learner) / "build"


def history_path(settings: Settings, learner: str) -> Path:
    """The learner's pipeline history (JSON)."""
    return cicd_dir(settings, learner) / "history.json"


def load_history(settings: Settings, learner: str) -> list[dict]:
    """Every pipeline the learner ran, oldest first (empty if none or unreadable)."""
    data = read_json(history_path(settings, learner), [])
    return data if isinstance(data, list) else []


def summary(run: PipelineRun) -> dict:
    """The JSON-friendly record of a run kept in the history."""
    report = run.test_report
    return {
        "id": run.id,
        "number": run.number,
        "learner": run.learner,
        "started": run.started,
        "finished": run.finished,
        "mode": run.config.mode,
        "injection": run.config.injection,
        "model": run.model_label,
        "metric": run.config.metric,
        "margin": run.config.margin,
        "commit": run.commit,
        "outcome": run.outcome,
        "failed_step": run.failed_step,
        "steps": {s.name: s.status for s in run.steps},
        "seconds": round(run.seconds, 2),
        "tests": None if report is None else {"total": report.tests, "failed": report.count("failed") + report.count("error")},
        "junit": run.junit_file,
        "mlflow_run_id": run.mlflow_run_id,
        "gate": None if run.gate is None else {
            "passed": run.gate.passed, "reason": run.gate.reason, "candidate": run.gate.candidate,
            "baseline": run.gate.baseline, "production": run.gate.production,
            "production_version": run.gate.production_version,
        },
        "version": run.version,
        "production_before": run.production_before,
        "production_after": run.production_after,
    }  # fmt: skip


def record(settings: Settings, run: PipelineRun) -> list[dict]:
    """Insert or update the run's summary in the learner's history; returns the history."""
    history = [h for h in load_history(settings, run.learner) if h.get("id") != run.id]
    history = [*history, summary(run)][-MAX_HISTORY:]
    history.sort(key=lambda h: h.get("number", 0))
    write_json(history_path(settings, run.learner), history)
    return history


# --------------------------------------------------------------------------------------------
# Starting, stepping, approving
# --------------------------------------------------------------------------------------------


def validate_config(config: PipelineConfig) -> PipelineConfig:
    """The config with its model parameters cleaned.

    Raises:
        PipelineError: an unknown mode, injection, model, metric, or a value out of range.
    """
    from workbench.modeling import MODEL_NAMES, clean_params

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
        step.status = "waiting"
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
    step.status = "passed" if passed else "failed"
    step.log, step.message = log, message
    if not passed:
        for later in run.steps[run.steps.index(step) + 1 :]:
            later.status = "skipped"
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
    step.status = "skipped"
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
    from workbench.git_sandbox import run_git

    result = run_git(repo, *args)
    if not result.ok:
        raise PipelineError("error_git", command=result.command, output=result.output[-500:])
    return result


def ensure_sandbox(settings: Settings, learner: str) -> list[str]:
    """Create the learner's repository from the example package (first commit) if it does not exist.

    Returns:
        The commands run, with their output (empty when the repository already existed).
    """
    from workbench.git_sandbox import init_sandbox, is_initialised
    from workbench.packaging import COPY_IGNORE, package_source

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
    from workbench import packaging as pk

    dest = build_dir(settings, run.learner)
    cache_file = dest / "cache.json"
    cache = read_json(cache_file, {})
    cache = cache if isinstance(cache, dict) else {}
    wheel = Path(cache.get("wheel", "")) if cache.get("wheel") else None
    if run.config.use_build_cache and cache.get("key") == run.build_key and wheel is not None and wheel.is_file():
        run.wheel = str(wheel)
        log = (f"build cache hit: key {run.build_key[:12]} (src/, pyproject.toml, MANIFEST.in, README.md unchanged "
               f"since commit {str(cache.get('commit'))[:7]})\nreusing {wheel.name}")  # fmt: skip
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
    from workbench import packaging as pk

    if not run.wheel:
        raise PipelineError("error_no_wheel")
    report = pk.run_package_tests(
        build_dir(settings, run.learner), wheel=Path(run.wheel), tests_dir=sandbox_dir(settings, run.learner) / "tests",
        on_line=on_line,
    )  # fmt: skip
    run.test_report = report
    if report.junit_path.is_file():
        artifact = cicd_dir(settings, run.learner) / "artifacts" / f"pipeline-{run.number:03d}" / "junit.xml"
        artifact.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(report.junit_path, artifact)
        run.junit_file = str(artifact)
    log = f"$ {' '.join(report.command)}\n{report.log}"
    if report.ok:
        return True, log, ("tests_passed", {"n": report.tests, "seconds": report.seconds})
    failed = [c.name for c in report.cases if c.outcome in ("failed", "error")]
    if not report.cases:
        return False, log, ("tests_none", {"code": report.returncode})
    return False, log, ("tests_failed", {"n": len(failed), "total": report.tests, "names": ", ".join(failed[:3])})


def evaluation_data() -> pd.DataFrame:
    """The fixed evaluation set every candidate and the production model are scored on."""
    from workbench.data import generate_loan_data

    return generate_loan_data(EVAL_ROWS, seed=EVAL_SEED)


def training_data(settings: Settings, number: int, new_rows: int, injection: str = "none") -> pd.DataFrame:
    """The course data plus pipeline #number's batch of new applications (labels flipped if injected)."""
    import numpy as np

    from workbench.data import NEGATIVE, POSITIVE, TARGET, generate_loan_data, load_course_data

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
    from workbench.data import split_features_target
    from workbench.modeling import compute_metrics

    X, y = split_features_target(data)
    proba = model.predict_proba(X)[:, 1]
    return compute_metrics(y, (proba >= 0.5).astype(int), proba)


def baseline_scores(data: pd.DataFrame) -> dict[str, float]:
    """The scores of "always answer the majority class" on a labelled loan table."""
    import numpy as np

    from workbench.data import split_features_target
    from workbench.modeling import compute_metrics

    _, y = split_features_target(data)
    majority = int(np.asarray(y).mean() >= 0.5)
    return compute_metrics(y, np.full(len(y), majority), np.full(len(y), float(majority)))


def step_train(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Continuous training: retrain on the course data + a new batch, log the run to MLflow, score it."""
    from workbench import tracking
    from workbench.modeling import train_model

    config = run.config
    data = training_data(settings, run.number, config.new_rows, config.injection)
    model_name, params = WEAK_MODEL if config.injection == "weak_params" else (config.model_name, config.params)
    result = train_model(data, model_name, params)
    run.model_label = tracking.run_label(model_name, result.params)
    run.n_train_rows = len(data)
    logged = tracking.log_training_run(
        result, data, run.learner, chapter="08_cicd", run_name=f"pipeline #{run.number} {run.model_label}",
        data_source=f"course data + new batch (seed {NEW_DATA_SEED + run.number}, {config.new_rows} rows)",
        settings=settings,
    )  # fmt: skip
    run.mlflow_run_id, run.model_uri = logged.run_id, logged.model_uri
    run.candidate_metrics = score(result.pipeline, evaluation_data())
    client = tracking.client(settings)
    for name, value in run.candidate_metrics.items():
        client.log_metric(logged.run_id, f"eval_{name}", value)
    for key, value in {"pipeline_run": run.id, "pipeline_number": str(run.number), "injection": config.injection,
                       "commit": run.commit or ""}.items():  # fmt: skip
        client.set_tag(logged.run_id, key, value)
    metric = config.metric
    log = "\n".join([
        f"training rows: {len(data)} = course data + {config.new_rows} new (seed {NEW_DATA_SEED + run.number})"
        + (f", {NOISE_RATE:.0%} of the labels flipped" if config.injection == "noisy_labels" else ""),
        f"model: {run.model_label}",
        f"mlflow run: {logged.run_id} ({logged.seconds:.1f} s to log)",
        f"evaluation set: {EVAL_ROWS} rows (seed {EVAL_SEED})",
        " ".join(f"eval_{k}={v:.4f}" for k, v in run.candidate_metrics.items()),
    ])  # fmt: skip
    value = run.candidate_metrics[metric]
    return True, log, ("train_done", {"model": run.model_label, "rows": len(data), "value": value,
                                      "metric": metric, "run_id": logged.run_id[:8]})  # fmt: skip


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


def production_scores(settings: Settings, data: pd.DataFrame) -> tuple[int | None, dict[str, float] | None]:
    """The version `@production` points to and its scores on `data` (None, None when nothing is in production)."""
    from workbench import tracking
    from workbench.safe_models import ModelRefused

    version = tracking.resolve_alias("production", settings)
    if version is None:
        return None, None
    try:
        return version, score(tracking.load_model("production", settings), data)
    except ModelRefused as exc:  # the gate fails closed: it cannot compare against a model it will not load
        raise PipelineError("error_production_refused", version=version, detail=str(exc)) from exc


def step_gate(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Score `@production` on the same evaluation set and decide whether the candidate may go on."""
    from workbench import tracking

    if not run.candidate_metrics:
        raise PipelineError("error_no_candidate")
    data = evaluation_data()
    version, production = production_scores(settings, data)
    run.production_before = version
    gate = decide_gate(run.candidate_metrics, baseline_scores(data), production, run.config.metric, run.config.margin,
                       version)  # fmt: skip
    run.gate = gate
    client = tracking.client(settings)
    client.set_tag(run.mlflow_run_id, "gate", "passed" if gate.passed else f"failed: {gate.reason}")
    if production is not None:
        client.log_metric(run.mlflow_run_id, f"gate_production_{gate.metric}", production[gate.metric])
    return gate.passed, gate_log(gate), (gate.message_key, gate.values)


def gate_log(gate: GateDecision) -> str:
    """The gate's numbers as a CI log prints them."""
    production = "-" if gate.production is None else f"{gate.production:.4f}  (version {gate.production_version})"
    return "\n".join([
        f"evaluation set: {EVAL_ROWS} rows (seed {EVAL_SEED}), metric: {gate.metric}, margin: {gate.margin:+.3f}",
        f"candidate   {gate.candidate:.4f}",
        f"baseline    {gate.baseline:.4f}  (always the majority class)",
        f"production  {production}",
        f"gate: {'OPEN' if gate.passed else 'CLOSED'} ({gate.reason})"
        + (" - a tie: margin 0 asks for 'no worse than production', not 'better'" if gate.passed
           and gate.equal_to_production else ""),
    ])  # fmt: skip


def step_staging(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Continuous delivery: register the candidate as a new version and point `staging` at it."""
    from workbench import tracking

    description = f"pipeline #{run.number} ({run.model_label}), commit {(run.commit or '')[:7]}"
    info = tracking.register_run_model(run.mlflow_run_id, run.learner, description=description, settings=settings)
    run.version = info.version
    tracking.set_version_tag(info.version, "pipeline_run", run.id, settings)
    tracking.set_version_tag(info.version, "commit", run.commit or "", settings)
    tracking.set_alias("staging", info.version, run.learner, settings)
    log = f"registered {settings.model_name} version {info.version} from run {run.mlflow_run_id}\n@staging -> {info.version}"
    return True, log, ("staging_done", {"version": info.version, "name": settings.model_name})


def step_production(run: PipelineRun, settings: Settings, on_line=None) -> StepResult:
    """Deployment: point `production` at the candidate's version (recorded for rollbacks)."""
    from workbench import tracking

    if run.version is None:
        raise PipelineError("error_no_version")
    before = tracking.resolve_alias("production", settings)
    tracking.set_alias("production", run.version, run.learner, settings)
    run.production_after = tracking.resolve_alias("production", settings)
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


# --------------------------------------------------------------------------------------------
# The learner's repository
# --------------------------------------------------------------------------------------------


def sandbox_log(settings: Settings, learner: str, limit: int = 15) -> str:
    """`git log --oneline` of the learner's repository (empty when it does not exist yet)."""
    from workbench.git_sandbox import is_initialised, run_git

    repo = sandbox_dir(settings, learner)
    if not is_initialised(repo):
        return ""
    return run_git(repo, "log", "--oneline", "--decorate", f"-{limit}").output


def reset_sandbox(settings: Settings, learner: str) -> bool:
    """Delete the learner's repository and build folder (the history stays). True when something was deleted."""
    base = cicd_dir(settings, learner).resolve()
    if base.parent != settings.learner_dir(learner).resolve():
        raise PipelineError("error_not_sandbox")
    deleted = False
    for folder in (sandbox_dir(settings, learner), build_dir(settings, learner)):
        if folder.exists():
            shutil.rmtree(folder)
            deleted = True
    return deleted


# --------------------------------------------------------------------------------------------
# Tables and figure
# --------------------------------------------------------------------------------------------

STATUS_COLORS = {"pending": "#adb5bd", "passed": "#2f9e44", "failed": "#e03131", "waiting": "#f59f00",
                 "skipped": "#dee2e6"}  # fmt: skip
STATUS_SYMBOLS = {"pending": "○", "passed": "✓", "failed": "✗", "waiting": "…", "skipped": "–"}


def steps_table(run: PipelineRun, lang: str) -> pd.DataFrame:
    """The steps as a table: step, status, seconds, message."""
    tr = lambda key: translate(f"cicd.{key}", lang)  # noqa: E731
    return pd.DataFrame(
        {
            tr("col_step"): [tr(f"step_{s.name}") for s in run.steps],
            tr("col_status"): [f"{STATUS_SYMBOLS[s.status]} {tr(f'status_{s.status}')}" for s in run.steps],
            tr("col_seconds"): [round(s.seconds, 2) for s in run.steps],
            tr("col_message"): [s.text(lang).replace("`", "") for s in run.steps],
        }
    )


def history_table(history: list[dict], lang: str) -> pd.DataFrame:
    """The learner's pipelines, newest first: number, date, mode, injection, outcome, gate numbers, version."""
    import datetime as dt

    tr = lambda key: translate(f"cicd.{key}", lang)  # noqa: E731
    rows = []
    for h in reversed(history):
        gate = h.get("gate") or {}
        outcome = h.get("outcome", "running")
        failed = h.get("failed_step")
        rows.append(
            {
                "#": h.get("number"),
                tr("col_started"): dt.datetime.fromtimestamp(h.get("started", 0)),
                tr("col_mode"): tr(f"mode_{h.get('mode', 'delivery')}"),
                tr("col_injection"): tr(f"injection_{h.get('injection', 'none')}"),
                tr("col_commit"): (h.get("commit") or "")[:7],
                tr("col_outcome"): tr(f"outcome_{outcome}") + (f" ({tr(f'step_{failed}')})" if failed else ""),
                tr("col_candidate"): gate.get("candidate"),
                tr("col_production"): gate.get("production"),
                tr("col_version"): h.get("version"),
                tr("col_seconds"): h.get("seconds"),
            }
        )
    table = pd.DataFrame(rows)
    for column in (tr("col_version"),):
        if column in table:
            table[column] = table[column].astype("Int64")
    return table


def pipeline_figure(run: PipelineRun, lang: str):
    """The pipeline as a chain of coloured steps (status) with their durations."""
    import plotly.graph_objects as go

    xs = list(range(len(run.steps)))
    names = [translate(f"cicd.step_{s.name}", lang) for s in run.steps]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=[0] * len(xs), mode="lines", line={"color": "#ced4da", "width": 4},
                             hoverinfo="skip", showlegend=False))  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=xs, y=[0] * len(xs), mode="markers+text",
            marker={"size": 46, "color": [STATUS_COLORS[s.status] for s in run.steps], "line": {"color": "white", "width": 2}},
            text=[STATUS_SYMBOLS[s.status] for s in run.steps], textfont={"color": "white", "size": 20},
            hovertext=[f"{n}: {translate(f'cicd.status_{s.status}', lang)}" for n, s in zip(names, run.steps)],
            hoverinfo="text", showlegend=False,
        )
    )  # fmt: skip
    for x, name, s in zip(xs, names, run.steps):
        fig.add_annotation(x=x, y=-0.55, text=f"<b>{name}</b>", showarrow=False, font={"size": 13})
        if s.status in ("passed", "failed"):
            fig.add_annotation(
                x=x, y=0.55, text=seconds(s.seconds, lang, 1), showarrow=False, font={"size": 11, "color": "#495057"}
            )
    fig.update_layout(
        height=170, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"visible": False, "range": [-0.6, len(xs) - 0.4]}, yaxis={"visible": False, "range": [-1, 1]},
    )  # fmt: skip
    return localize_figure(fig, lang)


# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------


def commit_code(run: PipelineRun) -> str:
    """The shell commands of the commit step."""
    inject = {"failing_test": f"cat > {INJECTED_TEST} <<'EOF'\n{INJECTED_TEST_CODE}EOF\n"}.get(run.config.injection, "")
    message = run.config.message.replace("'", "'\\''")
    return (f"cd loan_model_package\n{inject}echo '- pipeline #{run.number}: {message}' >> CHANGELOG.md\n"
            f"git add -A\ngit commit -m '{message}'\ngit rev-parse HEAD      # {run.commit or '<sha>'}\n")  # fmt: skip


def build_code(cached: bool) -> str:
    """The build step as shell commands (and how the cache key is computed)."""
    key = "git rev-parse HEAD:src HEAD:pyproject.toml HEAD:MANIFEST.in HEAD:README.md | sha256sum   # cache key\n"
    return key + (
        "# same key as the last build: reuse dist/*.whl\n"
        if cached
        else "python -m build --sdist --wheel --outdir dist\n"
    )


def test_code() -> str:
    """The test step as shell commands."""
    return (
        "python -m pip install --target site dist/loan_model-0.1.0-py3-none-any.whl\n"
        "PYTHONPATH=site python -m pytest tests -o junit_family=xunit2 --junitxml=reports/junit.xml -q"
    )


def train_code(run: PipelineRun, settings: Settings) -> str:
    """Python equivalent of the training step (data, training, MLflow logging, evaluation)."""
    model_name, params = (
        WEAK_MODEL if run.config.injection == "weak_params" else (run.config.model_name, run.config.params)
    )
    noise = ""
    if run.config.injection == "noisy_labels":
        noise = (f"flip = np.random.default_rng({NEW_DATA_SEED + run.number}).random(len(data)) < {NOISE_RATE}\n"
                 "data.loc[flip, \"Loan_Status\"] = np.where(data.loc[flip, \"Loan_Status\"] == \"Y\", \"N\", \"Y\")  # injected bug\n")  # fmt: skip
    return f'''import numpy as np
import pandas as pd
from workbench import tracking
from workbench.data import generate_loan_data, load_course_data
from workbench.modeling import train_model
from workbench.pipeline import evaluation_data, score

# continuous training: last data + the new batch of applications
batch = generate_loan_data({run.config.new_rows}, seed={NEW_DATA_SEED + run.number})
data = pd.concat([load_course_data(), batch], ignore_index=True)
{noise}result = train_model(data, "{model_name}", {params!r})
logged = tracking.log_training_run(result, data, "{run.learner}", chapter="08_cicd")   # MLflow run
print(logged.run_id, score(result.pipeline, evaluation_data()))                  # fixed evaluation set
'''


def gate_code(settings: Settings, model_uri: str, metric: str = "accuracy", margin: float = 0.0) -> str:
    """A standalone gate script: exits with 1 (the CI step fails) when the candidate does not pass."""
    return f'''import sys

import mlflow
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from workbench.data import generate_loan_data, split_features_target
from workbench.safe_models import load_model_uri                  # skops only, our reviewed trusted types

mlflow.set_tracking_uri("{settings.mlflow_tracking_uri}")
X, y = split_features_target(generate_loan_data({EVAL_ROWS}, seed={EVAL_SEED}))   # the fixed evaluation set
METRICS = {{"accuracy": lambda p: accuracy_score(y, p >= 0.5), "f1": lambda p: f1_score(y, p >= 0.5),
           "roc_auc": lambda p: roc_auc_score(y, p)}}
measure = METRICS["{metric}"]


def scored(uri):
    return measure(load_model_uri(uri).predict_proba(X)[:, 1])


candidate = scored("{model_uri}")                  # the model the training step logged
baseline = measure(np.full(len(y), float(y.mean() >= 0.5)))          # always the majority class
try:
    production = scored("models:/{settings.model_name}@production")
except mlflow.exceptions.MlflowException:                         # nothing in production yet
    production = None
print(f"candidate={{candidate:.4f}} baseline={{baseline:.4f}} production={{production}}")
if candidate <= baseline:
    sys.exit("gate closed: the candidate does not beat the majority baseline")
if production is not None and candidate < production + {margin!r}:
    sys.exit("gate closed: the candidate does not beat @production by the margin")
print("gate open")
'''


def promote_code(settings: Settings, alias: str, version: int | None, model_uri: str | None = None) -> str:
    """Registering the candidate (staging) or moving `production`, with MlflowClient."""
    register = ""
    if alias == "staging":
        register = f'version = mlflow.register_model("{model_uri or "<model_uri>"}", "{settings.model_name}").version\n'
    target = "version" if alias == "staging" else str(version)
    return f'''import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri("{settings.mlflow_tracking_uri}")
client = MlflowClient()
{register}client.set_registered_model_alias("{settings.model_name}", "{alias}", {target})
print(client.get_model_version_by_alias("{settings.model_name}", "{alias}").version)
'''


# --------------------------------------------------------------------------------------------
# The project's own pipeline files: .github/workflows/ci.yml and Jenkinsfile
# --------------------------------------------------------------------------------------------

WORKFLOW = ".github/workflows/ci.yml"
JENKINSFILE = "Jenkinsfile"
CI_RUN = ".ci/run"


@dataclass(frozen=True)
class FileBlock:
    """A piece of a pipeline file (a workflow step, a Jenkins stage or directive) with its explanation."""

    key: str
    title: str
    code: str
    line: int
    note: dict[str, str] | None


def annotations(settings: Settings) -> dict:
    """The explanations of the pipeline files (lessons/annotations/cicd.yaml), by file then key."""
    return load_annotations("cicd", settings.lessons_dir)


def read_project_file(settings: Settings, name: str) -> str:
    """One of the project's CI files (WORKFLOW, JENKINSFILE, CI_RUN)."""
    if name not in (WORKFLOW, JENKINSFILE, CI_RUN):
        raise KeyError(name)
    return (settings.repo_root / name).read_text(encoding="utf-8")


def load_workflow(text: str) -> dict:
    """The workflow YAML as a dict; PyYAML reads the key `on` as True, put back here as "on"."""
    import yaml

    data = yaml.safe_load(text) or {}
    if True in data:
        data["on"] = data.pop(True)
    return data


def source_block(lines: list[str], start: int, stop_at: tuple[str, ...] = ()) -> str:
    """The YAML source of the node starting at `lines[start]` (0-based), comments kept, dedented.

    The node ends before the next non-blank, non-comment line indented as much as its first line or less
    (for a list item, as much as its `-`), or before a line whose stripped text starts with `stop_at`.
    """
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    end = start + 1
    while end < len(lines):
        raw = lines[end]
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            if len(raw) - len(raw.lstrip()) <= indent or stripped.startswith(stop_at or ("\0",)):
                break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip() for line in lines[start:end])


def workflow_blocks(text: str, notes: dict) -> list[FileBlock]:
    """Top-level keys, job settings and each step of a GitHub Actions workflow (steps keyed by `id`),
    each shown as its own source lines."""
    import re

    data = load_workflow(text)
    lines = text.splitlines()

    def index_of(pattern: str) -> int | None:
        regex = re.compile(pattern)
        return next((i for i, raw in enumerate(lines) if regex.match(raw)), None)

    blocks = []
    for key in ("name", "on", "permissions", "concurrency"):
        at = index_of(rf"^{key}:")
        if key in data and at is not None:
            blocks.append(FileBlock(key, key, source_block(lines, at), at + 1, notes.get(key)))
    for job_name, job in (data.get("jobs") or {}).items():
        at = index_of(rf"^\s+{re.escape(job_name)}:")
        if at is not None:
            code = source_block(lines, at, stop_at=("steps:",))
            blocks.append(FileBlock("job", f"jobs.{job_name}", code, at + 1, notes.get("job")))
        for step in job.get("steps") or []:
            key = str(step.get("id", ""))
            title = str(step.get("name") or step.get("uses") or key)
            at = index_of(rf"^\s*- id: {re.escape(key)}\s*$") if key else None
            code = source_block(lines, at) if at is not None else ""
            blocks.append(FileBlock(key, title, code, 0 if at is None else at + 1, notes.get(key)))
    return blocks


def _block_end(text: str, open_brace: int) -> int:
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def jenkinsfile_blocks(text: str, notes: dict) -> list[FileBlock]:
    """The directives (agent, options, environment, post) and each `stage('…')` of a declarative Jenkinsfile."""
    import re

    blocks = []
    pattern = re.compile(r"^\s*(agent|options|environment|stage\('([^']+)'\)|post)\s*(\{|\S.*)?$", re.M)
    for match in pattern.finditer(text):
        directive, stage = match.group(1), match.group(2)
        start = text.rfind("\n", 0, match.start(1)) + 1  # `\s*` may have swallowed blank lines before
        brace = text.find("{", match.end(1))
        line_end = text.find("\n", match.end(1))
        if brace != -1 and (line_end == -1 or brace < line_end):
            end = _block_end(text, brace)
        else:
            end = line_end if line_end != -1 else len(text)
        code = text[start:end]
        indent = match.start(1) - start
        code = "\n".join(line[indent:] if line.startswith(" " * indent) else line for line in code.splitlines())
        key = f"stage:{stage}" if stage else directive
        line = text.count("\n", 0, start) + 1
        blocks.append(FileBlock(key, stage or directive, code.strip("\n"), line, notes.get(key)))
    return blocks


def jenkins_stages(text: str) -> list[str]:
    """The names of the stages of a declarative Jenkinsfile, in order."""
    import re

    return re.findall(r"stage\('([^']+)'\)", text)


def project_file_blocks(settings: Settings, name: str) -> list[FileBlock]:
    """The explained blocks of WORKFLOW or JENKINSFILE."""
    notes = annotations(settings)
    text = read_project_file(settings, name)
    if name == WORKFLOW:
        return workflow_blocks(text, notes.get("github_actions", {}))
    return jenkinsfile_blocks(text, notes.get("jenkins", {}))


def missing_annotations(settings: Settings) -> list[str]:
    """Blocks of the project's pipeline files that have no explanation (must stay empty)."""
    return [
        f"{name}: {b.key}"
        for name in (WORKFLOW, JENKINSFILE)
        for b in project_file_blocks(settings, name)
        if b.note is None
    ]


# --------------------------------------------------------------------------------------------
# Command line, for CI servers: `python -m workbench.pipeline gate|promote` (see the Jenkinsfile)
# --------------------------------------------------------------------------------------------


def load_run_model(run_id: str, settings: Settings) -> Any:
    """The model an MLflow run logged (through the workbench), as a scikit-learn pipeline, loaded safely.

    Raises:
        PipelineError: the run does not exist or has no model.
        workbench.safe_models.ModelRefused: the model could run code when loaded.
    """
    import mlflow

    from workbench import safe_models, tracking

    client = tracking.client(settings)
    try:
        uri = client.get_run(run_id).data.tags.get(tracking.MODEL_URI_TAG)
    except mlflow.exceptions.MlflowException as exc:
        raise PipelineError("error_no_run", run_id=run_id) from exc
    if not uri:
        raise PipelineError("error_no_run", run_id=run_id)
    return safe_models.load_model_uri(uri, settings)


def gate_run(run_id: str, settings: Settings, metric: str = "accuracy", margin: float = 0.0) -> GateDecision:
    """The quality gate for the model of an MLflow run, against the baseline and `@production`."""
    if metric not in GATE_METRICS:
        raise PipelineError("error_metric", metric=metric)
    data = evaluation_data()
    version, production = production_scores(settings, data)
    candidate = score(load_run_model(run_id, settings), data)
    return decide_gate(candidate, baseline_scores(data), production, metric, margin, version)


def main(argv: list[str] | None = None) -> int:
    """`gate --run-id ID [--metric M] [--margin X] [--register]` or `promote`; returns the exit code (1: gate closed)."""
    import argparse

    from workbench import tracking
    from workbench.safe_models import ModelRefused
    from workbench.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m workbench.pipeline", description="Quality gate and promotion.")
    commands = parser.add_subparsers(dest="command", required=True)
    gate = commands.add_parser("gate", help="score a run's model against the baseline and @production")
    gate.add_argument("--run-id", required=True)
    gate.add_argument("--metric", choices=GATE_METRICS, default="accuracy")
    gate.add_argument("--margin", type=float, default=0.0)
    gate.add_argument("--register", action="store_true", help="when the gate opens: new version, alias staging")
    gate.add_argument("--learner", default="ci")
    promote = commands.add_parser("promote", help="move @production to the @staging version")
    promote.add_argument("--learner", default="ci")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "promote":
            print(f"@production -> version {tracking.promote_staging(args.learner, settings)}")
            return 0
        decision = gate_run(args.run_id, settings, args.metric, args.margin)
    except (PipelineError, tracking.TrackingError, ModelRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(gate_log(decision))
    if not decision.passed:
        print(decision.text("en"), file=sys.stderr)
        return 1
    if args.register:
        version = tracking.register_run_model(args.run_id, args.learner, settings=settings).version
        tracking.set_alias("staging", version, args.learner, settings)
        print(f"@staging -> version {version}")
    return 0


# --------------------------------------------------------------------------------------------
# Hands-on checks
# --------------------------------------------------------------------------------------------


def _result(passed: bool, ctx: CheckContext, key: str, evidence: dict | None = None, **values: object) -> CheckResult:
    text = translate(f"cicd.{key}", ctx.lang, **values)
    if passed:
        return CheckResult(True, detail=text, evidence=evidence or {})
    return CheckResult(False, (text,), evidence=evidence or {})


def check_gate_rejected_worse_model(ctx: CheckContext) -> CheckResult:
    """Passed when one of the learner's pipelines with an injected worse model stopped at the gate."""
    history = load_history(ctx.settings, ctx.learner)
    injected = [h for h in history if h.get("injection") in WORSE_MODEL_INJECTIONS]
    if not injected:
        return _result(False, ctx, "check_no_worse_model")
    stopped = [h for h in injected if h.get("failed_step") == "gate"]
    if not stopped:
        where = injected[-1].get("failed_step") or injected[-1].get("outcome")
        return _result(False, ctx, "check_worse_not_stopped", {"runs": len(injected)}, n=len(injected), where=where)
    last = stopped[-1]
    gate = last.get("gate") or {}
    evidence = {"number": last.get("number"), "injection": last.get("injection"), **gate}
    return _result(True, ctx, "check_gate_rejected", evidence, number=last.get("number"),
                   candidate=gate.get("candidate", 0.0), reason=translate(f"cicd.reason_{gate.get('reason', 'below_baseline')}", ctx.lang))  # fmt: skip


def check_pipeline_reached_production(ctx: CheckContext) -> CheckResult:
    """Passed when a pipeline of the learner reached production and the registry agrees.

    The registry must show that `production` was moved to the version that pipeline created, by this
    learner (it may have moved on since).
    """
    from workbench import tracking

    history = load_history(ctx.settings, ctx.learner)
    reached = [h for h in history if h.get("outcome") == "production" and h.get("version") is not None]
    if not reached:
        waiting = [h for h in history if h.get("outcome") == "waiting"]
        key = "check_waiting_approval" if waiting else "check_no_production"
        return _result(False, ctx, key, n=waiting[-1].get("number") if waiting else 0)
    current = tracking.resolve_alias("production", ctx.settings)
    moves = {(h.get("version"), h.get("learner")) for h in tracking.production_history(ctx.settings)
             if h.get("action") == "promote"}  # fmt: skip
    for entry in reversed(reached):
        version = entry["version"]
        if current == version or (version, ctx.learner) in moves:
            evidence = {"number": entry.get("number"), "version": version, "current": current}
            key = "check_production_ok" if current == version else "check_production_was"
            return _result(True, ctx, key, evidence, number=entry.get("number"), version=version, current=current)
    return _result(False, ctx, "check_registry_disagrees", version=reached[-1]["version"])


if __name__ == "__main__":
    sys.exit(main())
