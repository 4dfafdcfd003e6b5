"""Capstone, chapter X: a drift report on a supplied "production" batch, and the learner's decision.

The batch is supplied, the same for everyone and regenerated identically every time: new applicants from the
dataset's generator (seeded) where the population really shifted (higher applicant incomes, more rural
properties), without labels (production data has none yet). The learner downloads it or runs the drift
report on it in the app (Evidently, configured with the chapter's tests), then records a decision (retrain,
keep, investigate) and the features they blame. The check verifies the saved report was computed on that
exact batch (SHA-256 of its CSV), recomputes which features drifted with the chapter's own statistics, and
passes when the decision is not "keep" while features drifted (or "keep" when none did) and the features
blamed are exactly the ones that drifted.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

import pandas as pd

from workbench.chapters.ch10_monitoring.drift.simulation import apply_drift, simulate_batch
from workbench.chapters.ch10_monitoring.drift.statistics import compare_frames
from workbench.core.data import FEATURES, TARGET
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

RECORD_KEY = "ch10_monitoring/production_decision.json"  # the learner's report on the batch and decision
PRODUCTION_ROWS = 500
PRODUCTION_SEED = 2024_06
DECISIONS: tuple[str, ...] = ("retrain", "keep", "investigate")
FILE_NAME = "production_batch.csv"


@lru_cache(maxsize=1)
def _batch_csv() -> bytes:
    batch = simulate_batch(PRODUCTION_ROWS, seed=PRODUCTION_SEED)
    batch = apply_drift(batch, "shift", 0.5, feature="ApplicantIncome", seed=PRODUCTION_SEED)
    batch = apply_drift(batch, "category_mix", 0.45, feature="Property_Area", seed=PRODUCTION_SEED + 1)
    return batch.drop(columns=[TARGET], errors="ignore").to_csv(index=False).encode("utf-8")


def production_csv() -> bytes:
    """The supplied production batch as CSV (what the learner downloads; its bytes are its identity)."""
    return _batch_csv()


def production_batch() -> pd.DataFrame:
    """The supplied production batch, read back from its CSV (the types the course data has)."""
    import io

    from workbench.core.data import canonical_dtypes

    return canonical_dtypes(pd.read_csv(io.BytesIO(production_csv()), keep_default_na=True))


def production_sha256() -> str:
    """The SHA-256 of the supplied batch's CSV."""
    return hashlib.sha256(production_csv()).hexdigest()


def drifted_features(reference: pd.DataFrame) -> list[str]:
    """The features whose drift test alarms between the reference and the supplied batch (the chapter's tests)."""
    return list(compare_frames(reference, production_batch(), columns=list(FEATURES)).drifted)


def run_report(reference: pd.DataFrame):
    """Evidently's drift report on the supplied batch, configured with the chapter's tests (an EvidentlyResult)."""
    from workbench.chapters.ch10_monitoring.drift.reports import evidently_config, evidently_report

    batch = production_batch()
    methods, thresholds = evidently_config(compare_frames(reference, batch, columns=list(FEATURES)))
    return evidently_report(reference, batch, columns=list(FEATURES), methods=methods, thresholds=thresholds)


def save_report(settings: Settings, learner: str, drifted: list[str]) -> dict:
    """Remember that the learner ran the report on the supplied batch (its fingerprint); clears the decision."""
    record = {
        "data_sha256": production_sha256(),
        "rows": PRODUCTION_ROWS,
        "drifted": sorted(drifted),
        "at": time.time(),
        "decision": None,
        "features": [],
    }
    records_for(settings, learner).put_json(RECORD_KEY, record)
    return record


def save_decision(settings: Settings, learner: str, decision: str, features: list[str]) -> dict:
    """Record the learner's decision and the features they blame.

    Raises:
        ValueError: unknown decision or feature.
    """
    if decision not in DECISIONS or any(f not in FEATURES for f in features):
        raise ValueError("unknown decision or feature")
    return records_for(settings, learner).update_json(RECORD_KEY, {"decision": decision, "features": sorted(features)})


def load_record(settings: Settings, learner: str) -> dict:
    """The learner's report and decision (empty when none)."""
    data = records_for(settings, learner).get_json(RECORD_KEY, {})
    return data if isinstance(data, dict) else {}


def check_production_drift_decision(ctx: CheckContext) -> CheckResult:
    """Passed when the learner ran the drift report on the supplied batch and decided as the data says."""
    from workbench.core.data import load_course_data

    lang = ctx.lang
    record = load_record(ctx.settings, ctx.learner)
    if not record.get("data_sha256"):
        return failed(translate("production.check_no_report", lang))
    if record["data_sha256"] != production_sha256():
        return failed(translate("production.check_other_data", lang))
    decision, blamed = record.get("decision"), set(record.get("features") or [])
    if not decision:
        return failed(translate("production.check_no_decision", lang))
    truth = set(drifted_features(load_course_data(ctx.settings.data_path)))
    evidence = {"decision": decision, "features": sorted(blamed)}
    if truth and decision == "keep":
        return failed(translate("production.check_keep", lang, n=len(truth)), evidence=evidence)
    if not truth and decision != "keep":
        return failed(translate("production.check_no_drift", lang), evidence=evidence)
    wrong, missed = sorted(blamed - truth), truth - blamed
    if wrong:
        return failed(translate("production.check_wrong_feature", lang, features=", ".join(wrong)), evidence=evidence)
    if missed:
        return failed(translate("production.check_missed", lang, n=len(missed)), evidence=evidence)
    decided = translate(f"production.decision_{decision}", lang)
    return passed(
        translate("production.check_ok", lang, decision=decided, features=", ".join(sorted(truth))), evidence=evidence
    )
