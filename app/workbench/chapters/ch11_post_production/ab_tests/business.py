"""Business value: the profit of a decision threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.ab_tests.ab_test import ExperimentError
from workbench.chapters.ch11_post_production.security import one_thread
from workbench.core.data import FEATURES, TARGET, generate_loan_data

# --------------------------------------------------------------------------------------------
# Business value
# --------------------------------------------------------------------------------------------

BAND_EDGES: tuple[float, ...] = (0.0, 0.4, 0.6, 0.75, 0.9, 1.0)
BAND_NAMES: tuple[str, ...] = ("E", "D", "C", "B", "A")  # E: refuse … A: very safe


def risk_bands(probability: np.ndarray, repaid: np.ndarray) -> pd.DataFrame:
    """Five ranked risk bands of the probability of repayment, with what really happened in each.

    Returns:
        band (A = safest … E), low, high, applications, share, predicted (mean probability),
        observed (repayment rate; NaN for an empty band).
    """
    probability, repaid = np.asarray(probability, float), np.asarray(repaid, float)
    if len(probability) != len(repaid) or not len(probability):
        raise ExperimentError("err_probabilities")
    index = np.clip(np.searchsorted(BAND_EDGES, probability, side="right") - 1, 0, len(BAND_NAMES) - 1)
    rows = []
    for band in reversed(range(len(BAND_NAMES))):
        inside = index == band
        rows.append(
            {
                "band": BAND_NAMES[band],
                "low": BAND_EDGES[band],
                "high": BAND_EDGES[band + 1],
                "applications": int(inside.sum()),
                "share": float(inside.mean()),
                "predicted": float(probability[inside].mean()) if inside.any() else float("nan"),
                "observed": float(repaid[inside].mean()) if inside.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def profit_curve(
    probability: np.ndarray, repaid: np.ndarray, gain: float, loss: float, thresholds: np.ndarray | None = None
) -> pd.DataFrame:
    """Profit and accuracy of approving every application with a probability at or above each threshold.

    Profit = gain × repaid approved loans − loss × defaulted approved loans (refused loans earn nothing).
    """
    if gain < 0 or loss < 0:
        raise ExperimentError("err_negative_amounts")
    probability, repaid = np.asarray(probability, float), np.asarray(repaid).astype(bool)
    thresholds = np.round(np.linspace(0, 1, 101), 2) if thresholds is None else np.asarray(thresholds, float)
    approve = probability[None, :] >= thresholds[:, None]
    good = (approve & repaid[None, :]).sum(axis=1)
    bad = (approve & ~repaid[None, :]).sum(axis=1)
    accuracy = (approve == repaid[None, :]).mean(axis=1)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "approved": approve.sum(axis=1),
            "profit": gain * good - loss * bad,
            "accuracy": accuracy,
        }
    )


def best_threshold(curve: pd.DataFrame) -> tuple[float, float]:
    """The threshold with the highest profit (the lowest one among ties) and that profit."""
    row = curve.loc[curve["profit"].idxmax()]
    return float(row["threshold"]), float(row["profit"])


def break_even_threshold(gain: float, loss: float) -> float:
    """Theoretical threshold for calibrated probabilities: approve when p·gain > (1 − p)·loss."""
    if gain + loss <= 0:
        raise ExperimentError("err_gain_loss_zero")
    return loss / (gain + loss)


@dataclass
class Portfolio:
    """Models trained on the course data and scored on a portfolio of new applications."""

    probabilities: dict[str, np.ndarray]  # model family → probability of repayment per application
    repaid: np.ndarray
    size: int
    seed: int


@one_thread
def build_portfolio(
    data: pd.DataFrame, models: Sequence[str] | None = None, size: int = 3000, seed: int = 2024
) -> Portfolio:
    """Train each model family on the course data and score `size` new applications (generated twin)."""
    from workbench.core.modeling import MODEL_NAMES, train_model

    if not 100 <= size <= 100_000:
        raise ExperimentError("err_portfolio_size")
    portfolio = generate_loan_data(size, seed=seed)
    probabilities = {}
    for name in models or MODEL_NAMES:
        pipeline = train_model(data, name).pipeline
        probabilities[name] = pipeline.predict_proba(portfolio[list(FEATURES)])[:, 1]
    return Portfolio(probabilities, (portfolio[TARGET] == "Y").to_numpy(), size, seed)


def compare_models(portfolio: Portfolio, gain: float, loss: float) -> pd.DataFrame:
    """Per model: accuracy and profit at the default 0.5 threshold, and the most profitable threshold.

    Returns:
        model, accuracy_at_05, profit_at_05, best_threshold, best_profit, accuracy_at_best — sorted by
        best profit (highest first).
    """
    rows = []
    for name, probability in portfolio.probabilities.items():
        curve = profit_curve(probability, portfolio.repaid, gain, loss)
        at_half = curve.loc[np.isclose(curve["threshold"], 0.5)].iloc[0]
        threshold, profit = best_threshold(curve)
        at_best = curve.loc[np.isclose(curve["threshold"], threshold)].iloc[0]
        rows.append(
            {
                "model": name,
                "accuracy_at_05": float(at_half["accuracy"]),
                "profit_at_05": float(at_half["profit"]),
                "best_threshold": threshold,
                "best_profit": profit,
                "accuracy_at_best": float(at_best["accuracy"]),
            }
        )
    return pd.DataFrame(rows).sort_values("best_profit", ascending=False, ignore_index=True)
