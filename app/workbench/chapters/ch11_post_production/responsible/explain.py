"""Explanations: permutation importance of each input on held-out data (scikit-learn), and, for one
applicant, how much each of their values moves the approval probability compared with a typical value.

The per-decision explanation is a one-at-a-time "what if" (each feature replaced by the training median or
most frequent value, the others kept): it shows what drives *this* decision in the model, not a cause in the
world, ignores interactions, and its contributions need not add up to the gap with a typical applicant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.responsible.subject import ResponsibleError, Subject
from workbench.core.data import FEATURES, NUMERIC_FEATURES


def permutation_importances(subject: Subject, n_repeats: int = 10, seed: int = 0) -> pd.DataFrame:
    """Drop in ROC AUC on held-out rows when each input column is shuffled (mean and spread over repeats).

    Returns:
        feature, importance (mean AUC drop), std; most important first.
    """
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        subject.model,
        subject.X_test,
        subject.y_test,
        scoring="roc_auc",
        n_repeats=n_repeats,
        random_state=seed,
        n_jobs=1,
    )
    table = pd.DataFrame(
        {"feature": list(subject.X_test.columns), "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values("importance", ascending=False, ignore_index=True)


def reference_values(X: pd.DataFrame) -> dict[str, object]:
    """A typical applicant: the median of each numeric input and the most frequent value of each category."""
    out: dict[str, object] = {}
    for feature in FEATURES:
        column = X[feature].dropna()
        if column.empty:
            out[feature] = None
        elif feature in NUMERIC_FEATURES:
            out[feature] = float(column.median())
        else:
            out[feature] = str(column.mode().iloc[0])
    return out


@dataclass
class DecisionExplanation:
    """One applicant's decision and what each of their values does to it."""

    application: dict
    probability: float
    approved: bool
    threshold: float
    reference_probability: float  # the typical applicant's probability
    contributions: pd.DataFrame  # feature, value, reference, contribution (probability points, + helps approval)


def explain_decision(subject: Subject, application: dict, threshold: float = 0.5) -> DecisionExplanation:
    """Explain one decision: for each input, the change in probability when the applicant's value is
    replaced by the typical one (positive: the value helps approval, negative: it counts against it).

    Raises:
        ResponsibleError: the application lacks an input column.
    """
    missing = [f for f in FEATURES if f not in application]
    if missing:
        raise ResponsibleError("err_application", features=", ".join(missing))
    reference = reference_values(subject.X_train)
    row = pd.DataFrame([{f: application[f] for f in FEATURES}]).astype(subject.X_train.dtypes.to_dict())
    variants = [row]
    for feature in FEATURES:
        changed = row.copy()
        changed[feature] = changed[feature].astype("object")
        changed.loc[:, feature] = reference[feature]
        variants.append(changed.astype(subject.X_train.dtypes.to_dict()))
    typical = pd.DataFrame([reference]).astype(subject.X_train.dtypes.to_dict())
    batch = pd.concat([*variants, typical], ignore_index=True)
    proba = np.asarray(subject.model.predict_proba(batch))[:, 1]
    own = float(proba[0])
    table = pd.DataFrame(
        {
            "feature": list(FEATURES),
            "value": [_plain(application[f]) for f in FEATURES],
            "reference": [reference[f] for f in FEATURES],
            "contribution": own - proba[1 : 1 + len(FEATURES)],
        }
    )
    table = table.reindex(table["contribution"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return DecisionExplanation(
        application={f: _plain(application[f]) for f in FEATURES},
        probability=own,
        approved=own >= threshold,
        threshold=threshold,
        reference_probability=float(proba[-1]),
        contributions=table,
    )


def _plain(value: object) -> object:
    """A JSON- and table-friendly value (None for missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def refused_applicants(subject: Subject, threshold: float = 0.5, limit: int = 50) -> pd.DataFrame:
    """Held-out applicants the model refuses, closest to approval first (the ones an explanation helps most)."""
    proba = np.asarray(subject.model.predict_proba(subject.X_test))[:, 1]
    table = subject.X_test.assign(probability=proba)
    refused = table[table["probability"] < threshold].sort_values("probability", ascending=False)
    return refused.head(limit)


def reasons(explanation: DecisionExplanation, top: int = 3) -> pd.DataFrame:
    """The inputs that count most against approval (negative contributions), largest first."""
    against = explanation.contributions[explanation.contributions["contribution"] < -0.005]
    return against.sort_values("contribution").head(top).reset_index(drop=True)
