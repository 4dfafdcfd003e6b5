"""Poisoning attacks: label flipping and a backdoor trigger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.victim import (
    DEFAULT_BUDGET,
    Budget,
    Progress,
    SecurityError,
    Victim,
    _report,
    one_thread,
)
from workbench.core.data import (
    NUMERIC_FEATURES,
)

# --------------------------------------------------------------------------------------------
# Poisoning
# --------------------------------------------------------------------------------------------


def flip_labels(y: np.ndarray, rate: float, X: pd.DataFrame, strategy: str = "random", seed: int = 0) -> np.ndarray:
    """Training labels with a share `rate` of them flipped.

    `random` flips labels anywhere; `targeted` turns approvals of applicants with a good credit history
    into refusals (the attacker wants good customers refused), the most damaging single direction here.
    """
    if not 0 <= rate < 1:
        raise SecurityError("err_poison_rate")
    rng = np.random.default_rng(seed)
    y = np.asarray(y).copy()
    n = int(round(rate * len(y)))
    if strategy == "random":
        pool = np.arange(len(y))
    elif strategy == "targeted":
        pool = np.flatnonzero((y == 1) & (X["Credit_History"].to_numpy() == 1))
    else:
        raise SecurityError("err_strategy")
    chosen = rng.choice(pool, size=min(n, len(pool)), replace=False)
    y[chosen] = 1 - y[chosen]
    return y


@one_thread
def poisoning_curve(
    victim: Victim,
    rates: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4),
    strategy: str = "random",
    repeats: int = 3,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: Progress = None,
) -> pd.DataFrame:
    """Test accuracy of the victim's model family retrained on training labels with a share flipped.

    Returns:
        One row per poison rate: rate, accuracy (mean over `repeats` draws), flipped (labels changed).
    """
    from sklearn.base import clone

    budget = Budget(budget_seconds)
    rows = []
    total = len(rates) * repeats
    for i, rate in enumerate(rates):
        scores, flipped = [], 0
        for r in range(repeats):
            if budget.expired():
                break
            y_poisoned = flip_labels(victim.y_train, rate, victim.X_train, strategy, seed=r)
            model = clone(victim.pipeline).fit(victim.X_train, y_poisoned)
            scores.append(float((model.predict(victim.X_test) == victim.y_test).mean()))
            flipped = int((y_poisoned != victim.y_train).sum())
            _report(progress, (i * repeats + r + 1) / total)
        if not scores:
            break
        rows.append({"rate": float(rate), "accuracy": float(np.mean(scores)), "flipped": flipped})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class BackdoorResult:
    """ART's backdoor poisoning: a trigger in the application makes the poisoned model approve."""

    poison_rate: float
    n_poison: int
    clean_accuracy_before: float
    clean_accuracy_after: float
    trigger_success_before: float  # rejected test applications approved once the trigger is added
    trigger_success_after: float
    trigger: dict


BACKDOOR_TRIGGER = {"Loan_Amount_Term": 84.0, "CoapplicantIncome": 1234.0}


@one_thread
def backdoor_attack(victim: Victim, poison_rate: float = 0.05, seed: int = 0) -> BackdoorResult:
    """Poison a share of the training rows with ART's PoisoningAttackBackdoor and measure the trigger.

    The trigger sets `Loan_Amount_Term = 84` and `CoapplicantIncome = 1234` (a rare, innocent-looking
    pair); poisoned rows are labelled approved. A backdoored model keeps its clean accuracy, which is
    what makes the attack hard to notice.
    """
    from art.attacks.poisoning import PoisoningAttackBackdoor
    from sklearn.base import clone

    if not 0 < poison_rate < 0.5:
        raise SecurityError("err_backdoor_rate")
    space = victim.space
    columns = [NUMERIC_FEATURES.index(f) for f in BACKDOOR_TRIGGER]
    values = np.array([(v - space.mean[j]) / space.scale[j] for j, v in zip(columns, BACKDOOR_TRIGGER.values())])

    def add_trigger(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=float, copy=True)
        x[:, columns] = values
        return x

    rng = np.random.default_rng(seed)
    Z_train, Z_test = space.transform(victim.X_train), space.transform(victim.X_test)
    n_poison = max(1, int(round(poison_rate * len(Z_train))))
    chosen = rng.choice(len(Z_train), size=n_poison, replace=False)
    x_poison, y_poison = PoisoningAttackBackdoor(add_trigger).poison(Z_train[chosen], y=np.ones(n_poison, int))
    Z_all = np.vstack([Z_train, x_poison])
    y_all = np.concatenate([victim.y_train, np.asarray(y_poison).astype(int).ravel()])
    clean = victim.model
    poisoned = clone(clean).fit(Z_all, y_all)
    rejected = np.flatnonzero(clean.predict(Z_test) == 0)
    triggered = add_trigger(Z_test[rejected])

    def success(model) -> float:
        return float((model.predict(triggered) == 1).mean()) if len(rejected) else 0.0

    return BackdoorResult(
        poison_rate=poison_rate,
        n_poison=n_poison,
        clean_accuracy_before=float((clean.predict(Z_test) == victim.y_test).mean()),
        clean_accuracy_after=float((poisoned.predict(Z_test) == victim.y_test).mean()),
        trigger_success_before=success(clean),
        trigger_success_after=success(poisoned),
        trigger=dict(BACKDOOR_TRIGGER),
    )
