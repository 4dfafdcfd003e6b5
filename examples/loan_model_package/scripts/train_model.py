"""Retrain the shipped model: `python scripts/train_model.py --data ../../data/loan.csv`.

Fits the package's pipeline on the course data, prints its accuracy beside the majority baseline,
and writes src/loan_model/trained_models/model.skops (zip-compressed) and model_info.json.
Run it from the package folder, in an environment where the package is installed (`pip install -e .`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import zipfile
from importlib import metadata
from pathlib import Path

import pandas as pd
import skops.io as sio
from loan_model.processing import FEATURES, build_pipeline
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "loan_model" / "trained_models"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[2] / "data" / "loan.csv")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    df = pd.read_csv(args.data)
    X, y = df[list(FEATURES)], (df["Loan_Status"] == "Y").astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=args.seed, stratify=y)
    pipeline = build_pipeline(seed=args.seed).fit(X_train, y_train)
    accuracy = float((pipeline.predict(X_test) == y_test).mean())
    baseline = float(max(y_test.mean(), 1 - y_test.mean()))
    print(f"accuracy {accuracy:.3f} (majority baseline {baseline:.3f})")

    pipeline.fit(X, y)  # the shipped model learns from every row
    args.out.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, args.out / "model.skops", compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    info = {
        "model": "LogisticRegression(C=1.0) after median/most-frequent imputation, scaling, one-hot encoding",
        "test_accuracy": round(accuracy, 4),
        "baseline_accuracy": round(baseline, 4),
        "n_rows": len(df),
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "versions": {name: metadata.version(name) for name in ("scikit-learn", "skops", "numpy", "pandas")},
    }
    (args.out / "model_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'model.skops'} ({(args.out / 'model.skops').stat().st_size} bytes)")


if __name__ == "__main__":
    main()
