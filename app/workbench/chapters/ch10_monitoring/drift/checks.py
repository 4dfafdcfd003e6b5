"""Hands-on exercises of chapter X: the learner's saved answers and the checks that recompute them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.chapters.ch10_monitoring.drift.retraining import feature_psi
from workbench.chapters.ch10_monitoring.drift.simulation import (
    CONTINUOUS,
    Timeline,
    _rng,
    _seed,
    apply_drift,
    simulate_batch,
    simulate_timeline,
)
from workbench.chapters.ch10_monitoring.drift.statistics import THRESHOLDS, compare_frames
from workbench.core.data import (
    FEATURES,
)
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

# ----------------------------------------------------------------------------------------------
# Hands-on exercises: answers saved per learner, checks that recompute
# ----------------------------------------------------------------------------------------------

ANSWERS_KEY = "ch10_monitoring/drift_answers.json"  # the learner's chapter-X answers
CATEGORICAL_TEST_CHOICES: tuple[str, ...] = ("ks", "chi2", "wasserstein", "t_test")
RIGHT_CATEGORICAL_TEST = "chi2"


def load_answers(settings: Settings, learner: str) -> dict:
    """The learner's saved answers (empty if none or unreadable)."""
    data = records_for(settings, learner).get_json(ANSWERS_KEY, {})
    return data if isinstance(data, dict) else {}


def save_answer(settings: Settings, learner: str, key: str, value: object) -> dict:
    """Save one answer (atomically replacing the record); returns every saved answer."""
    return records_for(settings, learner).update_json(ANSWERS_KEY, {key: value})


MYSTERY_ROWS = 614


def mystery_feature(learner: str) -> str:
    """The feature that drifts in this learner's mystery batch (a different one per learner)."""
    return FEATURES[int(_rng("mystery", learner.strip().casefold()).integers(0, len(FEATURES)))]


def mystery_batch(learner: str, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """This learner's mystery batch: new applicants where exactly one feature drifted.

    With the reference, the first of the learner's batches where no other feature crosses its threshold by
    chance is used (at 5 % per test, one batch in two would otherwise show a false alarm): the exercise has
    one answer.
    """
    feature = mystery_feature(learner)
    key = learner.strip().casefold()
    for attempt in range(20):
        seed = _seed("mystery-batch", key) if attempt == 0 else _seed("mystery-batch", key, attempt)
        batch = simulate_batch(MYSTERY_ROWS, seed=seed)
        if feature in CONTINUOUS:
            batch = apply_drift(batch, "shift", 0.6, feature=feature, seed=seed)
        else:
            batch = apply_drift(batch, "category_mix", 0.35, feature=feature, seed=seed)
        if reference is None or compare_frames(reference, batch, columns=list(FEATURES)).drifted == [feature]:
            break
    return batch


THRESHOLD_FEATURE = "ApplicantIncome"
THRESHOLD_STRENGTH = 0.15
THRESHOLD_GAP = 0.03  # the learner's timeline leaves at least this room between the last calm week and the drift


def threshold_exercise(learner: str, reference: pd.DataFrame) -> tuple[Timeline, np.ndarray]:
    """The learner's threshold exercise: a timeline where ApplicantIncome shifts slightly from a
    learner-specific week, and its PSI per week.

    The first seeds whose timeline leaves a solvable gap (a threshold that fires at the drift's week and
    never before) are used, so every learner gets a fair, different exercise; the drift is slight enough
    that the textbook PSI threshold (0.25, the slider's start) misses its first week: the learner has to
    read their own timeline.
    """
    key = learner.strip().casefold()
    start = int(_rng("threshold-start", key).integers(8, 15))
    for attempt in range(200):
        timeline = simulate_timeline(
            "shift",
            THRESHOLD_STRENGTH,
            feature=THRESHOLD_FEATURE,
            weeks=20,
            start_week=start,
            batch_size=200,
            seed=_seed("thr", key, attempt),
        )
        values = np.array([feature_psi(reference[THRESHOLD_FEATURE], b[THRESHOLD_FEATURE]) for b in timeline.batches])
        if values[start - 1] - values[: start - 1].max() >= THRESHOLD_GAP and values[start - 1] < THRESHOLDS["psi"]:
            break
    return timeline, values


def threshold_psi(learner: str, reference: pd.DataFrame) -> np.ndarray:
    """PSI of ApplicantIncome per week of the learner's threshold timeline."""
    return threshold_exercise(learner, reference)[1]


def alarm_weeks(values: np.ndarray, threshold: float) -> list[int]:
    """Weeks (from 1) where the value reaches the threshold."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(values) >= threshold)]


def _reference(ctx: CheckContext) -> pd.DataFrame:
    from workbench.core.data import load_course_data

    return load_course_data(ctx.settings.data_path)


def check_mystery_feature(ctx: CheckContext) -> CheckResult:
    """Passed when the saved answer names the feature that drifted in the learner's mystery batch."""
    answer = load_answers(ctx.settings, ctx.learner).get("mystery_feature")
    if not answer:
        return failed(translate("drift.check_no_mystery", ctx.lang))
    truth = mystery_feature(ctx.learner)
    evidence = {"answer": answer}
    if answer == truth:
        return passed(translate("drift.check_mystery_ok", ctx.lang, feature=truth), evidence=evidence)
    return failed(translate("drift.check_mystery_wrong", ctx.lang, feature=answer), evidence=evidence)


def check_categorical_test(ctx: CheckContext) -> CheckResult:
    """Passed when the learner chose the chi-square test for a categorical feature."""
    answer = load_answers(ctx.settings, ctx.learner).get("categorical_test")
    if not answer:
        return failed(translate("drift.check_no_test", ctx.lang))
    evidence = {"answer": answer}
    if answer == RIGHT_CATEGORICAL_TEST:
        return passed(translate("drift.check_test_ok", ctx.lang), evidence=evidence)
    why = translate(f"drift.check_test_why_{answer}", ctx.lang)
    return failed(why, evidence=evidence)


def check_alert_threshold(ctx: CheckContext) -> CheckResult:
    """Passed when the saved PSI threshold first alarms at the drift's week, with no false alarm before."""
    answer = load_answers(ctx.settings, ctx.learner).get("psi_threshold")
    if answer is None:
        return failed(translate("drift.check_no_threshold", ctx.lang))
    threshold = float(answer)
    timeline, values = threshold_exercise(ctx.learner, _reference(ctx))
    start = timeline.start_week
    alarms = alarm_weeks(values, threshold)
    evidence = {"threshold": threshold, "start_week": start, "alarms": alarms}
    early = [w for w in alarms if w < start]
    if early:
        message = translate("drift.check_false_alarm", ctx.lang, weeks=", ".join(map(str, early)), start=start)
        return failed(message, evidence=evidence)
    if start not in alarms:
        return failed(translate("drift.check_missed", ctx.lang, start=start), evidence=evidence)
    detail = translate("drift.check_threshold_ok", ctx.lang, threshold=threshold, start=start)
    return passed(detail, evidence=evidence)
