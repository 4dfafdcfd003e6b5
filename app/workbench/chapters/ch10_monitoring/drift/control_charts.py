"""Monitored statistics per batch and their control charts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.chapters.ch10_monitoring.drift.retraining import feature_psi
from workbench.chapters.ch10_monitoring.drift.simulation import CONTINUOUS, Timeline, _rng, predicted_labels
from workbench.core.data import (
    FEATURES,
    POSITIVE,
)
from workbench.core.formatting import localize_figure
from workbench.core.i18n import translate

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from sklearn.pipeline import Pipeline

# ----------------------------------------------------------------------------------------------
# Monitored statistics per batch and control charts
# ----------------------------------------------------------------------------------------------


def monitored_statistics() -> tuple[str, ...]:
    """Statistics a control chart can follow: `approval_rate`, `mean:<feature>`, `missing:<feature>`, `psi:<feature>`."""
    return (
        "approval_rate",
        *(f"mean:{f}" for f in CONTINUOUS),
        *(f"missing:{f}" for f in ("Credit_History", "LoanAmount", "Self_Employed")),
        *(f"psi:{f}" for f in FEATURES),
    )


def statistic_label(name: str, lang: str) -> str:
    """A readable name of a monitored statistic."""
    kind, _, feature = name.partition(":")
    return translate(f"drift.monitor_{kind}", lang, feature=feature)


def batch_statistic(name: str, batch: pd.DataFrame, reference: pd.DataFrame, predictions: np.ndarray | None) -> float:
    """The value of a monitored statistic on one batch."""
    kind, _, feature = name.partition(":")
    if kind == "approval_rate":
        if predictions is None:
            raise ValueError("approval_rate needs the model's predictions")
        return float(np.mean(np.asarray(predictions) == POSITIVE))
    if kind == "mean":
        return float(pd.to_numeric(batch[feature], errors="coerce").mean())
    if kind == "missing":
        return float(batch[feature].isna().mean())
    if kind == "psi":
        return feature_psi(reference[feature], batch[feature])
    raise ValueError(f"unknown statistic {name!r}")


CHART_BASELINE_WEEKS = 5  # the first weeks of production set a control chart's centre line


@dataclass(frozen=True)
class ControlChart:
    """A statistic per batch with its centre line, ±2σ/±3σ limits and the Western Electric rules that fired."""

    statistic: str
    weeks: list[int]
    values: np.ndarray
    center: float
    sigma: float
    signals: dict[int, list[str]]  # week → rules that fired there

    @property
    def upper(self) -> float:
        """Upper control limit (centre + 3σ)."""
        return self.center + 3 * self.sigma

    @property
    def lower(self) -> float:
        """Lower control limit (centre − 3σ)."""
        return self.center - 3 * self.sigma

    @property
    def first_signal(self) -> int | None:
        """The first week a rule fired, if any."""
        return min(self.signals) if self.signals else None


def western_electric(values: np.ndarray, center: float, sigma: float) -> dict[int, list[str]]:
    """Positions (0-based) where rule 1 (a point beyond 3σ), rule 2 (2 of 3 beyond 2σ, same side)
    or rule 4 (8 in a row on the same side of the centre) fires."""
    z = (np.asarray(values, float) - center) / (sigma if sigma > 0 else np.inf)
    z = np.nan_to_num(z)
    fired: dict[int, list[str]] = {}

    def add(i: int, rule: str) -> None:
        fired.setdefault(i, []).append(rule)

    for i in np.flatnonzero(np.abs(z) > 3):
        add(int(i), "we1")
    for i in range(2, len(z)):
        window = z[i - 2 : i + 1]
        if (window > 2).sum() >= 2 and z[i] > 2 or (window < -2).sum() >= 2 and z[i] < -2:
            add(i, "we2")
    side = np.sign(z)
    for i in range(7, len(z)):
        window = side[i - 7 : i + 1]
        if window[0] != 0 and (window == window[0]).all():
            add(i, "we4")
    return fired


def control_chart(
    statistic: str,
    timeline: Timeline,
    reference: pd.DataFrame,
    model: Pipeline | None = None,
    baseline_weeks: int = CHART_BASELINE_WEEKS,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> ControlChart:
    """Follow a statistic over the timeline against a centre line and ±3σ limits (Shewhart chart).

    The centre is the mean of the first `baseline_weeks` weeks of production (the chart's reference
    period: the training data itself is a finite sample whose own rate may be a little off). σ, the
    batch-to-batch spread when nothing changes, comes from `n_bootstrap` batches of the same size drawn
    from the training data, widened by the uncertainty of a centre measured on `baseline_weeks` batches.
    """
    predict = statistic == "approval_rate"
    if predict and model is None:
        raise ValueError("approval_rate needs a model")
    ref_pred = predicted_labels(model, reference) if predict else None
    values = np.array(
        [
            batch_statistic(statistic, b, reference, predicted_labels(model, b) if predict else None)
            for b in timeline.batches
        ]
    )
    rng = _rng("bootstrap", statistic, seed)
    size = timeline.batch_size
    kind, _, feature = statistic.partition(":")
    if kind in ("approval_rate", "mean", "missing"):
        if kind == "approval_rate":
            per_row = (ref_pred == POSITIVE).astype(float)
        elif kind == "mean":
            per_row = pd.to_numeric(reference[feature], errors="coerce").to_numpy(float)
        else:
            per_row = reference[feature].isna().to_numpy(float)
        draws = rng.integers(0, len(reference), size=(n_bootstrap, size))
        boot = np.nanmean(per_row[draws], axis=1)
    else:
        boot = np.array(
            [
                batch_statistic(statistic, reference.iloc[rng.integers(0, len(reference), size)], reference, None)
                for _ in range(min(n_bootstrap, 100))
            ]
        )
    k = max(1, min(baseline_weeks, len(values)))
    center = float(np.nanmean(values[:k]))
    sigma = float(np.std(boot, ddof=1)) * math.sqrt(1 + 1 / k)
    signals = {timeline.weeks[i]: rules for i, rules in western_electric(values, center, sigma).items()}
    return ControlChart(statistic, timeline.weeks, values, center, sigma, signals)


def control_chart_figure(chart: ControlChart, lang: str, start_week: int | None = None) -> go.Figure:
    """The statistic per week, centre line, ±3σ limits (and ±2σ dotted), signals in red."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=chart.weeks,
            y=chart.values,
            mode="lines+markers",
            name=statistic_label(chart.statistic, lang),
            line={"color": "#4c78a8"},
        )
    )
    flagged = sorted(chart.signals)
    if flagged:
        idx = [chart.weeks.index(w) for w in flagged]
        fig.add_trace(
            go.Scatter(
                x=flagged,
                y=chart.values[idx],
                mode="markers",
                name=translate("drift.signal", lang),
                marker={"color": "#d62728", "size": 13, "symbol": "x"},
                text=[", ".join(translate(f"drift.rule_{r}", lang) for r in chart.signals[w]) for w in flagged],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_hline(y=chart.center, line_color="gray", annotation_text=translate("drift.center", lang))
    for k, dash in ((3, "dash"), (2, "dot")):
        for sign in (1, -1):
            fig.add_hline(
                y=chart.center + sign * k * chart.sigma,
                line_dash=dash,
                line_color="#e45756" if k == 3 else "#f2a541",
                **({"annotation_text": f"{'+' if sign > 0 else '−'}{k}σ"} if k == 3 else {}),
            )
    if start_week is not None:
        fig.add_vline(
            x=start_week - 0.5,
            line_dash="dot",
            line_color="black",
            annotation_text=translate("drift.drift_starts", lang),
        )
    fig.update_layout(
        title=translate("drift.chart_title", lang, statistic=statistic_label(chart.statistic, lang)),
        xaxis_title=translate("drift.week", lang),
        height=360,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
        showlegend=False,
    )
    return localize_figure(fig, lang)
