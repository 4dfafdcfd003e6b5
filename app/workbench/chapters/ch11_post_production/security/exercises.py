"""Hands-on: defend a model against label-flip poisoning; make a model resist membership inference.

Both checks replay the learner's saved settings on the course data (seeded): the verdict is computed, never
read from what the page showed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.membership import membership_inference
from workbench.chapters.ch11_post_production.security.poisoning import flip_labels
from workbench.chapters.ch11_post_production.security.victim import SecurityError, Victim, one_thread, train_victim
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.modeling import clean_params
from workbench.core.records import records_for
from workbench.core.settings import Settings

EXERCISES_KEY = "ch11_post_production/security_exercises.json"  # the learner's defense and membership settings
DEFENSES = ("knn", "trusted")  # kNN label consistency; a small trusted (verified) subset
#: what the defense form starts from: the kNN filter at a majority vote (it does not fix the targeted attack)
DEFAULT_DEFENSE: dict[str, Any] = {"method": "knn", "k": 10, "agreement": 0.5, "trusted_share": 0.1, "confidence": 0.7}
POISON_STRATEGY, POISON_RATE = "targeted", 0.3  # the attack of the exercise (chapter lab: the same function)
MAX_GAP = 0.03  # the defended model may stay at most 3 points below the clean one
MAX_ADVANTAGE, MIN_ACCURACY = 0.10, 0.80  # the membership exercise: attack advantage at most, accuracy at least
MEMBERSHIP_MODEL = "gradient_boosting"  # the family of the membership exercise (the lab shows forests)
#: what the membership form starts from: a boosted model that learns its training rows by heart
MEMBERSHIP_START: dict[str, float | int] = {"max_iter": 300, "learning_rate": 0.5, "max_depth": 10}


def load_exercises(settings: Settings, learner: str) -> dict:
    """The learner's saved settings for the security exercises (empty when none)."""
    data = records_for(settings, learner).get_json(EXERCISES_KEY, {})
    return data if isinstance(data, dict) else {}


def save_defense(settings: Settings, learner: str, defense: dict[str, Any]) -> None:
    """Save the learner's poisoning defense (method and parameters); the check replays it."""
    records_for(settings, learner).update_json(
        EXERCISES_KEY, {"defense": clean_defense(defense), "defense_at": time.time()}
    )


def save_membership_params(settings: Settings, learner: str, params: dict[str, Any]) -> None:
    """Save the learner's hyperparameters for the membership exercise; the check replays them."""
    clean = clean_params(MEMBERSHIP_MODEL, params)
    records_for(settings, learner).update_json(EXERCISES_KEY, {"membership": clean, "membership_at": time.time()})


def clean_defense(defense: dict[str, Any]) -> dict[str, Any]:
    """A defense with its parameters cast and clipped to their ranges.

    Raises:
        SecurityError: unknown method.
    """
    method = str(defense.get("method", ""))
    if method not in DEFENSES:
        raise SecurityError("err_defense_method")
    return {
        "method": method,
        "k": int(min(max(int(defense.get("k", DEFAULT_DEFENSE["k"])), 1), 50)),
        "agreement": float(min(max(float(defense.get("agreement", DEFAULT_DEFENSE["agreement"])), 0.0), 1.0)),
        "trusted_share": float(min(max(float(defense.get("trusted_share", 0.1)), 0.02), 0.5)),
        "confidence": float(min(max(float(defense.get("confidence", 0.7)), 0.5), 0.99)),
    }


@dataclass(frozen=True)
class PoisonDefenseResult:
    """Accuracy on the clean test set: clean model, poisoned model, poisoned model behind the defense."""

    clean_accuracy: float
    poisoned_accuracy: float
    defended_accuracy: float
    n_flipped: int  # training labels the attacker flipped
    removed: int  # training rows the defense dropped
    flipped_removed: int  # of which flipped by the attacker

    @property
    def gap(self) -> float:
        """How far the defended model stays below the clean one (points of accuracy, as a fraction)."""
        return self.clean_accuracy - self.defended_accuracy


def _filter(
    victim: Victim, y_poisoned: np.ndarray, defense: dict[str, Any], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows the defense keeps, and the labels it trains on."""
    from sklearn.base import clone
    from sklearn.neighbors import KNeighborsClassifier

    n = len(y_poisoned)
    if defense["method"] == "knn":  # drop a row when too few of its k neighbors share its label
        Z = victim.space.transform(victim.X_train)
        k = min(defense["k"], n - 1)
        neighbors = KNeighborsClassifier(n_neighbors=k + 1).fit(Z, y_poisoned).kneighbors(Z, return_distance=False)
        same = (y_poisoned[neighbors[:, 1:]] == y_poisoned[:, None]).mean(axis=1)
        return same >= defense["agreement"], y_poisoned
    # trusted: a share of rows whose labels were verified trains a referee; drop rows it confidently contradicts
    order = np.random.default_rng(seed).permutation(n)
    trusted = order[: max(2, int(round(defense["trusted_share"] * n)))]
    referee = clone(victim.pipeline).fit(victim.X_train.iloc[trusted], victim.y_train[trusted])
    labels = y_poisoned.copy()
    labels[trusted] = victim.y_train[trusted]  # verified rows carry their true labels
    proba = referee.predict_proba(victim.X_train)[np.arange(n), labels]
    keep = proba > 1 - defense["confidence"]
    keep[trusted] = True
    return keep, labels


@one_thread
def defend_poisoning(
    data: pd.DataFrame,
    defense: dict[str, Any],
    strategy: str = POISON_STRATEGY,
    rate: float = POISON_RATE,
    seed: int = 0,
) -> PoisonDefenseResult:
    """Poison the course logistic regression's training labels, apply the defense, measure on clean test data."""
    from sklearn.base import clone

    defense = clean_defense(defense)
    victim = train_victim(data, "logistic_regression")
    y_poisoned = flip_labels(victim.y_train, rate, victim.X_train, strategy, seed=seed)
    poisoned = clone(victim.pipeline).fit(victim.X_train, y_poisoned)
    keep, y_used = _filter(victim, y_poisoned, defense, seed)
    if keep.sum() < 10 or len(np.unique(y_used[keep])) < 2:
        raise SecurityError("err_defense_empty")
    defended = clone(victim.pipeline).fit(victim.X_train[keep], y_used[keep])
    flipped = y_poisoned != victim.y_train

    def accuracy(model) -> float:
        return float((model.predict(victim.X_test) == victim.y_test).mean())

    return PoisonDefenseResult(
        clean_accuracy=victim.accuracy(),
        poisoned_accuracy=accuracy(poisoned),
        defended_accuracy=accuracy(defended),
        n_flipped=int(flipped.sum()),
        removed=int((~keep).sum()),
        flipped_removed=int((flipped & ~keep).sum()),
    )


def check_poison_defense(
    ctx: CheckContext, strategy: str = POISON_STRATEGY, rate: float = POISON_RATE, max_gap: float = MAX_GAP
) -> CheckResult:
    """Passed when the learner's saved defense brings the poisoned model within `max_gap` of the clean one."""
    from workbench.core.data import load_course_data

    saved = load_exercises(ctx.settings, ctx.learner).get("defense")
    if not isinstance(saved, dict):
        return failed(translate("security.check_defense_none", ctx.lang))
    try:
        result = defend_poisoning(load_course_data(ctx.settings.data_path), saved, strategy, rate)
    except SecurityError as exc:
        return failed(exc.message(ctx.lang))
    evidence = {
        "method": saved.get("method"),
        "clean": result.clean_accuracy,
        "poisoned": result.poisoned_accuracy,
        "defended": result.defended_accuracy,
        "removed": result.removed,
    }
    values = {
        "clean": result.clean_accuracy,
        "poisoned": result.poisoned_accuracy,
        "defended": result.defended_accuracy,
        "gap": result.gap * 100,
        "max_gap": max_gap * 100,
    }
    if result.gap > max_gap:
        return failed(translate("security.check_defense_short", ctx.lang, **values), evidence=evidence)
    return passed(translate("security.check_defense_ok", ctx.lang, **values), evidence=evidence, score=1 - result.gap)


@dataclass(frozen=True)
class MembershipTrial:
    """One model of the membership exercise: its accuracy and how much the attack gains on it."""

    params: dict
    train_accuracy: float
    test_accuracy: float
    auc: float
    advantage: float  # best TPR − FPR of ART's attack


def membership_trial(data: pd.DataFrame, params: dict[str, Any], budget_seconds: float = 120.0) -> MembershipTrial:
    """Train the exercise's model family with `params` and attack it with ART's black-box membership inference."""
    clean = clean_params(MEMBERSHIP_MODEL, params)
    (result,) = membership_inference(data, {"learner": (MEMBERSHIP_MODEL, clean)}, budget_seconds=budget_seconds)
    return MembershipTrial(clean, result.train_accuracy, result.test_accuracy, result.auc_art, result.advantage)


def check_membership_defense(
    ctx: CheckContext, max_advantage: float = MAX_ADVANTAGE, min_accuracy: float = MIN_ACCURACY
) -> CheckResult:
    """Passed when the learner's saved hyperparameters keep ART's membership attack advantage at most
    `max_advantage` while the model keeps at least `min_accuracy` on held-out data."""
    from workbench.core.data import load_course_data

    saved = load_exercises(ctx.settings, ctx.learner).get("membership")
    if not isinstance(saved, dict):
        return failed(translate("security.check_mia_none", ctx.lang))
    try:
        trial = membership_trial(load_course_data(ctx.settings.data_path), saved)
    except (ValueError, KeyError):
        return failed(translate("security.check_mia_none", ctx.lang))
    values = {
        "advantage": trial.advantage * 100,
        "max_advantage": max_advantage * 100,
        "accuracy": trial.test_accuracy,
        "min_accuracy": min_accuracy,
        "auc": trial.auc,
    }
    evidence = {"params": trial.params, "advantage": trial.advantage, "accuracy": trial.test_accuracy}
    missing = []
    if trial.advantage > max_advantage:
        missing.append(translate("security.check_mia_leaks", ctx.lang, **values))
    if trial.test_accuracy < min_accuracy:
        missing.append(translate("security.check_mia_accuracy", ctx.lang, **values))
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(translate("security.check_mia_ok", ctx.lang, **values), evidence=evidence, score=1 - trial.advantage)
