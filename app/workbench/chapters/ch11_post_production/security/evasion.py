"""Evasion attacks: white box and black box (ART), and a greedy search through the API."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.victim import (
    DEFAULT_API_FEATURES,
    DEFAULT_BUDGET,
    Budget,
    ModelSpace,
    Progress,
    SecurityError,
    Victim,
    _report,
    application_problems,
    one_thread,
    records,
)
from workbench.core.data import (
    CATEGORIES,
    FEATURES,
    NUMERIC_FEATURES,
    NUMERIC_RANGES,
)
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Evasion
# --------------------------------------------------------------------------------------------


@dataclass
class EvasionResult:
    """An evasion attack on `n_rows` held-out applications, before and after mapping back to valid inputs."""

    attack: str
    model_name: str
    features: tuple[str, ...]
    n_rows: int
    accuracy_clean: float
    accuracy_model_space: float  # on the raw adversarial vectors, as if the model accepted anything
    accuracy_valid: float  # on the adversarial vectors mapped back to valid applications
    rejected_share: float  # raw adversarial vectors a strict validation would refuse
    before: pd.DataFrame  # the attacked applications
    after: pd.DataFrame  # their valid adversarial versions
    proba_before: np.ndarray
    proba_after: np.ndarray
    y_true: np.ndarray
    seconds: float
    queries: int = 0
    complete: bool = True
    eps: float | None = None

    @property
    def flipped(self) -> np.ndarray:
        """Rows whose valid adversarial version gets the other decision."""
        return (self.proba_before >= 0.5) != (self.proba_after >= 0.5)

    @property
    def success_rate(self) -> float:
        """Share of the rows the model got right that it gets wrong after the attack (valid inputs)."""
        right = (self.proba_before >= 0.5).astype(int) == self.y_true
        wrong_after = (self.proba_after >= 0.5).astype(int) != self.y_true
        return float((right & wrong_after).sum() / max(1, right.sum()))

    def example(self) -> tuple[dict, dict] | None:
        """One flipped row, before and after (None when no decision flipped)."""
        rows = np.flatnonzero(self.flipped)
        if not len(rows):
            return None
        i = int(rows[0])
        return records(self.before.iloc[[i]])[0], records(self.after.iloc[[i]])[0]


def _art_classifier(model: Any, space: ModelSpace, clip: bool):
    from art.estimators.classification import SklearnClassifier

    clip_values = space.bounds() if clip else None
    return SklearnClassifier(model=model, clip_values=clip_values)


def _counting(classifier) -> list[int]:
    """Count the rows the attack sends to the classifier's predict (queries)."""
    counter = [0]
    predict = classifier.predict

    def counted(x, *args, **kwargs):
        counter[0] += len(x)
        return predict(x, *args, **kwargs)

    classifier.predict = counted
    return counter


def _evasion_result(
    attack: str,
    victim: Victim,
    features: Sequence[str],
    rows: np.ndarray,
    Z_adv: np.ndarray,
    start: float,
    queries: int = 0,
    complete: bool = True,
    eps: float | None = None,
) -> EvasionResult:
    space = victim.space
    before = victim.X_test.iloc[rows].reset_index(drop=True)
    y_true = victim.y_test[rows]
    after = space.to_applications(Z_adv, before)
    proba_before = victim.pipeline.predict_proba(before)[:, 1]
    proba_after = victim.pipeline.predict_proba(after)[:, 1]
    raw_pred = victim.model.predict(Z_adv)
    return EvasionResult(
        attack=attack,
        model_name=victim.model_name,
        features=tuple(features),
        n_rows=len(rows),
        accuracy_clean=float(((proba_before >= 0.5).astype(int) == y_true).mean()),
        accuracy_model_space=float((raw_pred == y_true).mean()),
        accuracy_valid=float(((proba_after >= 0.5).astype(int) == y_true).mean()),
        rejected_share=float(space.invalid_rows(Z_adv).mean()),
        before=before,
        after=after,
        proba_before=proba_before,
        proba_after=proba_after,
        y_true=y_true,
        seconds=time.monotonic() - start,
        queries=queries,
        complete=complete,
        eps=eps,
    )


@one_thread
def white_box_evasion(
    victim: Victim,
    eps: float = 1.0,
    method: str = "fgsm",
    features: Sequence[str] = NUMERIC_FEATURES,
    max_rows: int | None = None,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: Progress = None,
) -> EvasionResult:
    """Gradient attack (ART FastGradientMethod or ProjectedGradientDescent) on a logistic regression.

    Args:
        eps: the largest change of each feature, in standard deviations of the model space.
        method: "fgsm" (one step) or "pgd" (several projected steps).
        features: the features the attacker may change.
        max_rows: attack only the first rows of the held-out set.

    Raises:
        SecurityError: the victim is not a logistic regression, or bad parameters.
    """
    from sklearn.linear_model import LogisticRegression

    if not isinstance(victim.model, LogisticRegression):
        raise SecurityError("err_white_box_model")
    if method not in ("fgsm", "pgd") or eps <= 0:
        raise SecurityError("err_white_box_params")
    budget = Budget(budget_seconds)
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent

    space = victim.space
    rows = np.arange(len(victim.X_test) if max_rows is None else min(max_rows, len(victim.X_test)))
    Z = space.transform(victim.X_test.iloc[rows])
    classifier = _art_classifier(victim.model, space, clip=False)
    if method == "fgsm":
        attack = FastGradientMethod(classifier, eps=eps)
    else:
        attack = ProjectedGradientDescent(classifier, eps=eps, eps_step=eps / 4, max_iter=10, verbose=False)
    mask = space.mask(features)
    chunks = np.array_split(np.arange(len(rows)), max(1, math.ceil(len(rows) / 32)))
    Z_adv, complete = Z.copy(), True
    for done, chunk in enumerate(chunks):
        if budget.expired():
            complete = False
            rows, Z_adv = rows[: chunk[0]], Z_adv[: chunk[0]]
            break
        Z_adv[chunk] = attack.generate(Z[chunk].astype(np.float32), mask=mask).astype(float)
        _report(progress, (done + 1) / len(chunks))
    if not len(rows):
        raise SecurityError("err_budget_out_rows")
    return _evasion_result(method, victim, features, rows, Z_adv, budget.start, complete=complete, eps=eps)


@one_thread
def black_box_evasion(
    victim: Victim,
    attack: str = "hopskipjump",
    features: Sequence[str] = NUMERIC_FEATURES,
    max_rows: int = 20,
    max_iter: int = 10,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: Progress = None,
) -> EvasionResult:
    """Decision-based attack (ART HopSkipJump or BoundaryAttack): only the model's answers are used.

    Rows are attacked one at a time until `max_rows` or the time budget; `queries` counts every row sent
    to the model.
    """
    if attack not in ("hopskipjump", "boundary"):
        raise SecurityError("err_black_box_attack")
    budget = Budget(budget_seconds)
    from art.attacks.evasion import BoundaryAttack, HopSkipJump

    space = victim.space
    n = min(max_rows, len(victim.X_test))
    Z = space.transform(victim.X_test.iloc[:n])
    classifier = _art_classifier(victim.model, space, clip=True)
    counter = _counting(classifier)
    if attack == "hopskipjump":
        art_attack = HopSkipJump(
            classifier, targeted=False, max_iter=max_iter, max_eval=200, init_eval=20, verbose=False
        )
    else:
        art_attack = BoundaryAttack(
            classifier,
            targeted=False,
            max_iter=max_iter * 10,
            num_trial=10,
            sample_size=10,
            init_size=100,
            verbose=False,
        )
    mask = space.mask(features)
    Z_adv, done = Z.copy(), 0
    for i in range(n):
        if budget.expired():
            break
        x = Z[i : i + 1].astype(np.float32)
        if attack == "hopskipjump":
            Z_adv[i] = art_attack.generate(x, mask=mask)[0]
        else:
            adv = art_attack.generate(x)[0]
            Z_adv[i] = Z[i] + (adv - Z[i]) * mask  # BoundaryAttack has no mask: keep the frozen features
        done = i + 1
        _report(progress, done / n)
    if done == 0:
        raise SecurityError("err_budget_out_row")
    return _evasion_result(
        attack, victim, features, np.arange(done), Z_adv[:done], budget.start, queries=counter[0], complete=done == n
    )


# --- the black box behind HTTP: a greedy search that only sees the API's answers ---------------------


@dataclass(frozen=True)
class QueryAnswer:
    """One answer of the model under attack: the probability of approval, or an HTTP refusal."""

    status: int  # 200, 429, 413 ...
    probability: float | None = None
    retry_after: float | None = None


@dataclass
class ApiAttackResult:
    """A greedy black-box search against a prediction service."""

    original: dict
    final: dict
    goal: str  # "Y" (get approved) or "N"
    reached: bool
    queries: int
    refused: int  # queries answered 429 (rate limit) or another error
    steps: list[dict]  # feature, old, new, probability, queries so far
    seconds: float
    probability_before: float
    probability_after: float


def _candidates(application: dict, feature: str) -> list[Any]:
    value = application.get(feature)
    if feature == "Credit_History":
        return [1 - int(value)] if value in (0, 1) else [0, 1]
    if feature in CATEGORIES:
        return [c for c in CATEGORIES[feature] if c != value]
    low, high = NUMERIC_RANGES[feature]
    if feature == "Loan_Amount_Term":
        return [t for t in (12, 36, 60, 84, 120, 180, 240, 300, 360, 480) if t != value]
    base = float(value) if value not in (None, 0) else {"CoapplicantIncome": 1000.0}.get(feature, 100.0)
    factors = (0.5, 0.75, 1.25, 1.5, 2.0) if feature != "CoapplicantIncome" or value else (1.0, 2.0, 4.0)
    values = sorted({int(min(high, max(max(low, 1), round(base * f)))) for f in factors} - {value})
    return values


@one_thread
def greedy_api_attack(
    application: dict,
    query: Callable[[dict], QueryAnswer],
    features: Sequence[str] = DEFAULT_API_FEATURES,
    max_queries: int = 200,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: Progress = None,
) -> ApiAttackResult:
    """Flip the service's decision on `application` by changing a few features, one move at a time.

    Each round tries every candidate value of every allowed feature (one query each) and keeps the move
    that moves the probability most towards the goal, until the decision flips, the queries or the
    time run out. The attacker knows nothing of the model: only the answers.
    """
    budget = Budget(budget_seconds)
    unknown = set(features) - set(FEATURES)
    if unknown or not features:
        raise SecurityError("err_features_among", features=", ".join(FEATURES))
    problems = application_problems(application)
    if problems:
        raise SecurityError("err_invalid_application", problems=problems)
    queries = refused = 0

    def ask(candidate: dict) -> float | None:
        nonlocal queries, refused
        queries += 1
        answer = query(candidate)
        if answer.status != 200 or answer.probability is None:
            refused += 1
            return None
        return float(answer.probability)

    current = dict(application)
    first = ask(current)
    if first is None:
        raise SecurityError("err_first_query_refused")
    goal = "Y" if first < 0.5 else "N"
    sign = 1.0 if goal == "Y" else -1.0
    probability, steps, used = first, [], set()
    while (probability >= 0.5) != (goal == "Y") and queries < max_queries and not budget.expired():
        best: tuple[float, str, Any] | None = None
        for feature in features:
            if feature in used and feature in CATEGORIES:
                continue
            for value in _candidates(current, feature):
                if queries >= max_queries or budget.expired():
                    break
                p = ask({**current, feature: value})
                if p is not None and (best is None or sign * p > sign * best[0]):
                    best = (p, feature, value)
        _report(progress, queries / max_queries)
        if best is None or sign * best[0] <= sign * probability + 1e-12:
            break  # no move helps any more: the search is stuck
        p, feature, value = best
        steps.append(
            {
                "feature": feature,
                "old": current.get(feature),
                "new": value,
                "probability": round(p, 4),
                "queries": queries,
            }
        )
        current[feature] = value
        used.add(feature)
        probability = p
    _report(progress, 1.0)
    return ApiAttackResult(
        original=dict(application),
        final=current,
        goal=goal,
        reached=(probability >= 0.5) == (goal == "Y"),
        queries=queries,
        refused=refused,
        steps=steps,
        seconds=budget.elapsed,
        probability_before=first,
        probability_after=probability,
    )


def pipeline_query(pipeline: Any) -> Callable[[dict], QueryAnswer]:
    """A query function on an in-process pipeline (tests, or an attacker who stole the model file).

    Uses the API's compiler (`workbench.api.compiler`) when the pipeline allows it (the same probabilities,
    a hundred times faster on one row), like the API does.
    """
    from workbench.api.compiler import NotCompilable, compile_pipeline
    from workbench.api.models import API_SCHEMA

    try:
        compiled = compile_pipeline(pipeline, API_SCHEMA)
    except NotCompilable:
        compiled = None

    def query(application: dict) -> QueryAnswer:
        if compiled is not None:
            return QueryAnswer(200, float(compiled.predict_proba([application])[0]))
        frame = pd.DataFrame([application], columns=list(FEATURES))
        frame = frame.astype({c: "float64" for c in NUMERIC_FEATURES})
        return QueryAnswer(200, float(pipeline.predict_proba(frame)[0, 1]))

    return query


def api_query(settings: Settings | None = None, learner: str | None = None) -> Callable[[dict], QueryAnswer]:
    """A query function that POSTs each application to the live API's /predict (`learner`'s own in class mode)."""
    from workbench.core import api_client

    def query(application: dict) -> QueryAnswer:
        result = api_client.predict(application, settings=settings, learner=learner)
        if result.ok and isinstance(result.body, dict):
            return QueryAnswer(200, float(result.body["probability"]))
        retry = result.headers.get("retry-after") or result.headers.get("Retry-After")
        return QueryAnswer(result.status_code or 0, None, float(retry) if retry else None)

    return query
