"""The pipeline's state: runs, steps and statuses, where they live, the learner's repository."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from workbench.core.i18n import LocalizedError, translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

STEPS: tuple[str, ...] = ("commit", "build", "test", "train", "gate", "staging", "production")
MODES: tuple[str, ...] = ("delivery", "deployment")
INJECTIONS: tuple[str, ...] = ("none", "failing_test", "noisy_labels", "weak_params")
WORSE_MODEL_INJECTIONS: tuple[str, ...] = ("noisy_labels", "weak_params")
GATE_METRICS: tuple[str, ...] = ("accuracy", "f1", "roc_auc")


class StepStatus(StrEnum):
    """Where a pipeline step stands (a str: stored as is in the history)."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    WAITING = "waiting"  # for a person's approval
    SKIPPED = "skipped"


class Outcome(StrEnum):
    """Where a whole pipeline run stands."""

    RUNNING = "running"
    WAITING = "waiting"
    PRODUCTION = "production"
    FAILED = "failed"
    REJECTED = "rejected"


STATUSES: tuple[str, ...] = tuple(StepStatus)
OUTCOMES: tuple[str, ...] = tuple(Outcome)

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
    status: StepStatus = StepStatus.PENDING
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
        return {
            "metric": self.metric,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "production": self.production or 0.0,
            "margin": self.margin,
            "version": self.production_version,
        }

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
        if self.finished is not None or any(s.status == StepStatus.WAITING for s in self.steps):
            return None
        return next((s for s in self.steps if s.status == StepStatus.PENDING), None)

    @property
    def failed_step(self) -> str | None:
        """The name of the step that failed, if any."""
        return next((s.name for s in self.steps if s.status == StepStatus.FAILED), None)

    @property
    def outcome(self) -> Outcome:
        """running, waiting (for approval), production, failed or rejected."""
        if self.failed_step:
            return Outcome.FAILED
        if self.rejected:
            return Outcome.REJECTED
        if self.step("production").status == StepStatus.PASSED:
            return Outcome.PRODUCTION
        if self.step("production").status == StepStatus.WAITING:
            return Outcome.WAITING
        return Outcome.RUNNING

    @property
    def seconds(self) -> float:
        """Total time spent in the steps."""
        return sum(s.seconds for s in self.steps)


# --------------------------------------------------------------------------------------------
# Where things live
# --------------------------------------------------------------------------------------------


def cicd_dir(settings: Settings, learner: str) -> Path:
    """The learner's CI/CD workspace: repo/ (git sandbox), build/ (dist, site, reports), artifacts/."""
    return records_for(settings, learner).workspace("cicd")


def sandbox_dir(settings: Settings, learner: str) -> Path:
    """The learner's git repository: a copy of the example package (not created here)."""
    return cicd_dir(settings, learner) / "repo"


def build_dir(settings: Settings, learner: str) -> Path:
    """Where the build and test steps write (source/, dist/, site/, reports/, cache.json)."""
    return cicd_dir(settings, learner) / "build"


HISTORY_KEY = "ch08_cicd/history.json"  # the learner's pipeline history (a record, not in the workspace)


def junit_record_key(number: int) -> str:
    """The learner record keeping pipeline `number`'s JUnit XML report (the workspace copy can be recreated)."""
    return f"ch08_cicd/junit/pipeline-{number:03d}.xml"


def load_history(settings: Settings, learner: str) -> list[dict]:
    """Every pipeline the learner ran, oldest first (empty if none or unreadable)."""
    data = records_for(settings, learner).get_json(HISTORY_KEY, [])
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
        "tests": None
        if report is None
        else {"total": report.tests, "failed": report.count("failed") + report.count("error")},
        "junit": run.junit_file,
        "mlflow_run_id": run.mlflow_run_id,
        "gate": None
        if run.gate is None
        else {
            "passed": run.gate.passed,
            "reason": run.gate.reason,
            "candidate": run.gate.candidate,
            "baseline": run.gate.baseline,
            "production": run.gate.production,
            "production_version": run.gate.production_version,
        },
        "version": run.version,
        "production_before": run.production_before,
        "production_after": run.production_after,
    }


def record(settings: Settings, run: PipelineRun) -> list[dict]:
    """Insert or update the run's summary in the learner's history; returns the history."""
    history = [h for h in load_history(settings, run.learner) if h.get("id") != run.id]
    history = [*history, summary(run)][-MAX_HISTORY:]
    history.sort(key=lambda h: h.get("number", 0))
    records_for(settings, run.learner).put_json(HISTORY_KEY, history)
    return history


# --------------------------------------------------------------------------------------------
# The learner's repository
# --------------------------------------------------------------------------------------------


def sandbox_log(settings: Settings, learner: str, limit: int = 15) -> str:
    """`git log --oneline` of the learner's repository (empty when it does not exist yet)."""
    from workbench.chapters.ch02_fundamentals.git_sandbox import is_initialised, run_git

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
