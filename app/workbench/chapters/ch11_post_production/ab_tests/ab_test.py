"""A/B tests: design (sample size), analysis, simulation with two model versions, the peeking pitfall."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.security import one_thread
from workbench.core.data import FEATURES, TARGET, generate_loan_data
from workbench.core.i18n import LocalizedError
from workbench.core.settings import Settings

DEFAULT_SEED = 11


class ExperimentError(LocalizedError, ValueError):
    """Parameters an experiment cannot run with (`message(lang)` for the learner, `experiments.err_*`)."""

    namespace = "experiments"


# --------------------------------------------------------------------------------------------
# A/B test: design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleSize:
    """Sample size per arm to detect `p_a` → `p_b` with a two-sided test."""

    p_a: float
    p_b: float
    alpha: float
    power: float
    n_per_arm: int  # normal approximation with unpooled variances (the lesson's formula)
    n_statsmodels: int  # statsmodels NormalIndPower on Cohen's h (arcsine), for comparison


def _z(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def sample_size(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> SampleSize:
    """Units needed in each arm to detect an absolute change `mde` of a rate `baseline`.

    Args:
        baseline: the control's rate (e.g. 0.10 = 10 % of approved loans default).
        mde: minimum detectable effect, absolute and signed (-0.02: from 10 % to 8 %).
        alpha: significance level (two-sided).
        power: probability of detecting the effect if it is real.

    Raises:
        ExperimentError: a rate outside (0, 1), a zero effect, alpha or power outside (0, 1).
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    p_b = baseline + mde
    if not (0 < baseline < 1 and 0 < p_b < 1):
        raise ExperimentError("err_rates")
    if mde == 0:
        raise ExperimentError("err_zero_effect")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ExperimentError("err_alpha_power")
    z = _z(1 - alpha / 2) + _z(power)
    n = z**2 * (baseline * (1 - baseline) + p_b * (1 - p_b)) / mde**2
    h = abs(proportion_effectsize(p_b, baseline))
    n_sm = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0, alternative="two-sided")
    return SampleSize(baseline, p_b, alpha, power, math.ceil(n), math.ceil(float(n_sm)))


def sample_size_curve(baseline: float, alpha: float, power: float, mdes: Sequence[float]) -> pd.DataFrame:
    """Sample size per arm (the lesson's formula) for several effects: the smaller the effect, the bigger
    the test. Effects that give a rate outside (0, 1) are skipped."""
    z = _z(1 - alpha / 2) + _z(power)
    rows = []
    for mde in mdes:
        p_b = baseline + mde
        if mde == 0 or not (0 < baseline < 1 and 0 < p_b < 1):
            continue
        n = z**2 * (baseline * (1 - baseline) + p_b * (1 - p_b)) / mde**2
        rows.append({"mde": mde, "n_per_arm": math.ceil(n)})
    return pd.DataFrame(rows, columns=["mde", "n_per_arm"])


# --------------------------------------------------------------------------------------------
# A/B test: analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABAnalysis:
    """Two-proportion z-test of arm B against arm A (the metric is a rate where lower is better,
    e.g. the default rate of approved loans)."""

    successes_a: int
    n_a: int
    successes_b: int
    n_b: int
    rate_a: float
    rate_b: float
    difference: float  # rate_b - rate_a
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    chi2: float
    alpha: float

    @property
    def significant(self) -> bool:
        """True when the p-value is below alpha."""
        return self.p_value < self.alpha

    @property
    def decision(self) -> str:
        """`adopt_b` (B significantly lower), `keep_a` (B significantly higher) or `inconclusive`."""
        if not self.significant:
            return "inconclusive"
        return "adopt_b" if self.difference < 0 else "keep_a"


def analyse_ab(successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05) -> ABAnalysis:
    """Two-proportion z-test (pooled), chi-square without correction (same p-value) and a Wald
    confidence interval of the difference B − A.

    Raises:
        ExperimentError: empty arms or counts out of range.
    """
    if n_a <= 0 or n_b <= 0 or not (0 <= successes_a <= n_a and 0 <= successes_b <= n_b):
        raise ExperimentError("err_counts")
    from scipy.stats import norm

    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = rate_b - rate_a
    z = diff / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * norm.sf(abs(z)))
    se = math.sqrt(rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b)
    half = _z(1 - alpha / 2) * se
    return ABAnalysis(
        successes_a, n_a, successes_b, n_b, rate_a, rate_b, diff, diff - half, diff + half, z, p_value, z * z, alpha
    )


# --------------------------------------------------------------------------------------------
# A/B test: simulation with two model versions
# --------------------------------------------------------------------------------------------


@dataclass
class ABModel:
    """A model version taking part in the experiment."""

    label: str  # e.g. "@production (v3)" or "logistic_regression"
    pipeline: Any
    source: str  # "registry" | "trained"


@one_thread
def trained_ab_models(
    data: pd.DataFrame, model_a: str = "logistic_regression", model_b: str = "gradient_boosting"
) -> dict[str, ABModel]:
    """Two models trained on the fly on the course data: A (in place) and B (challenger)."""
    from workbench.core.modeling import train_model

    return {
        arm: ABModel(name, train_model(data, name).pipeline, "trained")
        for arm, name in (("A", model_a), ("B", model_b))
    }


def registry_ab_models(settings: Settings, learner: str | None = None) -> dict[str, ABModel] | None:
    """`@production` (A) and `@challenger` (B) of the learner's registered model, or None when either alias is
    missing.

    Raises:
        workbench.core.safe_models.ModelRefused: one of them could run code when loaded (see `workbench.core.safe_models`).
    """
    from workbench.core import tracking
    from workbench.core.safe_models import ModelRefused

    try:
        aliases = tracking.aliases(settings, learner=learner)
        if "production" not in aliases or "challenger" not in aliases:
            return None
        return {
            "A": ABModel(
                f"@production (v{aliases['production']})",
                tracking.load_model("production", settings, learner=learner),
                "registry",
            ),
            "B": ABModel(
                f"@challenger (v{aliases['challenger']})",
                tracking.load_model("challenger", settings, learner=learner),
                "registry",
            ),
        }
    except ModelRefused:  # the learner must see why, not a silent swap for trained models
        raise
    except Exception:  # an unreachable or broken registry: the lab trains its own pair instead
        return None


@dataclass
class ABSimulation:
    """Simulated traffic split between two model versions, with the outcome of every approved loan."""

    models: dict[str, str]  # arm → model label
    applications: dict[str, int]
    approved: dict[str, int]
    defaults: dict[str, int]
    profit: dict[str, float]
    analysis: ABAnalysis
    daily: pd.DataFrame  # day, arm, approved, defaults (cumulative)
    seed: int


@one_thread
def simulate_ab(
    models: dict[str, ABModel],
    n_applications: int = 4000,
    split: float = 0.5,
    days: int = 20,
    gain: float = 1.0,
    loss: float = 4.0,
    alpha: float = 0.05,
    seed: int = DEFAULT_SEED,
) -> ABSimulation:
    """Send `n_applications` new applicants (the generated twin) at random to A or B; each arm's model
    approves or refuses; an approved loan repays or defaults according to the applicant's true label.
    The metric is the default rate of approved loans (lower is better), tested once at the end.

    Raises:
        ExperimentError: bad sizes, or an arm approved no loan.
    """
    if not 100 <= n_applications <= 200_000 or not 0.05 <= split <= 0.95 or days < 1:
        raise ExperimentError("err_ab_sizes")
    population = generate_loan_data(n_applications, seed=seed)
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n_applications) < split, "A", "B")
    repaid = (population[TARGET] == "Y").to_numpy()
    day = np.sort(rng.integers(0, days, n_applications))  # applications arrive over the days
    approved = np.zeros(n_applications, dtype=bool)
    for name in ("A", "B"):
        rows = arm == name
        if rows.any():
            approved[rows] = models[name].pipeline.predict_proba(population.loc[rows, list(FEATURES)])[:, 1] >= 0.5
    counts = {}
    for name in ("A", "B"):
        rows = arm == name
        counts[name] = (int(rows.sum()), int((rows & approved).sum()), int((rows & approved & ~repaid).sum()))
    if any(c[1] == 0 for c in counts.values()):
        raise ExperimentError("err_no_approval")
    daily = []
    for d in range(days):
        upto = day <= d
        for name in ("A", "B"):
            rows = upto & (arm == name) & approved
            daily.append(
                {"day": d + 1, "arm": name, "approved": int(rows.sum()), "defaults": int((rows & ~repaid).sum())}
            )
    analysis = analyse_ab(counts["A"][2], counts["A"][1], counts["B"][2], counts["B"][1], alpha)
    return ABSimulation(
        models={k: m.label for k, m in models.items()},
        applications={k: c[0] for k, c in counts.items()},
        approved={k: c[1] for k, c in counts.items()},
        defaults={k: c[2] for k, c in counts.items()},
        profit={k: gain * (c[1] - c[2]) - loss * c[2] for k, c in counts.items()},
        analysis=analysis,
        daily=pd.DataFrame(daily),
        seed=seed,
    )


def daily_p_values(simulation: ABSimulation) -> pd.DataFrame:
    """The p-value the analyst would see each day if they looked (do not stop on it: see peeking)."""
    rows = []
    table = simulation.daily.pivot(index="day", columns="arm", values=["approved", "defaults"])
    for day, row in table.iterrows():
        n_a, n_b = int(row[("approved", "A")]), int(row[("approved", "B")])
        if n_a and n_b:
            a = analyse_ab(
                int(row[("defaults", "A")]), n_a, int(row[("defaults", "B")]), n_b, simulation.analysis.alpha
            )
            rows.append({"day": int(day), "p_value": a.p_value, "rate_a": a.rate_a, "rate_b": a.rate_b})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The peeking pitfall
# --------------------------------------------------------------------------------------------


@dataclass
class PeekingResult:
    """False-positive rates under H0 (both arms identical) when looking once vs every day."""

    rate: float
    n_per_day: int
    days: int
    alpha: float
    n_simulations: int
    fpr_once: float  # tested once, at the planned end
    fpr_peeking: float  # stopped at the first day with p < alpha
    stopped_by_day: pd.DataFrame  # day, share of experiments already (wrongly) stopped
    examples: pd.DataFrame  # day, simulation, p_value (a few trajectories)


def simulate_peeking(
    rate: float = 0.1,
    n_per_day: int = 100,
    days: int = 30,
    alpha: float = 0.05,
    n_simulations: int = 2000,
    seed: int = DEFAULT_SEED,
    progress: Callable[[float], None] | None = None,
) -> PeekingResult:
    """Simulate A/A experiments (no real difference) and count how often each way of looking
    declares a winner: the share is the false-positive rate, which should be `alpha`."""
    from scipy.stats import norm

    if not 0 < rate < 1 or n_per_day < 1 or days < 1 or not 10 <= n_simulations <= 100_000:
        raise ExperimentError("err_peeking")
    rng = np.random.default_rng(seed)
    events = rng.binomial(n_per_day, rate, size=(n_simulations, days, 2)).cumsum(axis=1)
    n = n_per_day * np.arange(1, days + 1)[None, :]
    a, b = events[..., 0] / n, events[..., 1] / n
    pooled = (events[..., 0] + events[..., 1]) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * 2 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (b - a) / se, 0.0)
    p = 2 * norm.sf(np.abs(z))
    if progress is not None:
        progress(1.0)
    rejected = p < alpha
    first = np.where(rejected.any(axis=1), rejected.argmax(axis=1) + 1, days + 1)
    stopped = pd.DataFrame(
        {"day": np.arange(1, days + 1), "stopped": [(first <= d).mean() for d in range(1, days + 1)]}
    )
    shown = min(5, n_simulations)
    examples = pd.DataFrame(
        [{"day": d + 1, "simulation": s + 1, "p_value": float(p[s, d])} for s in range(shown) for d in range(days)]
    )
    return PeekingResult(
        rate,
        n_per_day,
        days,
        alpha,
        n_simulations,
        float(rejected[:, -1].mean()),
        float(rejected.any(axis=1).mean()),
        stopped,
        examples,
    )
