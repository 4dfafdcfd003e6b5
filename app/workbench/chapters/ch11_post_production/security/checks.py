"""Hands-on: flip a decision with the smallest change; the learner's attempt and its check."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.figures import _differs
from workbench.chapters.ch11_post_production.security.victim import (
    FLIP_KEY,
    SecurityError,
    Victim,
    application_problems,
    one_thread,
    records,
    train_victim,
)
from workbench.core.data import (
    FEATURES,
    NUMERIC_FEATURES,
)
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Hands-on: flip a decision with the smallest change
# --------------------------------------------------------------------------------------------


def flip_victim(data: pd.DataFrame) -> Victim:
    """The model the learner must fool: the course logistic regression (default split and seed)."""
    return train_victim(data, "logistic_regression")


def flip_start_application(victim: Victim) -> dict:
    """The refused application the learner starts from: among held-out applications refused by the model
    with a good credit history and nothing missing, the one closest to approval (deterministic)."""
    X = victim.X_test
    proba = victim.pipeline.predict_proba(X)[:, 1]
    complete = X.notna().all(axis=1).to_numpy()
    candidates = np.flatnonzero((proba < 0.5) & complete & (X["Credit_History"].to_numpy() == 1))
    if not len(candidates):
        candidates = np.flatnonzero((proba < 0.5) & complete)
    if not len(candidates):
        raise SecurityError("err_no_refused")
    best = candidates[np.argmax(proba[candidates])]
    return records(X.iloc[[best]])[0]


def change_cost(original: dict, edited: dict, scale: dict[str, float]) -> float:
    """Size of an edit: numeric changes in standard deviations of the training data, plus 1 for each
    changed category (a lie about one's marriage counts as much as one standard deviation)."""
    cost = 0.0
    for feature in FEATURES:
        old, new = original.get(feature), edited.get(feature)
        if not _differs(old, new):
            continue
        if feature in NUMERIC_FEATURES and old is not None and new is not None:
            cost += abs(float(new) - float(old)) / scale[feature]
        else:
            cost += 1.0
    return cost


def feature_scales(victim: Victim) -> dict[str, float]:
    """Standard deviation of each numeric feature, as the model's scaler learned it."""
    space = victim.space
    return {feature: float(space.scale[j]) for j, feature in enumerate(NUMERIC_FEATURES)}


@dataclass(frozen=True)
class FlipVerdict:
    """Whether an edit flips the model's decision, and how big it is."""

    flipped: bool
    probability_before: float
    probability_after: float
    cost: float
    score: float  # 1 / (1 + cost): 1 for the smallest possible edit
    problems: tuple[SecurityError, ...] = ()


@one_thread
def judge_flip(victim: Victim, original: dict, edited: dict) -> FlipVerdict:
    """Verify with the model that `edited` gets the other decision than `original`, and score the edit."""
    problems = tuple(application_problems(edited))
    frame = pd.DataFrame([original, edited], columns=list(FEATURES)).astype({c: "float64" for c in NUMERIC_FEATURES})
    before, after = victim.pipeline.predict_proba(frame)[:, 1]
    cost = change_cost(original, edited, feature_scales(victim))
    flipped = not problems and (before >= 0.5) != (after >= 0.5)
    return FlipVerdict(bool(flipped), float(before), float(after), cost, 1.0 / (1.0 + cost), problems)


def save_flip_attempt(settings: Settings, learner: str, original: dict, edited: dict) -> None:
    """Save the learner's edit (the check verifies it again with the model)."""
    records_for(settings, learner).put_json(FLIP_KEY, {"original": original, "edited": edited, "at": time.time()})


def check_flip_decision(ctx: CheckContext, max_cost: float | None = None) -> CheckResult:
    """Passed when the learner's saved edit flips the course model's decision (score: smaller is better)."""
    from workbench.core.data import load_course_data

    saved = records_for(ctx.settings, ctx.learner).get_json(FLIP_KEY)
    try:
        original, edited = dict(saved["original"]), dict(saved["edited"])
    except (KeyError, TypeError, ValueError):
        return failed(translate("security.check_flip_none", ctx.lang))
    victim = flip_victim(load_course_data(ctx.settings.data_path))
    verdict = judge_flip(victim, original, edited)
    evidence = {
        "cost": round(verdict.cost, 3),
        "before": verdict.probability_before,
        "after": verdict.probability_after,
    }
    if verdict.problems:
        text = translate("security.check_flip_invalid", ctx.lang, problems=verdict.problems)
        return failed(text, evidence=evidence)
    if not verdict.flipped:
        text = translate(
            "security.check_flip_not", ctx.lang, before=verdict.probability_before, after=verdict.probability_after
        )
        return failed(text, evidence=evidence)
    if max_cost is not None and verdict.cost > max_cost:
        text = translate("security.check_flip_too_big", ctx.lang, cost=verdict.cost, max=max_cost)
        return failed(text, evidence=evidence, score=verdict.score)
    detail = translate(
        "security.check_flip_ok",
        ctx.lang,
        before=verdict.probability_before,
        after=verdict.probability_after,
        cost=verdict.cost,
        score=verdict.score,
    )
    return passed(detail, score=verdict.score, evidence=evidence)
