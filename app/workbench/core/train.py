"""Command-line training entry point, used by the project's `MLproject` (`mlflow run .`).

    python -m workbench.core.train --model random_forest --n-estimators 100 --max-depth 6

Only the hyperparameters of the chosen model family are used; the run is logged to the workbench's
MLflow store (or the run `mlflow run` started, when MLFLOW_RUN_ID is set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.core.data import read_loan_csv
from workbench.core.modeling import MODEL_NAMES, MODEL_SPECS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments: the model family, every hyperparameter, data, seed, learner."""
    parser = argparse.ArgumentParser(description="Train the course model and log it to MLflow.")
    parser.add_argument("--model", choices=MODEL_NAMES, default="logistic_regression")
    names = sorted({p.name for spec in MODEL_SPECS.values() for p in spec.params})
    for name in names:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float, default=None)
    parser.add_argument("--data", type=Path, default=None, help="loan CSV (default: the course dataset)")
    parser.add_argument("--seed", type=float, default=42)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--learner", default="mlproject")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train and log; print the run id and metrics. Returns the process exit code."""
    args = parse_args(argv)
    from workbench.core import tracking
    from workbench.core.settings import get_settings

    path = args.data or get_settings().data_path
    loaded = read_loan_csv(path)
    if not loaded.ok or not loaded.has_target:
        for problem in loaded.errors or ():
            print(f"data error: {problem.message('en')}", file=sys.stderr)
        if loaded.ok:
            print("data error: the file has no Loan_Status column", file=sys.stderr)
        return 2
    wanted = {p.name for p in MODEL_SPECS[args.model].params}
    params = {k: v for k, v in vars(args).items() if k in wanted and v is not None}
    logged = tracking.train_and_log(
        loaded.frame, args.model, params, args.learner, seed=int(args.seed), test_size=args.test_size
    )
    print(f"run_id={logged.run_id}")
    print(" ".join(f"{k}={v:.4f}" for k, v in logged.metrics.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
