""" "Show me the code" of the A/B test, bandits and business value labs."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.chapters.ch11_post_production.ab_tests.ab_test import DEFAULT_SEED, ABAnalysis

# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------


def sample_size_code(baseline: float, mde: float, alpha: float, power: float) -> str:
    """Plain Python (scipy + statsmodels) for the sample size."""
    return f"""from math import ceil
from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

p_a, p_b, alpha, power = {baseline!r}, {round(baseline + mde, 6)!r}, {alpha!r}, {power!r}
z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
n = z**2 * (p_a * (1 - p_a) + p_b * (1 - p_b)) / (p_a - p_b) ** 2
print("per arm (formula):", ceil(n))

h = proportion_effectsize(p_b, p_a)          # Cohen's h (arcsine transform)
n_sm = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, alternative="two-sided")
print("per arm (statsmodels):", ceil(n_sm))
"""


def analysis_code(analysis: ABAnalysis) -> str:
    """Plain Python (statsmodels + scipy) for the analysis of an A/B test."""
    return f"""import numpy as np
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

defaults = np.array([{analysis.successes_a}, {analysis.successes_b}])   # events in A, B
approved = np.array([{analysis.n_a}, {analysis.n_b}])                   # units in A, B
z, p_value = proportions_ztest(defaults, approved)
print(f"z = {{z:.3f}}, p-value = {{p_value:.4f}}")

table = [[defaults[0], approved[0] - defaults[0]], [defaults[1], approved[1] - defaults[1]]]
chi2, p_chi2, _, _ = chi2_contingency(table, correction=False)   # same p-value as the z-test
print(f"chi2 = {{chi2:.3f}}, p-value = {{p_chi2:.4f}}")

low, high = confint_proportions_2indep(defaults[1], approved[1], defaults[0], approved[0], method="wald",
                                       alpha={analysis.alpha})
print(f"difference B - A: {{defaults[1] / approved[1] - defaults[0] / approved[0]:+.4f}} "
      f"[{{low:+.4f}}, {{high:+.4f}}]")
"""


def peeking_code(rate: float, n_per_day: int, days: int, alpha: float, n_simulations: int) -> str:
    """Plain Python (NumPy + scipy) for the peeking simulation."""
    return f"""import numpy as np
from scipy.stats import norm

rng = np.random.default_rng({DEFAULT_SEED})
rate, n_per_day, days, alpha, sims = {rate!r}, {n_per_day}, {days}, {alpha!r}, {n_simulations}
# A/A tests: both arms have the same rate, so every "winner" is a false positive
events = rng.binomial(n_per_day, rate, size=(sims, days, 2)).cumsum(axis=1)
n = n_per_day * np.arange(1, days + 1)
pooled = events.sum(axis=2) / (2 * n)
z = (events[..., 1] - events[..., 0]) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
p = 2 * norm.sf(np.abs(z))
print("false positives, one look at the end:", (p[:, -1] < alpha).mean())
print("false positives, a look every day:   ", (p < alpha).any(axis=1).mean())
"""


def bandit_code(rates: Sequence[float], horizon: int, epsilon: float) -> str:
    """Plain Python (NumPy) for the four strategies on one simulated traffic."""
    return f"""import math
import numpy as np

rates = np.array({[float(r) for r in rates]!r})       # reward rate of each model version (arm)
horizon, epsilon, k = {horizon}, {epsilon!r}, len(rates)
rewards = np.random.default_rng({DEFAULT_SEED}).random((horizon, k)) < rates   # the same traffic for all

def run(choose):
    rng = np.random.default_rng(0)
    counts, wins, regret = np.zeros(k), np.zeros(k), 0.0
    for t in range(horizon):
        arm = choose(t, counts, wins, rng)
        counts[arm] += 1
        wins[arm] += rewards[t, arm]
        regret += rates.max() - rates[arm]
    return regret

strategies = {{
    "fixed split": lambda t, n, w, rng: rng.integers(k),
    "epsilon-greedy": lambda t, n, w, rng: rng.integers(k) if rng.random() < epsilon
        else int(np.argmax(np.where(n > 0, w / np.maximum(n, 1), np.inf))),
    "UCB1": lambda t, n, w, rng: t if t < k else int(np.argmax(w / n + np.sqrt(2 * math.log(t) / n))),
    "Thompson": lambda t, n, w, rng: int(np.argmax(rng.beta(1 + w, 1 + n - w))),
}}
for name, choose in strategies.items():
    print(f"{{name:15s}} regret = {{run(choose):7.1f}}")
"""


def profit_code(gain: float, loss: float, model_name: str, size: int = 3000, seed: int = 2024) -> str:
    """Plain Python for the risk bands and the profit curve of one model."""
    from workbench.core.modeling import training_code

    training = training_code(model_name, {}).split("pipeline.fit(X_train, y_train)")[0]
    return (
        training
        + f"""pipeline.fit(X_train, y_train)

import numpy as np
from workbench.core.data import generate_loan_data   # new applications (the generated twin)
portfolio = generate_loan_data({size}, seed={seed})
p = pipeline.predict_proba(portfolio[numeric + categorical])[:, 1]
repaid = (portfolio["Loan_Status"] == "Y").to_numpy()

bands = pd.cut(p, [0, 0.4, 0.6, 0.75, 0.9, 1.0], labels=["E", "D", "C", "B", "A"], include_lowest=True)
print(pd.DataFrame({{"band": bands, "repaid": repaid}}).groupby("band", observed=False)["repaid"].agg(["size", "mean"]))

gain, loss = {gain!r}, {loss!r}
thresholds = np.round(np.linspace(0, 1, 101), 2)
profit = [gain * (repaid & (p >= t)).sum() - loss * (~repaid & (p >= t)).sum() for t in thresholds]
best = thresholds[int(np.argmax(profit))]
print(f"most profitable threshold: {{best:.2f}} (profit {{max(profit):.0f}}); "
      f"break-even for calibrated p: {{loss / (gain + loss):.2f}}")
"""
    )
