"""Fairness of the loan decisions by a sensitive attribute (fairlearn), and one mitigation with its cost.

Metrics: per group (MetricFrame) the selection (approval) rate, true and false positive rates and accuracy;
the demographic-parity difference (gap between approval rates) and the equal-opportunity difference (gap
between true positive rates: creditworthy applicants approved). Mitigation: fairlearn's ThresholdOptimizer,
per-group thresholds on the model's probability, fitted on the training rows and judged on the held-out ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.responsible.subject import ResponsibleError, Subject

ATTRIBUTES: tuple[str, ...] = ("Gender", "Married")
MISSING = "(missing)"
MIN_GROUP = 10  # fewer held-out members than this: shown, but left out of the differences
CONSTRAINTS: tuple[str, ...] = ("demographic_parity", "true_positive_rate_parity")
DEFAULT_THRESHOLD = 0.5


def group_labels(X: pd.DataFrame, attribute: str) -> pd.Series:
    """The group of each row for `attribute`, a missing value being its own group `(missing)`."""
    if attribute not in X.columns:
        raise ResponsibleError("err_attribute", attribute=attribute)
    values = X[attribute].astype("object")
    return values.where(values.notna(), MISSING).astype(str).rename(attribute)


@dataclass
class FairnessReport:
    """Per-group metrics and the two gaps, on the groups large enough to compare."""

    attribute: str
    by_group: pd.DataFrame  # group, count, positives, selection_rate, tpr, fpr, accuracy, compared
    dp_difference: float  # max - min approval rate over compared groups (0 = parity)
    eo_difference: float  # max - min true positive rate over compared groups (nan if not computable)
    accuracy: float
    approval_rate: float
    left_out: list[str] = field(default_factory=list)  # groups shown but not compared (too small / missing)
    excluded_missing: bool = False
    dp_interval: tuple[float, float] = (float("nan"), float("nan"))  # 95 % bootstrap interval of dp_difference


def dp_bootstrap(
    y_pred: np.ndarray, groups: np.ndarray, compared: list[str], n_boot: int = 400, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the demographic-parity difference, resampling the rows (how much of the
    gap could be chance on so few applications)."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(np.isin(groups, compared))
    gaps = []
    for _ in range(n_boot):
        sample = rows[rng.integers(0, len(rows), len(rows))]
        rates = [y_pred[sample][groups[sample] == g].mean() for g in compared if (groups[sample] == g).any()]
        if len(rates) == len(compared):
            gaps.append(max(rates) - min(rates))
    if not gaps:
        return float("nan"), float("nan")
    low, high = np.percentile(gaps, [2.5, 97.5])
    return float(low), float(high)


def _keep(groups: pd.Series, exclude_missing: bool) -> np.ndarray:
    return (groups != MISSING).to_numpy() if exclude_missing else np.ones(len(groups), bool)


def compute_fairness(
    y_true: pd.Series | np.ndarray,
    y_pred: np.ndarray,
    groups: pd.Series,
    *,
    min_group: int = MIN_GROUP,
    exclude_missing: bool = False,
) -> FairnessReport:
    """Fairness of decisions `y_pred` (1 = approved) against outcomes `y_true`, by the groups in `groups`.

    Args:
        min_group: a group with fewer members is shown but left out of the differences (too noisy).
        exclude_missing: drop the rows whose attribute is missing instead of making them a group.

    Raises:
        ResponsibleError: fewer than two groups are large enough to compare.
    """
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    keep = _keep(groups, exclude_missing)
    y_true, y_pred, sf = y_true[keep], y_pred[keep], groups.to_numpy()[keep]
    frame = MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "accuracy": accuracy_score,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=pd.Series(sf, name=groups.name),
    )
    table = frame.by_group.reset_index().rename(columns={groups.name: "group"})
    table["count"] = table["count"].astype(int)
    table["positives"] = [int(y_true[sf == g].sum()) for g in table["group"]]
    table.loc[table["positives"] == 0, "tpr"] = np.nan  # no creditworthy applicant in the group: undefined
    table["compared"] = (table["count"] >= min_group) & (table["group"] != MISSING)
    compared = table[table["compared"]]
    if len(compared) < 2:
        raise ResponsibleError("err_groups", attribute=str(groups.name), n=min_group)
    tprs = compared["tpr"].dropna()
    return FairnessReport(
        attribute=str(groups.name),
        by_group=table[["group", "count", "positives", "selection_rate", "tpr", "fpr", "accuracy", "compared"]],
        dp_difference=float(compared["selection_rate"].max() - compared["selection_rate"].min()),
        eo_difference=float(tprs.max() - tprs.min()) if len(tprs) >= 2 else float("nan"),
        accuracy=float(accuracy_score(y_true, y_pred)),
        approval_rate=float(y_pred.mean()),
        left_out=[str(g) for g in table.loc[~table["compared"], "group"]],
        excluded_missing=exclude_missing,
        dp_interval=dp_bootstrap(y_pred, sf, [str(g) for g in compared["group"]]),
    )


def decisions(model: Any, X: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """The model's decisions: approve (1) when the probability of repaying reaches `threshold`."""
    return (np.asarray(model.predict_proba(X))[:, 1] >= threshold).astype(int)


def review_fairness(
    subject: Subject, attribute: str, *, min_group: int = MIN_GROUP, exclude_missing: bool = False
) -> FairnessReport:
    """Fairness of the subject's held-out decisions by `attribute`."""
    groups = group_labels(subject.X_test, attribute)
    return compute_fairness(
        subject.y_test,
        decisions(subject.model, subject.X_test),
        groups,
        min_group=min_group,
        exclude_missing=exclude_missing,
    )


def profit(y_true: np.ndarray, y_pred: np.ndarray, gain: float = 1.0, loss: float = 4.0) -> float:
    """gain × repaid approved loans − loss × defaulted approved loans (a refusal earns nothing)."""
    y_true, y_pred = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    return float(gain * (y_pred & y_true).sum() - loss * (y_pred & ~y_true).sum())


@dataclass
class Mitigation:
    """Decisions before and after per-group thresholds, and what the change costs."""

    constraint: str
    before: FairnessReport
    after: FairnessReport
    profit_before: float
    profit_after: float
    thresholds: dict[str, str]  # group → the rule the optimizer chose, in words (from fairlearn)
    dropped: list[str] = field(default_factory=list)  # groups left out: one outcome only in training


def mitigate(
    subject: Subject,
    attribute: str,
    constraint: str = "demographic_parity",
    *,
    min_group: int = MIN_GROUP,
    exclude_missing: bool = False,
    gain: float = 1.0,
    loss: float = 4.0,
    seed: int = 0,
) -> Mitigation:
    """Fit fairlearn's ThresholdOptimizer on the training rows (the model stays as it is: `prefit`) and
    compare its held-out decisions with the model's own.

    Raises:
        ResponsibleError: unknown constraint, or groups too small to compare.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    if constraint not in CONSTRAINTS:
        raise ResponsibleError("err_constraint", constraint=constraint)
    train_groups = group_labels(subject.X_train, attribute)
    test_groups = group_labels(subject.X_test, attribute)
    keep_train = _keep(train_groups, exclude_missing)
    # a group whose training rows all share one outcome has no threshold trade-off (fairlearn refuses it):
    # its rows are left out of the mitigation, and the learner is told which
    outcomes = subject.y_train[keep_train].groupby(train_groups[keep_train].to_numpy()).nunique()
    degenerate = sorted(str(g) for g in outcomes.index[outcomes < 2])
    keep_train &= ~train_groups.isin(degenerate).to_numpy()
    keep_test = _keep(test_groups, exclude_missing) & ~test_groups.isin(degenerate).to_numpy()
    X_train, y_train = subject.X_train[keep_train], subject.y_train[keep_train]
    X_test, y_test = subject.X_test[keep_test], subject.y_test[keep_test]
    unseen = set(test_groups[keep_test]) - set(train_groups[keep_train])
    if unseen:
        raise ResponsibleError("err_unseen_group", groups=", ".join(sorted(unseen)))
    optimizer = ThresholdOptimizer(
        estimator=subject.model,
        constraints=constraint,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(X_train, y_train, sensitive_features=train_groups[keep_train].to_numpy())
    after = np.asarray(
        optimizer.predict(X_test, sensitive_features=test_groups[keep_test].to_numpy(), random_state=seed)
    ).astype(int)
    before = decisions(subject.model, X_test)
    rules = {str(g): str(rule) for g, rule in optimizer.interpolated_thresholder_.interpolation_dict.items()}
    return Mitigation(
        constraint=constraint,
        before=compute_fairness(y_test, before, test_groups[keep_test], min_group=min_group),
        after=compute_fairness(y_test, after, test_groups[keep_test], min_group=min_group),
        profit_before=profit(y_test.to_numpy(), before, gain, loss),
        profit_after=profit(y_test.to_numpy(), after, gain, loss),
        thresholds=rules,
        dropped=degenerate,
    )
