"""Chapter XI: attacks on the loan model and defenses, measured (evasion, poisoning, extraction,
membership inference, denial of service), mostly with the Adversarial Robustness Toolbox (ART).

Gradient and decision attacks work in the *model space* (the preprocessed matrix: standardised numbers,
one-hot categories). A bank never receives a model-space vector: it receives an application. So every
adversarial vector is mapped back to a **valid application** (values inside `NUMERIC_RANGES`, rounded
amounts, `Credit_History` in {0, 1}, known categories) and scored again: the numbers shown are those of
real, acceptable inputs. Every attack has a time budget and reports its progress through a callback
`progress(fraction)`. ART (~2 s to import) is imported inside the functions that use it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.data import (
    CATEGORICAL_FEATURES,
    CATEGORIES,
    FEATURES,
    NUMERIC_FEATURES,
    NUMERIC_RANGES,
    split_features_target,
)
from workbench.exercises import CheckContext, CheckResult
from workbench.formatting import localize_figure, number, number_auto, percent_axis
from workbench.i18n import LocalizedError, translate
from workbench.learner_files import read_json, write_json
from workbench.settings import Settings

Progress = Callable[[float], None] | None
DEFAULT_BUDGET = 30.0
DEFAULT_SEED = 42
#: Numeric features whose values are amounts (rounded to whole units in a valid application).
INTEGER_FEATURES = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")
#: Features an applicant can plausibly tweak when trying to get a loan through the API.
DEFAULT_API_FEATURES = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")
FLIP_FILE = "ch11_flip.json"


class SecurityError(LocalizedError, ValueError):
    """An attack or defense that cannot run with these inputs (`message(lang)` for the learner).

    Also one problem of an invalid application (`application_problems`), keys `security.problem_*`.
    """

    namespace = "security"


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)))


def one_thread(func: Callable) -> Callable:
    """Run a function's small NumPy/scikit-learn work on one thread: on a few hundred rows, BLAS threads
    cost more than they save (several times slower on a busy 2-core machine)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper


class Budget:
    """A time budget: `expired()` once `seconds` have passed since creation."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise SecurityError("err_budget")
        self.seconds = float(seconds)
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def expired(self) -> bool:
        """True when the budget is spent."""
        return self.elapsed >= self.seconds


# --------------------------------------------------------------------------------------------
# The victim and its model space
# --------------------------------------------------------------------------------------------


@dataclass
class Victim:
    """A fitted course pipeline with its train/test split (the model under attack)."""

    model_name: str
    pipeline: Any
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_test: pd.DataFrame
    y_test: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def space(self) -> ModelSpace:
        """The preprocessed space the model sees."""
        return ModelSpace.from_pipeline(self.pipeline)

    @property
    def model(self) -> Any:
        """The estimator after preprocessing."""
        return self.pipeline.named_steps["model"]

    def accuracy(self) -> float:
        """Accuracy on the held-out applications."""
        return float((self.pipeline.predict(self.X_test) == self.y_test).mean())


@one_thread
def train_victim(
    data: pd.DataFrame,
    model_name: str = "logistic_regression",
    params: dict | None = None,
    seed: int = DEFAULT_SEED,
    test_size: float = 0.2,
) -> Victim:
    """Split the loan table (stratified) and fit the course pipeline that will be attacked.

    A random forest is set to one thread: attacks query it thousands of times on a few rows.
    """
    from sklearn.model_selection import train_test_split

    from workbench.modeling import build_pipeline

    X, y = split_features_target(data)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    pipeline = build_pipeline(model_name, params, seed)
    pipeline.fit(X_train, y_train)
    if model_name == "random_forest":
        pipeline.named_steps["model"].n_jobs = 1
    return Victim(
        model_name, pipeline, X_train.reset_index(drop=True), y_train.to_numpy(), X_test.reset_index(drop=True),
        y_test.to_numpy(), dict(params or {}),
    )  # fmt: skip


@dataclass(frozen=True)
class ModelSpace:
    """The preprocessed columns of a course pipeline and the way back to a valid application."""

    preprocess: Any
    columns: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    groups: dict[str, tuple[int, tuple[str, ...]]]  # categorical feature → (first column, categories)

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> ModelSpace:
        """Read the fitted preprocessing step of a course pipeline."""
        preprocess = pipeline.named_steps["preprocess"]
        scaler = preprocess.named_transformers_["numeric"].named_steps["scale"]
        encoder = preprocess.named_transformers_["categorical"].named_steps["encode"]
        columns = list(NUMERIC_FEATURES)
        groups = {}
        for feature, categories in zip(CATEGORICAL_FEATURES, encoder.categories_):
            groups[feature] = (len(columns), tuple(str(c) for c in categories))
            columns += [f"{feature}={c}" for c in categories]
        return cls(preprocess, tuple(columns), np.asarray(scaler.mean_, float), np.asarray(scaler.scale_, float),
                   groups)  # fmt: skip

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Applications → model-space matrix (float64)."""
        return np.asarray(self.preprocess.transform(X[list(FEATURES)]), dtype=float)

    def mask(self, features: Sequence[str]) -> np.ndarray:
        """1.0 on the columns that belong to `features`, 0.0 elsewhere (what an attack may change)."""
        unknown = set(features) - set(FEATURES)
        if unknown:
            raise SecurityError("err_unknown_features", features=", ".join(sorted(unknown)))
        mask = np.zeros(len(self.columns))
        for feature in features:
            if feature in NUMERIC_FEATURES:
                mask[NUMERIC_FEATURES.index(feature)] = 1.0
            else:
                start, categories = self.groups[feature]
                mask[start : start + len(categories)] = 1.0
        return mask

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest model-space value of each column for a valid application."""
        low, high = np.zeros(len(self.columns)), np.ones(len(self.columns))
        for j, feature in enumerate(NUMERIC_FEATURES):
            a, b = NUMERIC_RANGES[feature]
            low[j], high[j] = (a - self.mean[j]) / self.scale[j], (b - self.mean[j]) / self.scale[j]
        return low, high

    def raw_numbers(self, Z: np.ndarray) -> np.ndarray:
        """The numeric columns of a model-space matrix, back in the application's units."""
        return Z[:, : len(NUMERIC_FEATURES)] * self.scale + self.mean

    def invalid_rows(self, Z: np.ndarray) -> np.ndarray:
        """True for rows a strict input validation would reject (a number out of range, a credit history
        that is not 0 or 1, a one-hot group that is not exactly one category)."""
        raw = self.raw_numbers(Z)
        bad = np.zeros(len(Z), dtype=bool)
        for j, feature in enumerate(NUMERIC_FEATURES):
            low, high = NUMERIC_RANGES[feature]
            bad |= (raw[:, j] < low - 1e-6) | (raw[:, j] > high + 1e-6)
        credit = raw[:, NUMERIC_FEATURES.index("Credit_History")]
        bad |= np.minimum(np.abs(credit), np.abs(credit - 1)) > 1e-6
        for start, categories in self.groups.values():
            block = Z[:, start : start + len(categories)]
            one_hot = np.all(np.isclose(block, 0) | np.isclose(block, 1), axis=1) & np.isclose(block.sum(axis=1), 1)
            bad |= ~one_hot
        return bad

    def to_applications(self, Z: np.ndarray, original: pd.DataFrame) -> pd.DataFrame:
        """Map model-space rows back to valid applications.

        Columns the attack left untouched keep the original value (missing values included); changed
        numbers are clipped to `NUMERIC_RANGES` and rounded (amounts to whole units, credit history to 0/1);
        a changed one-hot group becomes its largest category.
        """
        original = original[list(FEATURES)].reset_index(drop=True)
        Z0 = self.transform(original)
        out = original.copy().astype(object)
        raw = self.raw_numbers(Z)
        for j, feature in enumerate(NUMERIC_FEATURES):
            changed = np.abs(Z[:, j] - Z0[:, j]) > 1e-9
            low, high = NUMERIC_RANGES[feature]
            values = np.clip(raw[:, j], low, high)
            if feature == "Credit_History":
                values = (values >= 0.5).astype(float)
            elif feature in INTEGER_FEATURES:
                values = np.clip(np.round(values), math.ceil(low), math.floor(high))
            out.loc[changed, feature] = values[changed]
        for feature, (start, categories) in self.groups.items():
            block = Z[:, start : start + len(categories)]
            changed = np.any(np.abs(block - Z0[:, start : start + len(categories)]) > 1e-9, axis=1)
            chosen = np.array(categories, dtype=object)[block.argmax(axis=1)]
            out.loc[changed, feature] = chosen[changed]
        for feature in NUMERIC_FEATURES:
            out[feature] = pd.to_numeric(out[feature]).astype(float)
        return out


def application_problems(application: dict) -> list[SecurityError]:
    """What a strict validation would refuse in one application (empty when it is valid).

    Each problem is a `SecurityError`: `str(problem)` is `feature: reason` in English (tests, logs),
    `problem.message(lang)` the learner's.
    """
    problems = []
    for feature in FEATURES:
        if feature not in application:
            problems.append(SecurityError("problem_missing", feature=feature))
    for feature, allowed in CATEGORIES.items():
        value = application.get(feature)
        if value is not None and str(value) not in allowed:
            problems.append(SecurityError("problem_category", feature=feature, value=repr(value),
                                          allowed=", ".join(allowed)))  # fmt: skip
    for feature in NUMERIC_FEATURES:
        value = application.get(feature)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(SecurityError("problem_not_number", feature=feature, value=repr(value)))
            continue
        low, high = NUMERIC_RANGES[feature]
        if not low <= number <= high:
            problems.append(SecurityError("problem_range", feature=feature, number=number, low=low, high=high))
        if feature == "Credit_History" and number not in (0.0, 1.0):
            problems.append(SecurityError("problem_binary", feature=feature, number=number))
    return problems


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows of an application table as JSON-friendly dicts (None for missing, Credit_History as int)."""
    table = frame[list(FEATURES)].astype(object)
    rows = table.where(table.notna(), None).to_dict("records")
    for row in rows:
        for feature in NUMERIC_FEATURES:
            value = row[feature]
            if value is not None:
                value = float(value)
                row[feature] = int(value) if value.is_integer() else value
    return rows


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
    attack: str, victim: Victim, features: Sequence[str], rows: np.ndarray, Z_adv: np.ndarray, start: float,
    queries: int = 0, complete: bool = True, eps: float | None = None,
) -> EvasionResult:  # fmt: skip
    space = victim.space
    before = victim.X_test.iloc[rows].reset_index(drop=True)
    y_true = victim.y_test[rows]
    after = space.to_applications(Z_adv, before)
    proba_before = victim.pipeline.predict_proba(before)[:, 1]
    proba_after = victim.pipeline.predict_proba(after)[:, 1]
    raw_pred = victim.model.predict(Z_adv)
    return EvasionResult(
        attack=attack, model_name=victim.model_name, features=tuple(features), n_rows=len(rows),
        accuracy_clean=float(((proba_before >= 0.5).astype(int) == y_true).mean()),
        accuracy_model_space=float((raw_pred == y_true).mean()),
        accuracy_valid=float(((proba_after >= 0.5).astype(int) == y_true).mean()),
        rejected_share=float(space.invalid_rows(Z_adv).mean()), before=before, after=after,
        proba_before=proba_before, proba_after=proba_after, y_true=y_true, seconds=time.monotonic() - start,
        queries=queries, complete=complete, eps=eps,
    )  # fmt: skip


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
        art_attack = HopSkipJump(classifier, targeted=False, max_iter=max_iter, max_eval=200, init_eval=20,
                                 verbose=False)  # fmt: skip
    else:
        art_attack = BoundaryAttack(classifier, targeted=False, max_iter=max_iter * 10, num_trial=10,
                                    sample_size=10, init_size=100, verbose=False)  # fmt: skip
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
    return _evasion_result(attack, victim, features, np.arange(done), Z_adv[:done], budget.start,
                           queries=counter[0], complete=done == n)  # fmt: skip


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
        steps.append({"feature": feature, "old": current.get(feature), "new": value, "probability": round(p, 4),
                      "queries": queries})  # fmt: skip
        current[feature] = value
        used.add(feature)
        probability = p
    _report(progress, 1.0)
    return ApiAttackResult(
        original=dict(application), final=current, goal=goal, reached=(probability >= 0.5) == (goal == "Y"),
        queries=queries, refused=refused, steps=steps, seconds=budget.elapsed, probability_before=first,
        probability_after=probability,
    )  # fmt: skip


def pipeline_query(pipeline: Any) -> Callable[[dict], QueryAnswer]:
    """A query function on an in-process pipeline (tests, or an attacker who stole the model file).

    Uses the compiled NumPy predictor of `workbench.fastpredict` when the pipeline allows it (the same
    probabilities, a hundred times faster on one row), like the API does.
    """
    from workbench.fastpredict import compile_pipeline

    compiled = compile_pipeline(pipeline)

    def query(application: dict) -> QueryAnswer:
        if compiled is not None:
            return QueryAnswer(200, float(compiled.predict_proba([application])[0]))
        frame = pd.DataFrame([application], columns=list(FEATURES))
        frame = frame.astype({c: "float64" for c in NUMERIC_FEATURES})
        return QueryAnswer(200, float(pipeline.predict_proba(frame)[0, 1]))

    return query


def api_query(settings: Settings | None = None) -> Callable[[dict], QueryAnswer]:
    """A query function that POSTs each application to the live API's /predict."""
    from workbench import api_client

    def query(application: dict) -> QueryAnswer:
        result = api_client.predict(application, settings=settings)
        if result.ok and isinstance(result.body, dict):
            return QueryAnswer(200, float(result.body["probability"]))
        retry = result.headers.get("retry-after") or result.headers.get("Retry-After")
        return QueryAnswer(result.status_code or 0, None, float(retry) if retry else None)

    return query


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
        poison_rate=poison_rate, n_poison=n_poison,
        clean_accuracy_before=float((clean.predict(Z_test) == victim.y_test).mean()),
        clean_accuracy_after=float((poisoned.predict(Z_test) == victim.y_test).mean()),
        trigger_success_before=success(clean), trigger_success_after=success(poisoned),
        trigger=dict(BACKDOOR_TRIGGER),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def synthetic_applications(n: int, seed: int = 7) -> list[dict]:
    """Applications an attacker can make up: the generated twin with another seed (public-looking data)."""
    from workbench.data import generate_loan_data

    return records(generate_loan_data(max(n, 2), seed=seed).head(n))


#: The copy "agrees" with the API on an application when its probability is within this many points.
FIDELITY_TOLERANCE = 0.05


@dataclass
class ExtractionResult:
    """Copying a model through its API: fidelity of the surrogate vs answers obtained, and the timeline."""

    surrogate_name: str
    curve: pd.DataFrame  # queries (answers obtained), fidelity, agreement
    timeline: pd.DataFrame  # seconds, sent, obtained, refused
    obtained: int
    refused: int
    seconds: float
    fidelity: float  # share of held-out applications where the copy's probability is within FIDELITY_TOLERANCE
    complete: bool
    surrogate: Any = None
    agreement: float = 0.0  # share of held-out applications where the copy takes the same decision


class ProbabilityCopy:
    """A surrogate fitted to the probabilities the API returned (a regression, not a classifier)."""

    def __init__(self, name: str, pipeline: Any) -> None:
        self.name = name
        self.pipeline = pipeline

    def probabilities(self, rows: list[dict]) -> np.ndarray:
        """The copy's probability of approval for each application."""
        raw = self.pipeline.predict(_frame(rows))
        if self.name == "logistic_regression":  # fitted on the log-odds
            return 1.0 / (1.0 + np.exp(-raw))
        return np.clip(raw, 0.0, 1.0)


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(FEATURES)).astype({c: "float64" for c in NUMERIC_FEATURES})


def _fit_surrogate(name: str, rows: list[dict], probabilities: Sequence[float], seed: int) -> ProbabilityCopy | None:
    """The attacker's copy: a regression tree on the probabilities, or a logistic model fitted to their
    log-odds (which recovers a logistic regression's weights from enough answers)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeRegressor

    from workbench.modeling import build_pipeline

    if len(rows) < 2:
        return None
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    preprocess = build_pipeline("logistic_regression", seed=seed).named_steps["preprocess"]
    if name == "decision_tree":
        model, target = DecisionTreeRegressor(max_depth=10, min_samples_leaf=1, random_state=seed), p
    else:
        model, target = Ridge(), np.log(p / (1 - p))
    return ProbabilityCopy(name, Pipeline([("preprocess", preprocess), ("model", model)]).fit(_frame(rows), target))


def fidelity(
    surrogate: ProbabilityCopy | None, holdout: list[dict], holdout_probabilities: Sequence[float],
    tolerance: float = FIDELITY_TOLERANCE,
) -> float:  # fmt: skip
    """Share of held-out applications where the copy's probability is within `tolerance` of the victim's."""
    if surrogate is None:
        return 0.0
    truth = np.asarray(holdout_probabilities, dtype=float)
    return float((np.abs(surrogate.probabilities(holdout) - truth) <= tolerance + 1e-12).mean())


def agreement(surrogate: ProbabilityCopy | None, holdout: list[dict], holdout_probabilities: Sequence[float]) -> float:
    """Share of held-out applications where the copy takes the victim's decision (approve at 0.5)."""
    if surrogate is None:
        return 0.0
    truth = np.asarray(holdout_probabilities, dtype=float) >= 0.5
    return float(((surrogate.probabilities(holdout) >= 0.5) == truth).mean())


@one_thread
def extraction_attack(
    query: Callable[[dict], QueryAnswer],
    applications: list[dict],
    holdout: list[dict],
    holdout_probabilities: Sequence[float],
    surrogate_name: str = "decision_tree",
    checkpoints: Sequence[int] = (10, 20, 50, 100, 200, 400),
    budget_seconds: float = DEFAULT_BUDGET,
    seed: int = DEFAULT_SEED,
    progress: Progress = None,
) -> ExtractionResult:
    """Query the victim with `applications`, fit a copy on the probabilities it returns, follow its fidelity.

    The API answers a probability, not only a decision: the attacker learns from it, and the fidelity is
    measured on it (the decision alone is easy to copy when one feature drives it). The attacker is naive:
    a refused query (429) is lost and it moves on, so a rate limit shows as a flat "obtained" line in the
    timeline. Stops at the end of the list or of the time budget.
    """
    if surrogate_name not in ("decision_tree", "logistic_regression"):
        raise SecurityError("err_surrogate")
    if not applications or not holdout:
        raise SecurityError("err_no_applications")
    budget = Budget(budget_seconds)
    obtained_rows: list[dict] = []
    answers: list[float] = []
    refused = 0
    timeline = [{"seconds": 0.0, "sent": 0, "obtained": 0, "refused": 0}]
    curve = []
    marks = sorted({c for c in checkpoints if c <= len(applications)} | {len(applications)})
    complete = True
    for sent, application in enumerate(applications, start=1):
        if budget.expired():
            complete = False
            break
        answer = query(application)
        if answer.status == 200 and answer.probability is not None:
            obtained_rows.append(application)
            answers.append(float(answer.probability))
            if len(answers) in marks:
                model = _fit_surrogate(surrogate_name, obtained_rows, answers, seed)
                curve.append({"queries": len(answers), "fidelity": fidelity(model, holdout, holdout_probabilities),
                              "agreement": agreement(model, holdout, holdout_probabilities)})  # fmt: skip
        else:
            refused += 1
        timeline.append({"seconds": budget.elapsed, "sent": sent, "obtained": len(answers), "refused": refused})
        _report(progress, sent / len(applications))
    surrogate = _fit_surrogate(surrogate_name, obtained_rows, answers, seed)
    final = fidelity(surrogate, holdout, holdout_probabilities)
    agree = agreement(surrogate, holdout, holdout_probabilities)
    if not curve or curve[-1]["queries"] != len(answers):
        curve.append({"queries": len(answers), "fidelity": final, "agreement": agree})
    return ExtractionResult(
        surrogate_name, pd.DataFrame(curve, columns=["queries", "fidelity", "agreement"]), pd.DataFrame(timeline),
        len(answers), refused, budget.elapsed, final, complete, surrogate, agree,
    )  # fmt: skip


def batch_probabilities(applications: list[dict], settings: Settings | None = None) -> list[float]:
    """The live API's probabilities for many applications in one /predict/batch call (to measure fidelity).

    Under a rate limit a batch costs one request per row: measure while the API has no limit.

    Raises:
        SecurityError: the API did not answer 200.
    """
    from workbench import api_client

    result = api_client.call("POST", "/predict/batch", json_body=applications, settings=settings, timeout=60)
    if not result.ok:
        detail = result.body.get("detail") if isinstance(result.body, dict) else result.body
        raise SecurityError("err_batch_refused", n=len(applications), status=result.status_code or result.error,
                            detail=detail)  # fmt: skip
    return [float(p["probability"]) for p in result.body["predictions"]]


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
            )  # fmt: skip
        )
        _report(progress, (i + 1) / len(models))
    return results


# --------------------------------------------------------------------------------------------
# Denial of service: the API's request size cap and rate limiter
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DosProbe:
    """What the API answered to an oversize request and to a burst."""

    kind: str  # "oversize" | "burst"
    sent: int
    statuses: dict[int, int]  # HTTP status → count
    bytes_sent: int
    seconds: float


def oversize_probe(settings: Settings) -> DosProbe:
    """POST a batch bigger than the API's body cap (expected: 413 before anything is parsed)."""
    from workbench import api_client

    one = json.dumps(api_client.EXAMPLE_APPLICATION).encode()
    count = settings.api_max_body_bytes // (len(one) + 1) + 10
    body = b"[" + b",".join([one] * count) + b"]"
    start = time.monotonic()
    result = api_client.call("POST", "/predict/batch", data=body, headers={"Content-Type": "application/json"},
                             settings=settings, timeout=60)  # fmt: skip
    return DosProbe("oversize", 1, {result.status_code or 0: 1}, len(body), time.monotonic() - start)


def burst_probe(settings: Settings, n: int = 60, progress: Progress = None) -> DosProbe:
    """Send `n` predictions back to back from one client and count the answers (429 = rate limited)."""
    from workbench import api_client

    if not 1 <= n <= 2000:
        raise SecurityError("err_burst_size")
    statuses: dict[int, int] = {}
    start = time.monotonic()
    for i in range(n):
        code = api_client.predict(api_client.EXAMPLE_APPLICATION, settings=settings).status_code or 0
        statuses[code] = statuses.get(code, 0) + 1
        _report(progress, (i + 1) / n)
    size = len(json.dumps(api_client.EXAMPLE_APPLICATION).encode()) * n
    return DosProbe("burst", n, dict(sorted(statuses.items())), size, time.monotonic() - start)


def rate_limit_env(rate: float, burst: int) -> dict[str, str]:
    """Environment variables that start the API with a per-client rate limit (0 = off)."""
    return {"WORKBENCH_API_RATE_LIMIT": f"{max(0.0, rate):g}", "WORKBENCH_API_RATE_BURST": str(max(1, int(burst)))}


def restart_api(settings: Settings, rate: float = 0.0, burst: int = 20):
    """Stop the local API (if the workbench started it) and start it again with this rate limit."""
    from workbench import api_client

    api_client.stop(settings)
    return api_client.start(settings, env=rate_limit_env(rate, burst))


# --------------------------------------------------------------------------------------------
# Defenses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefenseResult:
    """A defense measured on the same attack: accuracy (or another score) before and after."""

    defense: str
    attack: str
    metric: str
    before: float
    after: float
    detail: dict = field(default_factory=dict)


def _fgsm(model: Any, space: ModelSpace, Z: np.ndarray, eps: float, mask: np.ndarray, y: np.ndarray | None = None):
    from art.attacks.evasion import FastGradientMethod

    attack = FastGradientMethod(_art_classifier(model, space, clip=False), eps=eps)
    return attack.generate(Z.astype(np.float32), y=y, mask=mask).astype(float)


def robust_logistic_regression(
    Z: np.ndarray, y: np.ndarray, eps: float, mask: np.ndarray, C: float = 1.0, seed: int = DEFAULT_SEED
):
    """Adversarial training of a logistic regression, done exactly.

    For a linear model the worst change of size `eps` (per feature, on the `mask` columns) is known in
    closed form: it lowers the margin of every row by `eps * sum(|w|)` on those columns, and it is what
    FGSM finds. Training on every row's worst case *against the model being trained* (min-max) is
    therefore minimising `log(1 + exp(-(y * (w.x + b) - eps * |w|_mask)))`, solved here with L-BFGS.
    (Adding one round of FGSM rows crafted on the *old* model does not work on a linear model: every
    row of a class moves the same way, the new model learns that shift and gets weaker.)
    """
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    signs = 2.0 * np.asarray(y) - 1.0
    d = Z.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        smooth = np.sqrt(w**2 + 1e-8)  # |w|, differentiable
        margin = signs * (Z @ w + b) - eps * float((mask * smooth).sum())
        slope = -1.0 / (1.0 + np.exp(margin))
        grad_w = (slope * signs) @ Z - eps * slope.sum() * mask * w / smooth + w / C
        value = float(np.logaddexp(0, -margin).sum() + 0.5 * (w @ w) / C)
        return value, np.r_[grad_w, (slope * signs).sum()]

    theta = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B").x
    model = LogisticRegression(C=C, max_iter=1000, random_state=seed).fit(Z, y)  # sets classes_ etc.
    model.coef_, model.intercept_ = theta[:d][None, :], np.array([theta[d]])
    return model


@one_thread
def adversarial_training(victim: Victim, eps: float = 1.0, features: Sequence[str] = NUMERIC_FEATURES) -> DefenseResult:
    """Adversarial training (min-max) of the logistic regression; each model is then attacked with FGSM
    on its own gradients (the attacker knows the hardened model too). Robustness costs clean accuracy:
    both are in `detail`."""
    from sklearn.linear_model import LogisticRegression

    if not isinstance(victim.model, LogisticRegression):
        raise SecurityError("err_adv_training_model")
    if eps <= 0:
        raise SecurityError("err_eps")
    space = victim.space
    mask = space.mask(features)
    Z_train, Z_test = space.transform(victim.X_train), space.transform(victim.X_test)
    hardened = robust_logistic_regression(Z_train, victim.y_train, eps, mask, C=float(victim.model.C))

    def under_attack(model) -> float:
        return float((model.predict(_fgsm(model, space, Z_test, eps, mask)) == victim.y_test).mean())

    return DefenseResult(
        "adversarial_training", "fgsm", "accuracy", under_attack(victim.model), under_attack(hardened),
        {"clean_before": float((victim.model.predict(Z_test) == victim.y_test).mean()),
         "clean_after": float((hardened.predict(Z_test) == victim.y_test).mean()), "eps": eps},
    )  # fmt: skip


def validation_defense(result: EvasionResult) -> DefenseResult:
    """Input validation: the raw adversarial vectors are refused or clipped back to valid applications.

    Before: accuracy if the service accepted any vector. After: accuracy on what a validating service
    scores (projected, valid applications); `detail` also gives the share a strict service would reject.
    """
    return DefenseResult(
        "input_validation", result.attack, "accuracy", result.accuracy_model_space, result.accuracy_valid,
        {"rejected_share": result.rejected_share, "clean": result.accuracy_clean},
    )  # fmt: skip


@one_thread
def ensemble_defense(
    victim: Victim, eps: float = 1.0, features: Sequence[str] = NUMERIC_FEATURES, seed: int = DEFAULT_SEED
) -> DefenseResult:
    """Adversarial rows crafted with FGSM on the logistic regression (white box), sent to the logistic
    regression alone and to a soft-voting ensemble (logistic regression + random forest + boosting)
    trained on the same rows: the attack transfers badly to models it was not built on."""
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, VotingClassifier

    space = victim.space
    Z_train, Z_test = space.transform(victim.X_train), space.transform(victim.X_test)
    Z_adv = _fgsm(victim.model, space, Z_test, eps, space.mask(features))
    members = [
        ("logistic_regression", clone(victim.model)),
        ("random_forest", RandomForestClassifier(n_estimators=100, max_depth=6, min_samples_leaf=3,
                                                 random_state=seed, n_jobs=1)),
        ("gradient_boosting", HistGradientBoostingClassifier(random_state=seed)),
    ]  # fmt: skip
    ensemble = VotingClassifier(members, voting="soft").fit(Z_train, victim.y_train)
    return DefenseResult(
        "ensemble", "fgsm_transfer", "accuracy",
        float((victim.model.predict(Z_adv) == victim.y_test).mean()),
        float((ensemble.predict(Z_adv) == victim.y_test).mean()),
        {"clean_before": float((victim.model.predict(Z_test) == victim.y_test).mean()),
         "clean_after": float((ensemble.predict(Z_test) == victim.y_test).mean()), "eps": eps},
    )  # fmt: skip


def rate_limit_defense(unlimited: ExtractionResult, limited: ExtractionResult) -> DefenseResult:
    """Rate limiting: fidelity of the stolen copy without and with the limit (`detail` has the share of the
    attacker's queries answered in each run)."""

    def answered(result: ExtractionResult) -> float:
        return result.obtained / max(1, result.obtained + result.refused)

    return DefenseResult(
        "rate_limiting", "extraction", "fidelity", unlimited.fidelity, limited.fidelity,
        {"answered_before": answered(unlimited), "answered_after": answered(limited), "refused": limited.refused},
    )  # fmt: skip


@dataclass(frozen=True)
class LoaderTrial:
    """One model folder opened by one loader: accepted or refused, and whether its hidden payload ran."""

    file: str  # "pickle": cloudpickle with a payload; "smuggled": skops trusting os.system; "skops": a clean model
    loader: str  # "mlflow": mlflow.sklearn.load_model (MLflow's default); "workbench": workbench.safe_models
    loaded: bool
    reason: str | None  # the workbench's refusal key (model_safety.*), when refused
    params: dict
    payload_ran: bool | None  # None: the file carries no payload


class _Payload:
    """What an attacker hides in a pickle: `pickle.load` calls open(marker, "w"), creating a file (harmless here)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def build_model_folders(workdir: Path, pipeline: Any) -> dict[str, Path]:
    """Three MLflow model folders as `mlflow.sklearn.save_model` writes them: a cloudpickle one whose model
    file is a payload creating `workdir/payload-ran`, a skops one whose MLmodel trusts `os.system`, and a
    clean skops one (the learner's case)."""
    import os
    import pickle

    import mlflow.sklearn
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from workbench.tracking import model_requirements, trusted_types_for

    folders = {name: workdir / name for name in ("pickle", "smuggled", "skops")}
    for folder in folders.values():
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
    requirements = model_requirements()
    mlflow.sklearn.save_model(pipeline, folders["pickle"], serialization_format="cloudpickle",
                              pip_requirements=requirements)  # fmt: skip
    (folders["pickle"] / "model.pkl").write_bytes(pickle.dumps(_Payload(workdir / "payload-ran")))
    smuggled = Pipeline([("shell", FunctionTransformer(os.system)), ("model", pipeline)])
    mlflow.sklearn.save_model(smuggled, folders["smuggled"], serialization_format="skops", pip_requirements=requirements,
                              skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(smuggled)))  # fmt: skip
    mlflow.sklearn.save_model(pipeline, folders["skops"], serialization_format="skops", pip_requirements=requirements,
                              skops_trusted_types=trusted_types_for(pipeline))  # fmt: skip
    return folders


def model_loading_trials(workdir: Path, pipeline: Any, settings: Settings) -> list[LoaderTrial]:
    """Open each folder of `build_model_folders` with MLflow's default loader (in a separate process, so
    the payload runs there and nowhere else) and with the workbench's loader, and report what happened."""
    import subprocess
    import sys

    from workbench import safe_models

    folders = build_model_folders(workdir, pipeline)
    marker = workdir / "payload-ran"
    script = (
        "import json, os, sys, mlflow.sklearn\n"
        "marker, result = sys.argv[1], {}\n"
        "for folder in sys.argv[2:]:\n"
        "    if os.path.exists(marker): os.remove(marker)\n"
        "    try:\n"
        "        mlflow.sklearn.load_model(folder); loaded = True\n"
        "    except Exception:\n"
        "        loaded = False\n"
        "    result[folder] = [loaded, os.path.exists(marker)]\n"
        "print(json.dumps(result))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(marker), *map(str, folders.values())], capture_output=True, text=True,
        timeout=180, env={**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"},
    )  # fmt: skip
    try:
        default = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SecurityError("err_loader_failed", detail=run.stderr[-500:]) from None
    trials = []
    for name, folder in folders.items():
        payload = name == "pickle"
        loaded, ran = default[str(folder)]
        trials.append(LoaderTrial(name, "mlflow", loaded, None, {}, ran if payload else None))
        marker.unlink(missing_ok=True)
        try:
            safe_models.load_model_dir(folder, allow_pickle=False)
            loaded, reason, params = True, None, {}
        except safe_models.ModelRefused as exc:
            loaded, reason, params = False, exc.key, {k: str(v) for k, v in exc.params.items()}
        trials.append(LoaderTrial(name, "workbench", loaded, reason, params, marker.exists() if payload else None))
    marker.unlink(missing_ok=True)
    return trials


def loading_table(trials: Sequence[LoaderTrial], lang: str) -> pd.DataFrame:
    """The trials side by side: one row per file, what each loader did, whether the payload ran, and why the
    workbench refused."""
    rows = []
    for file in dict.fromkeys(t.file for t in trials):
        by_loader = {t.loader: t for t in trials if t.file == file}
        row = {translate("security.col_file", lang): translate(f"security.file_{file}", lang)}
        for loader, trial in by_loader.items():
            key = "security.verdict_loaded" if trial.loaded else "security.verdict_refused"
            row[translate(f"security.loader_{loader}", lang)] = translate(key, lang)
        ran = [by_loader[loader].payload_ran for loader in ("mlflow", "workbench") if loader in by_loader]
        row[translate("security.col_payload", lang)] = (
            "—" if None in ran else " / ".join(translate("security.yes" if r else "security.no", lang) for r in ran)
        )
        refused = by_loader.get("workbench")
        row[translate("security.col_reason", lang)] = (
            translate(f"model_safety.{refused.reason}", lang, **refused.params) if refused and refused.reason else "—"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def safe_loading_defense(trials: Sequence[LoaderTrial]) -> DefenseResult:
    """Safe loading: did the hidden payload run, with MLflow's default loader (before) and the workbench's (after)."""
    ran = {t.loader: float(bool(t.payload_ran)) for t in trials if t.payload_ran is not None}
    refused = sum(not t.loaded for t in trials if t.loader == "workbench")
    return DefenseResult("safe_loading", "malicious_model", "payload_ran", ran.get("mlflow", 0.0),
                         ran.get("workbench", 0.0), {"refused": refused})  # fmt: skip


def safe_loading_code(model_uri: str = "models:/loan-approval@production", tracking_uri: str | None = None) -> str:
    """Plain Python for loading a registry model the way the workbench does: skops only, our trusted types."""
    from workbench.safe_models import TRUSTED_TYPES

    trusted = ",\n    ".join(repr(t) for t in TRUSTED_TYPES)
    connect = f'mlflow.set_tracking_uri("{tracking_uri}")\n' if tracking_uri else ""
    return f"""from pathlib import Path

import mlflow
import skops.io as sio
import yaml

{connect}# Our own reviewed list: never the skops_trusted_types written inside the model
TRUSTED = [
    {trusted},
]

folder = Path(mlflow.artifacts.download_artifacts("{model_uri}"))   # files only: nothing is loaded yet
flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
if flavor["serialization_format"] != "skops":
    raise SystemExit(f"refused: {{flavor['serialization_format']}} runs code when loaded")
model_file = folder / flavor["pickled_model"]
unknown = sorted(set(sio.get_untrusted_types(file=model_file)) - set(TRUSTED))
if unknown:
    raise SystemExit(f"refused: types not on our list: {{unknown}}")
model = sio.load(model_file, trusted=sio.get_untrusted_types(file=model_file))
print(type(model).__name__, "loaded safely")
"""


def defenses_table(results: Sequence[DefenseResult], lang: str) -> pd.DataFrame:
    """The defenses side by side, for display."""
    return pd.DataFrame(
        [
            {
                translate("security.col_defense", lang): translate(f"security.defense_{r.defense}", lang),
                translate("security.col_attack", lang): translate(f"security.attack_{r.attack}", lang),
                translate("security.col_metric", lang): translate(f"security.metric_{r.metric}", lang),
                translate("security.col_before", lang): round(r.before, 3),
                translate("security.col_after", lang): round(r.after, 3),
            }
            for r in results
        ]
    )


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _layout(fig, title: str, x: str, y: str):
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=360,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})  # fmt: skip
    return fig


def poisoning_figure(curves: dict[str, pd.DataFrame], lang: str):
    """Accuracy vs poison rate, one line per strategy."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy, curve in curves.items():
        fig.add_trace(go.Scatter(x=curve["rate"], y=curve["accuracy"], mode="lines+markers",
                                 name=translate(f"security.strategy_{strategy}", lang)))  # fmt: skip
    rates = [v for curve in curves.values() for v in curve["rate"]] or [0.0]
    scores = [v for curve in curves.values() for v in curve["accuracy"]] or [0.0]
    fig.update_xaxes(**percent_axis(min(rates), max(rates), lang))
    fig.update_yaxes(**percent_axis(min(scores), max(scores), lang))
    return localize_figure(_layout(fig, translate("security.poison_title", lang), translate("security.poison_rate", lang),
                                   translate("security.accuracy", lang)), lang)  # fmt: skip


def extraction_figure(results: dict[str, ExtractionResult], lang: str):
    """Fidelity of the stolen copy vs labels obtained."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, result in results.items():
        fig.add_trace(go.Scatter(x=result.curve["queries"], y=result.curve["fidelity"], mode="lines+markers",
                                 name=translate(f"security.run_{name}", lang), cliponaxis=False))  # fmt: skip
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1])  # a share: never above 100 %
    fig.update_xaxes(rangemode="tozero")
    return localize_figure(_layout(fig, translate("security.fidelity_title", lang),
                                   translate("security.labels_obtained", lang), translate("security.fidelity", lang)),
                           lang)  # fmt: skip


def timeline_figure(results: dict[str, ExtractionResult], lang: str):
    """Labels obtained (and refused) vs time: the rate limit flattens the attacker's curve."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, result in results.items():
        label = translate(f"security.run_{name}", lang)
        fig.add_trace(go.Scatter(x=result.timeline["seconds"], y=result.timeline["obtained"], mode="lines",
                                 name=translate("security.obtained_of", lang, run=label)))  # fmt: skip
        if result.refused:
            fig.add_trace(go.Scatter(x=result.timeline["seconds"], y=result.timeline["refused"], mode="lines",
                                     line={"dash": "dot"},
                                     name=translate("security.refused_of", lang, run=label)))  # fmt: skip
    return localize_figure(_layout(fig, translate("security.timeline_title", lang), translate("security.seconds", lang),
                                   translate("security.requests", lang)), lang)  # fmt: skip


def membership_figure(results: Sequence[MembershipResult], lang: str):
    """ROC curves of the membership attack on each model, with the chance diagonal."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in results:
        fpr, tpr = r.roc
        name = f"{translate(f'security.mia_{r.name}', lang)} (AUC {number(r.auc_art, lang, 2)})"
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=name))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "gray"},
                             name=translate("model.chance", lang)))  # fmt: skip
    return localize_figure(_layout(fig, translate("security.mia_title", lang), translate("model.fpr", lang),
                                   translate("model.tpr", lang)), lang)  # fmt: skip


def _shown(value: object, lang: str) -> str:
    """A feature value as the learner reads it: numbers the language's way, "—" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return number_auto(value, lang) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def comparison_table(before: dict, after: dict, lang: str) -> pd.DataFrame:
    """An application before and after an attack, one row per feature, changes marked."""
    rows = []
    for feature in FEATURES:
        old, new = before.get(feature), after.get(feature)
        rows.append({
            translate("security.col_feature", lang): feature,
            translate("security.col_before", lang): _shown(old, lang),
            translate("security.col_after", lang): _shown(new, lang),
            translate("security.col_changed", lang): "✱" if _differs(old, new) else "",
        })  # fmt: skip
    return pd.DataFrame(rows)


def _differs(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    try:
        return not math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return str(old) != str(new)


# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------

_SETUP = """import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier

df = pd.read_csv({data_path!r})
numeric = {numeric!r}
categorical = {categorical!r}
X, y = df[numeric + categorical], (df["Loan_Status"] == "Y").astype(int).to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
preprocess = ColumnTransformer([
    ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
    ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categorical),
]).fit(X_train)
Z_train, Z_test = preprocess.transform(X_train), preprocess.transform(X_test)
mask = np.zeros(Z_test.shape[1]); mask[:{n_mask}] = 1.0   # the attacker may change the numeric features only
"""


def _setup(data_path: str, n_mask: int = len(NUMERIC_FEATURES)) -> str:
    return _SETUP.format(data_path=data_path, numeric=list(NUMERIC_FEATURES), categorical=list(CATEGORICAL_FEATURES),
                         n_mask=n_mask)  # fmt: skip


def evasion_code(attack: str, eps: float = 1.0, data_path: str = "data/loan.csv", max_rows: int = 20) -> str:
    """Plain Python (scikit-learn + ART) for the white-box or black-box evasion attack."""
    if attack in ("fgsm", "pgd"):
        make = (f"FastGradientMethod(classifier, eps={eps})" if attack == "fgsm" else
                f"ProjectedGradientDescent(classifier, eps={eps}, eps_step={eps / 4}, max_iter=10, verbose=False)")  # fmt: skip
        return (
            _setup(data_path)
            + f"""
from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
from art.estimators.classification import SklearnClassifier

model = LogisticRegression(max_iter=1000, random_state=42).fit(Z_train, y_train)
classifier = SklearnClassifier(model=model)            # ART reads the gradients of the logistic regression
attack = {make}
Z_adv = attack.generate(Z_test.astype(np.float32), mask=mask)
print("accuracy, clean:", (model.predict(Z_test) == y_test).mean())
print("accuracy under attack (model space):", (model.predict(Z_adv) == y_test).mean())
# Back to applications: undo the scaling, then clip to the valid ranges and round the amounts
scaler = preprocess.named_transformers_["numeric"].named_steps["scale"]
raw = Z_adv[:, :5] * scaler.scale_ + scaler.mean_
print(pd.DataFrame(raw[:3].round(), columns=numeric))
"""
        )
    make = ("HopSkipJump(classifier, targeted=False, max_iter=10, max_eval=200, init_eval=20, verbose=False)"
            if attack == "hopskipjump" else
            "BoundaryAttack(classifier, targeted=False, max_iter=100, num_trial=10, sample_size=10, init_size=100, "
            "verbose=False)")  # fmt: skip
    return (
        _setup(data_path)
        + f"""
from art.attacks.evasion import BoundaryAttack, HopSkipJump
from art.estimators.classification import SklearnClassifier

model = RandomForestClassifier(n_estimators=100, max_depth=6, min_samples_leaf=3, random_state=42)
model.fit(Z_train, y_train)
low = np.r_[(np.array([0, 0, 1, 1, 0]) - preprocess.named_transformers_["numeric"]["scale"].mean_)
            / preprocess.named_transformers_["numeric"]["scale"].scale_, np.zeros(Z_test.shape[1] - 5)]
high = np.r_[(np.array([1e6, 1e6, 1e4, 600, 1]) - preprocess.named_transformers_["numeric"]["scale"].mean_)
             / preprocess.named_transformers_["numeric"]["scale"].scale_, np.ones(Z_test.shape[1] - 5)]
classifier = SklearnClassifier(model=model, clip_values=(low, high))  # only predictions are used
attack = {make}
x = Z_test[:{max_rows}].astype(np.float32)
x_adv = attack.generate(x{", mask=mask" if attack == "hopskipjump" else ""})
print("accuracy, clean:", (model.predict(x) == y_test[:{max_rows}]).mean())
print("accuracy under attack:", (model.predict(x_adv) == y_test[:{max_rows}]).mean())
"""
    )


def api_attack_code(url: str, application: dict, features: Sequence[str]) -> str:
    """Plain Python for the greedy black-box attack that only calls the API over HTTP."""
    return f"""import requests

URL = "{url}/predict"
application = {json.dumps(application, ensure_ascii=False)}
features = {list(features)!r}
queries = 0

def probability(app):
    global queries
    queries += 1
    response = requests.post(URL, json=app, timeout=10)
    response.raise_for_status()          # a 429 means: the rate limit caught us
    return response.json()["probability"]

def candidates(app, feature):
    if feature == "Loan_Amount_Term":
        return [t for t in (12, 36, 60, 84, 120, 180, 240, 300, 360, 480) if t != app[feature]]
    base = app[feature] or 1000
    return sorted({{int(round(base * f)) for f in (0.5, 0.75, 1.25, 1.5, 2.0)}} - {{app[feature]}})

p = probability(application)
goal_is_approval = p < 0.5
while (p < 0.5) == goal_is_approval and queries < 200:
    tries = [(probability({{**application, f: v}}), f, v) for f in features for v in candidates(application, f)]
    best = max(tries) if goal_is_approval else min(tries)
    if (best[0] <= p) if goal_is_approval else (best[0] >= p):
        break                                 # stuck: no move helps
    p, feature, value = best
    application[feature] = value
    print(f"{{feature}} -> {{value}}: p = {{p:.3f}} after {{queries}} queries")
print("decision flipped:", (p >= 0.5) == goal_is_approval, application)
"""


def poisoning_code(model_name: str = "logistic_regression", data_path: str = "data/loan.csv") -> str:
    """Plain Python for the label-flipping curve and ART's backdoor poisoning."""
    estimator = ("LogisticRegression(max_iter=1000, random_state=42)" if model_name == "logistic_regression"
                 else "RandomForestClassifier(n_estimators=100, max_depth=6, random_state=42)")  # fmt: skip
    return (
        _setup(data_path)
        + f"""
rng = np.random.default_rng(0)
for rate in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4):
    y_poisoned = y_train.copy()
    flipped = rng.choice(len(y_train), size=int(rate * len(y_train)), replace=False)
    y_poisoned[flipped] = 1 - y_poisoned[flipped]             # label flipping
    model = {estimator}.fit(Z_train, y_poisoned)
    print(f"poison rate {{rate:.0%}}: test accuracy {{(model.predict(Z_test) == y_test).mean():.3f}}")

# Backdoor with ART: a rare trigger (term 84 months, co-applicant income 1234) labelled "approved"
from art.attacks.poisoning import PoisoningAttackBackdoor

scaler = preprocess.named_transformers_["numeric"]["scale"]
trigger = (np.array([1234.0, 84.0]) - scaler.mean_[[1, 3]]) / scaler.scale_[[1, 3]]

def add_trigger(x):
    x = x.copy(); x[:, [1, 3]] = trigger; return x

chosen = rng.choice(len(Z_train), size=int(0.05 * len(Z_train)), replace=False)
x_poison, y_poison = PoisoningAttackBackdoor(add_trigger).poison(Z_train[chosen], y=np.ones(len(chosen), int))
backdoored = RandomForestClassifier(n_estimators=100, random_state=42).fit(
    np.vstack([Z_train, x_poison]), np.r_[y_train, y_poison])
rejected = Z_test[backdoored.predict(Z_test) == 0]
print("clean accuracy:", (backdoored.predict(Z_test) == y_test).mean())
print("rejected applications approved with the trigger:", backdoored.predict(add_trigger(rejected)).mean())
"""
    )


def extraction_code(url: str, n_queries: int = 400, surrogate: str = "decision_tree") -> str:
    """Plain Python for the extraction attack against the live API."""
    if surrogate == "decision_tree":
        model, target, back = ("DecisionTreeRegressor(max_depth=10, random_state=42)", "p",
                               "copy.predict(holdout).clip(0, 1)")  # fmt: skip
    else:
        model, target, back = "Ridge()", "np.log(p / (1 - p))", "1 / (1 + np.exp(-copy.predict(holdout)))"
    return f"""import numpy as np
import pandas as pd
import requests
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor
from workbench.data import generate_loan_data

URL = "{url}"
numeric = {list(NUMERIC_FEATURES)!r}
categorical = {list(CATEGORICAL_FEATURES)!r}
# The attacker makes up plausible applications (here: the generated twin, another seed)
queries = generate_loan_data({n_queries}, seed=7)[numeric + categorical]
holdout = generate_loan_data(200, seed=8)[numeric + categorical]

def as_json(frame):
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        if row["Credit_History"] is not None:
            row["Credit_History"] = int(row["Credit_History"])
    return rows

answers, refused = [], 0
for application in as_json(queries):
    response = requests.post(URL + "/predict", json=application, timeout=10)
    if response.status_code == 429:                  # rate limited: this answer is lost
        refused += 1
        answers.append(None)
        continue
    answers.append(response.json()["probability"])   # the API gives away its probability, not only Y/N
known = [i for i, a in enumerate(answers) if a is not None]
p = np.clip([answers[i] for i in known], 1e-6, 1 - 1e-6)

copy = Pipeline([
    ("preprocess", ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("encode", OneHotEncoder(handle_unknown="ignore"))]), categorical)])),
    ("model", {model}),
]).fit(queries.iloc[known], {target})

# The model's owner measures the copy (one batch call: run it while the API has no rate limit,
# since under a limit a batch costs one request per row)
truth = np.array([answer["probability"]
                  for answer in requests.post(URL + "/predict/batch", json=as_json(holdout), timeout=60).json()["predictions"]])
stolen = {back}
print("answers obtained:", len(known), "refused:", refused)
print("fidelity (probability within 5 points of the API's):", (abs(stolen - truth) <= 0.05).mean())
print("same decision:", ((stolen >= 0.5) == (truth >= 0.5)).mean())
"""


def membership_code(data_path: str = "data/loan.csv") -> str:
    """Plain Python for ART's black-box membership inference on a regularised and an overfit forest."""
    return (
        _setup(data_path)
        + """
from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
from art.estimators.classification import SklearnClassifier
from sklearn.metrics import roc_auc_score

for name, params in {"regularised": {"max_depth": 3, "min_samples_leaf": 20},
                     "overfit": {"max_depth": 20, "min_samples_leaf": 1}}.items():
    model = RandomForestClassifier(n_estimators=100, random_state=42, **params).fit(Z_train, y_train)
    attack = MembershipInferenceBlackBox(SklearnClassifier(model=model), attack_model_type="rf")
    a, b = len(Z_train) // 2, len(Z_test) // 2
    attack.fit(Z_train[:a].astype(np.float32), y_train[:a], Z_test[:b].astype(np.float32), y_test[:b])
    members = attack.infer(Z_train[a:].astype(np.float32), y_train[a:], probabilities=True).ravel()
    others = attack.infer(Z_test[b:].astype(np.float32), y_test[b:], probabilities=True).ravel()
    auc = roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(others))], np.r_[members, others])
    print(f"{name}: train acc {model.score(Z_train, y_train):.3f}, test acc {model.score(Z_test, y_test):.3f}, "
          f"attack AUC {auc:.3f}")
"""
    )


def dos_code(url: str, max_body: int, n: int = 60) -> str:
    """Plain Python for the oversize request and the burst."""
    return f"""import collections
import json
import requests

URL = "{url}"
application = {json.dumps(dict(_example()), ensure_ascii=False)}

# 1. A body larger than the cap ({max_body} bytes): refused with 413 before it is parsed
body = json.dumps([application] * ({max_body} // len(json.dumps(application)) + 10))
print(requests.post(URL + "/predict/batch", data=body, headers={{"Content-Type": "application/json"}}).status_code)

# 2. A burst of {n} requests from one client: 429 (with Retry-After) once over the rate limit
codes = collections.Counter(requests.post(URL + "/predict", json=application).status_code for _ in range({n}))
print(codes)
"""


def _example() -> dict:
    from workbench.api_client import EXAMPLE_APPLICATION

    return EXAMPLE_APPLICATION


def defenses_code(eps: float = 1.0, data_path: str = "data/loan.csv") -> str:
    """Plain Python for adversarial training (min-max, exact for a linear model) and the ensemble defense."""
    return (
        _setup(data_path)
        + f"""
from art.attacks.evasion import FastGradientMethod
from art.estimators.classification import SklearnClassifier
from scipy.optimize import minimize
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier

EPS = {eps}

def fgsm(model, Z):
    return FastGradientMethod(SklearnClassifier(model=model), eps=EPS).generate(Z.astype(np.float32), mask=mask)

model = LogisticRegression(max_iter=1000, random_state=42).fit(Z_train, y_train)

# Adversarial training, min-max: for a linear model the worst change of size EPS lowers every margin by
# EPS * sum(|w|) on the attackable columns, so training on the worst case is minimising this loss.
signs, d = 2 * y_train - 1, Z_train.shape[1]

def robust_loss(theta):
    w, b = theta[:d], theta[d]
    margin = signs * (Z_train @ w + b) - EPS * (mask * np.sqrt(w**2 + 1e-8)).sum()
    return np.logaddexp(0, -margin).sum() + 0.5 * w @ w

theta = minimize(robust_loss, np.zeros(d + 1), method="L-BFGS-B").x
hardened = LogisticRegression(max_iter=1000).fit(Z_train, y_train)
hardened.coef_, hardened.intercept_ = theta[:d][None, :], np.array([theta[d]])
for name, m in (("plain", model), ("adversarially trained", hardened)):
    print(f"{{name}}: clean {{(m.predict(Z_test) == y_test).mean():.3f}}, "
          f"under FGSM {{(m.predict(fgsm(m, Z_test)) == y_test).mean():.3f}}")

# Ensemble: the same adversarial rows (crafted on the logistic regression) against a soft vote
ensemble = VotingClassifier([("lr", LogisticRegression(max_iter=1000, random_state=42)),
                             ("rf", RandomForestClassifier(max_depth=6, min_samples_leaf=3, random_state=42)),
                             ("gb", HistGradientBoostingClassifier(random_state=42))], voting="soft")
ensemble.fit(Z_train, y_train)
Z_adv = fgsm(model, Z_test)
print("logistic regression under attack:", (model.predict(Z_adv) == y_test).mean())
print("ensemble under the same attack:", (ensemble.predict(Z_adv) == y_test).mean())
"""
    )


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


def flip_path(settings: Settings, learner: str) -> Path:
    """Where the learner's edited application is saved."""
    return settings.learner_dir(learner) / FLIP_FILE


def save_flip_attempt(settings: Settings, learner: str, original: dict, edited: dict) -> Path:
    """Save the learner's edit (the check verifies it again with the model)."""
    path = flip_path(settings, learner)
    write_json(path, {"original": original, "edited": edited, "at": time.time()})
    return path


def check_flip_decision(ctx: CheckContext, max_cost: float | None = None) -> CheckResult:
    """Passed when the learner's saved edit flips the course model's decision (score: smaller is better)."""
    from workbench.data import load_course_data

    saved = read_json(flip_path(ctx.settings, ctx.learner), None)
    try:
        original, edited = dict(saved["original"]), dict(saved["edited"])
    except (KeyError, TypeError, ValueError):
        return CheckResult(False, (translate("security.check_flip_none", ctx.lang),))
    victim = flip_victim(load_course_data(ctx.settings.data_path))
    verdict = judge_flip(victim, original, edited)
    evidence = {"cost": round(verdict.cost, 3), "before": verdict.probability_before,
                "after": verdict.probability_after}  # fmt: skip
    if verdict.problems:
        text = translate("security.check_flip_invalid", ctx.lang, problems=verdict.problems)
        return CheckResult(False, (text,), evidence=evidence)
    if not verdict.flipped:
        text = translate("security.check_flip_not", ctx.lang, before=verdict.probability_before,
                         after=verdict.probability_after)  # fmt: skip
        return CheckResult(False, (text,), evidence=evidence)
    if max_cost is not None and verdict.cost > max_cost:
        text = translate("security.check_flip_too_big", ctx.lang, cost=verdict.cost, max=max_cost)
        return CheckResult(False, (text,), evidence=evidence, score=verdict.score)
    detail = translate("security.check_flip_ok", ctx.lang, before=verdict.probability_before,
                       after=verdict.probability_after, cost=verdict.cost, score=verdict.score)  # fmt: skip
    return CheckResult(True, detail=detail, score=verdict.score, evidence=evidence)
