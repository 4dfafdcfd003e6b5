"""Model extraction: a copy trained from the API's answers, its fidelity and agreement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security.evasion import QueryAnswer
from workbench.chapters.ch11_post_production.security.victim import (
    DEFAULT_BUDGET,
    DEFAULT_SEED,
    Budget,
    Progress,
    SecurityError,
    _report,
    one_thread,
    records,
)
from workbench.core.data import (
    FEATURES,
    NUMERIC_FEATURES,
)
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def synthetic_applications(n: int, seed: int = 7) -> list[dict]:
    """Applications an attacker can make up: the generated twin with another seed (public-looking data)."""
    from workbench.core.data import generate_loan_data

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

    from workbench.core.modeling import build_pipeline

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
    surrogate: ProbabilityCopy | None,
    holdout: list[dict],
    holdout_probabilities: Sequence[float],
    tolerance: float = FIDELITY_TOLERANCE,
) -> float:
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
                curve.append(
                    {
                        "queries": len(answers),
                        "fidelity": fidelity(model, holdout, holdout_probabilities),
                        "agreement": agreement(model, holdout, holdout_probabilities),
                    }
                )
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
        surrogate_name,
        pd.DataFrame(curve, columns=["queries", "fidelity", "agreement"]),
        pd.DataFrame(timeline),
        len(answers),
        refused,
        budget.elapsed,
        final,
        complete,
        surrogate,
        agree,
    )


def batch_probabilities(
    applications: list[dict], settings: Settings | None = None, learner: str | None = None
) -> list[float]:
    """The live API's probabilities for many applications in one /predict/batch call (to measure fidelity).

    Under a rate limit a batch costs one request per row: measure while the API has no limit.

    Raises:
        SecurityError: the API did not answer 200.
    """
    from workbench.core import api_client

    result = api_client.call(
        "POST", "/predict/batch", json_body=applications, settings=settings, timeout=60, learner=learner
    )
    if not result.ok:
        detail = result.body.get("detail") if isinstance(result.body, dict) else result.body
        raise SecurityError(
            "err_batch_refused", n=len(applications), status=result.status_code or result.error, detail=detail
        )
    return [float(p["probability"]) for p in result.body["predictions"]]
