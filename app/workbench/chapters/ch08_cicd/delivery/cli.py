"""Command line, for CI servers: `python -m workbench.chapters.ch08_cicd.delivery gate|promote`."""

from __future__ import annotations

import sys
from typing import Any

from workbench.chapters.ch08_cicd.delivery.state import GATE_METRICS, GateDecision, PipelineError
from workbench.chapters.ch08_cicd.delivery.steps import (
    baseline_scores,
    decide_gate,
    evaluation_data,
    gate_log,
    production_scores,
    score,
)
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Command line, for CI servers: `python -m workbench.chapters.ch08_cicd.delivery gate|promote` (see the Jenkinsfile)
# --------------------------------------------------------------------------------------------


def load_run_model(run_id: str, settings: Settings) -> Any:
    """The model an MLflow run logged (through the workbench), as a scikit-learn pipeline, loaded safely.

    Raises:
        PipelineError: the run does not exist or has no model.
        workbench.core.safe_models.ModelRefused: the model could run code when loaded.
    """
    import mlflow

    from workbench.core import safe_models, tracking

    client = tracking.client(settings)
    try:
        uri = client.get_run(run_id).data.tags.get(tracking.MODEL_URI_TAG)
    except mlflow.exceptions.MlflowException as exc:
        raise PipelineError("error_no_run", run_id=run_id) from exc
    if not uri:
        raise PipelineError("error_no_run", run_id=run_id)
    return safe_models.load_model_uri(uri, settings)


def gate_run(
    run_id: str, settings: Settings, metric: str = "accuracy", margin: float = 0.0, learner: str | None = None
) -> GateDecision:
    """The quality gate for the model of an MLflow run, against the baseline and the learner's `@production`."""
    if metric not in GATE_METRICS:
        raise PipelineError("error_metric", metric=metric)
    data = evaluation_data()
    version, production = production_scores(settings, data, learner)
    candidate = score(load_run_model(run_id, settings), data)
    return decide_gate(candidate, baseline_scores(data), production, metric, margin, version)


def main(argv: list[str] | None = None) -> int:
    """`gate --run-id ID [--metric M] [--margin X] [--register]` or `promote`; returns the exit code (1: gate closed)."""
    import argparse

    from workbench.core import tracking
    from workbench.core.safe_models import ModelRefused
    from workbench.core.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m workbench.chapters.ch08_cicd.delivery", description="Quality gate and promotion."
    )
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
        decision = gate_run(args.run_id, settings, args.metric, args.margin, args.learner)
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
