"""Membership inference: guessing whether an application was in the training set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.evasion import _art_classifier
from workbench.chapters.ch11_post_production.security.victim import (
    DEFAULT_BUDGET,
    DEFAULT_SEED,
    Budget,
    Progress,
    _report,
    one_thread,
    train_victim,
)

# --------------------------------------------------------------------------------------------
# Membership inference
# --------------------------------------------------------------------------------------------

MEMBERSHIP_MODELS: dict[str, tuple[str, dict]] = {
    "regularised": ("random_forest", {"n_estimators": 100, "max_depth": 3, "min_samples_leaf": 20}),
    "overfit": ("random_forest", {"n_estimators": 100, "max_depth": 20, "min_samples_leaf": 1}),
}


@dataclass(frozen=True)
class MembershipResult:
    """How well an attacker tells training members from non-members, for one model."""

    name: str
    model_name: str
    params: dict
    train_accuracy: float
    test_accuracy: float
    auc_art: float  # ART MembershipInferenceBlackBox (attack model on the victim's outputs)
    auc_confidence: float  # rule: "the more confident on the true label, the more likely a member"
    roc: tuple[np.ndarray, np.ndarray]  # of the ART attack

    @property
    def advantage(self) -> float:
        """The attacker's advantage: the best TPR − FPR along the ART attack's ROC curve (0 = guessing)."""
        fpr, tpr = self.roc
        return float(np.max(np.asarray(tpr) - np.asarray(fpr))) if len(fpr) else 0.0


@one_thread
def membership_inference(
    data: pd.DataFrame,
    models: dict[str, tuple[str, dict]] | None = None,
    seed: int = DEFAULT_SEED,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: Progress = None,
) -> list[MembershipResult]:
    """Attack a well-regularised and an overfit model with ART's MembershipInferenceBlackBox.

    Half of the training rows and half of the test rows train the attack model; the other halves
    measure it (AUC 0.5 = the attacker guesses; 1.0 = it always knows).
    """
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score, roc_curve

    budget = Budget(budget_seconds)
    models = models or MEMBERSHIP_MODELS
    results = []
    for i, (name, (model_name, params)) in enumerate(models.items()):
        if budget.expired():
            break
        victim = train_victim(data, model_name, params, seed)
        space = victim.space
        Z_train = space.transform(victim.X_train).astype(np.float32)
        Z_test = space.transform(victim.X_test).astype(np.float32)
        half_in, half_out = len(Z_train) // 2, len(Z_test) // 2
        classifier = _art_classifier(victim.model, space, clip=False)
        attack = MembershipInferenceBlackBox(classifier, attack_model_type="rf")
        # seeded, so the same settings give the same verdict (ART 1.20 refuses a scikit-learn model passed as
        # `attack_model`: its type check wants ART's own ClassifierMixin)
        attack.attack_model = RandomForestClassifier(random_state=seed, n_jobs=1)
        attack.fit(Z_train[:half_in], victim.y_train[:half_in], Z_test[:half_out], victim.y_test[:half_out])
        members = attack.infer(Z_train[half_in:], victim.y_train[half_in:], probabilities=True).ravel()
        others = attack.infer(Z_test[half_out:], victim.y_test[half_out:], probabilities=True).ravel()
        truth = np.r_[np.ones(len(members)), np.zeros(len(others))]
        scores = np.r_[members, others]
        proba_in = victim.model.predict_proba(Z_train[half_in:])[np.arange(len(members)), victim.y_train[half_in:]]
        proba_out = victim.model.predict_proba(Z_test[half_out:])[np.arange(len(others)), victim.y_test[half_out:]]
        fpr, tpr, _ = roc_curve(truth, scores)
        results.append(
            MembershipResult(
                name=name,
                model_name=model_name,
                params=dict(params),
                train_accuracy=float((victim.model.predict(Z_train) == victim.y_train).mean()),
                test_accuracy=victim.accuracy(),
                auc_art=float(roc_auc_score(truth, scores)),
                auc_confidence=float(roc_auc_score(truth, np.r_[proba_in, proba_out])),
                roc=(fpr, tpr),
            )
        )
        _report(progress, (i + 1) / len(models))
    return results
