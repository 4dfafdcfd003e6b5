"""Evidently reports of the lab (data drift presets, offline HTML)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from workbench.chapters.ch10_monitoring.drift.statistics import (
    COLUMNS,
    EVIDENTLY_METHODS,
    SAME_AS_EVIDENTLY,
    DriftReport,
    FeatureDrift,
    _kind_of,
)

# ----------------------------------------------------------------------------------------------
# Evidently
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidentlyResult:
    """An Evidently DataDriftPreset report: its HTML and a per-column table."""

    html: str
    table: pd.DataFrame  # column, method, threshold, score, drift
    share_drifted: float
    dataset_drift: bool
    seconds: float


def evidently_test(feature: FeatureDrift) -> str:
    """Our statistic that Evidently can be configured to compute for this feature's decision.

    The same test, except for a chi-square decision on more than two categories: Evidently has no
    two-sample chi-square, only the goodness-of-fit one (`chi2_gof`)."""
    if feature.decision == "chi2" and feature.n_values > 2:
        return "chi2_gof"
    return feature.decision


def evidently_config(report: DriftReport) -> tuple[dict[str, str], dict[str, float]]:
    """Per-column methods and thresholds that make Evidently decide with our decision tests (see `evidently_test`).

    Our JS is the divergence; Evidently's is the distance (its square root), so its threshold is √t.
    """
    methods, thresholds = {}, {}
    for f in report.features:
        name = evidently_test(f)
        methods[f.feature] = EVIDENTLY_METHODS[name]
        threshold = f.stats[name].threshold
        thresholds[f.feature] = math.sqrt(threshold) if name == "js" else threshold
    return methods, thresholds


def evidently_comparison(report: DriftReport, evidently: pd.DataFrame) -> pd.DataFrame:
    """Evidently's verdict per column beside ours: the same test computed here, and our deciding test.

    Args:
        report: our statistics on the same pair.
        evidently: `EvidentlyResult.table` (column, method, threshold, score, drift).

    Returns:
        One row per column: Evidently's `method`, `threshold`, `score`, `drift`; `same_test` (our statistic
        computing what that method computes, None if none does), `same_score` (on Evidently's scale: the JS
        distance, not the divergence), `same_drift`; our `decision` test and its `decision_drift`.
    """
    rows = []
    for row in evidently.to_dict("records"):
        feature = report[row["column"]]
        same = SAME_AS_EVIDENTLY.get(str(row["method"]))
        if same == "chi2" and feature.n_values > 2:  # Evidently's Z test only equals χ² for two categories
            same = None
        result = feature.stats.get(same) if same else None
        score = float("nan") if result is None else (math.sqrt(result.value) if same == "js" else result.value)
        rows.append(
            {
                **row,
                "same_test": same if result is not None else None,
                "same_score": score,
                "same_drift": None if result is None else result.drift,
                "decision": feature.decision,
                "decision_drift": feature.stats[feature.decision].drift,
            }
        )
    return pd.DataFrame(rows)


def evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | tuple[str, ...] | None = None,
    methods: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    drift_share: float = 0.5,
    html: bool = True,
) -> EvidentlyResult:
    """Run Evidently's DataDriftPreset (evidently ≥ 0.7 API) on the pair.

    Numeric columns with few values (Credit_History, Loan_Amount_Term) are declared categorical, as
    our statistics treat them. Evidently drops missing values before its tests.

    Args:
        methods, thresholds: per-column Evidently method names and thresholds (default: Evidently's choice).
        html: also render the HTML report (the slow part is the import and the run, not this).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations import stattests
    from evidently.presets import DataDriftPreset

    # a method Evidently picked itself is reported by its display name ("K-S p_value"): back to its id ("ks")
    method_ids = {test.display_name: test.name for test in vars(stattests).values() if hasattr(test, "display_name")}
    start = time.perf_counter()
    columns = list(columns or [c for c in COLUMNS if c in reference.columns and c in current.columns])
    numeric = [c for c in columns if _kind_of(c, reference[c]) == "numeric"]
    categorical = [c for c in columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference[columns], data_definition=definition)
    cur = Dataset.from_pandas(current[columns], data_definition=definition)
    preset = DataDriftPreset(
        columns=columns,
        drift_share=drift_share,
        per_column_method=methods or None,
        per_column_threshold=thresholds or None,
    )
    snapshot = Report([preset], include_tests=True).run(reference_data=ref, current_data=cur)
    data = snapshot.dict()
    status = {
        t["metric_config"]["metric_id"]: t["status"] == "FAIL"
        for t in data.get("tests", [])
        if t["metric_config"]["params"].get("type", "").endswith("ValueDrift")
    }
    rows, share = [], 0.0
    for metric in data["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            rows.append(
                {
                    "column": config["column"],
                    "method": method_ids.get(config.get("method"), config.get("method")),
                    "threshold": config.get("threshold"),
                    "score": float(metric["value"]),
                    "drift": bool(status.get(metric["id"], False)),
                }
            )
        elif config["type"].endswith("DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    page = snapshot.get_html_str(as_iframe=False) if html else ""
    return EvidentlyResult(page, pd.DataFrame(rows), share, share >= drift_share, time.perf_counter() - start)


def evidently_code(kind: str, strength: float, feature: str | None, seed: int) -> str:
    """The Evidently report as plain code (Evidently 0.7 API)."""
    return f"""from evidently import Report
from evidently.presets import DataDriftPreset
from workbench.core.data import load_course_data
from workbench.chapters.ch10_monitoring.drift import apply_drift, simulate_batch

reference = load_course_data().drop(columns="Loan_ID")
current = apply_drift(simulate_batch(len(reference), seed={seed}), {kind!r}, {strength!r},
                      feature={feature!r}, seed={seed}).drop(columns="Loan_ID")

report = Report([DataDriftPreset()], include_tests=True)
snapshot = report.run(reference_data=reference, current_data=current)
snapshot.save_html("drift_report.html")
for metric in snapshot.dict()["metrics"]:
    print(metric["metric_name"], metric["value"])
"""
