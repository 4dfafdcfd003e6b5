"""Retraining strategies replayed over a drifting timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.chapters.ch10_monitoring.drift.simulation import Timeline, fit_model, predicted_labels
from workbench.chapters.ch10_monitoring.drift.statistics import (
    THRESHOLDS,
    _kind_of,
    binned_counts,
    category_counts,
    proportions,
    psi,
)
from workbench.core.data import (
    FEATURES,
    POSITIVE,
    TARGET,
)
from workbench.core.formatting import localize_figure
from workbench.core.i18n import translate

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from sklearn.pipeline import Pipeline

# ----------------------------------------------------------------------------------------------
# Retraining strategies
# ----------------------------------------------------------------------------------------------

STRATEGIES: tuple[str, ...] = ("never", "periodic", "data_drift", "accuracy")


@dataclass(frozen=True)
class StrategyRun:
    """How one retraining strategy did over the timeline."""

    strategy: str
    accuracy: np.ndarray  # per week, of the model in force that week
    retrain_weeks: list[int]

    @property
    def retrainings(self) -> int:
        """How many times the model was retrained."""
        return len(self.retrain_weeks)


@dataclass(frozen=True)
class RetrainingResult:
    """All strategies on the same timeline, with the baseline and the accuracy threshold."""

    runs: dict[str, StrategyRun]
    weeks: list[int]
    baseline: float  # majority-class accuracy on the training data (~0.69)
    threshold: float
    start_week: int
    label_delay: int

    def summary(self, lang: str) -> pd.DataFrame:
        """One row per strategy: retrainings, mean accuracy before/after the drift, weeks under the baseline."""
        rows = []
        after = np.array(self.weeks) >= self.start_week
        for name, run in self.runs.items():
            rows.append(
                {
                    translate("drift.col_strategy", lang): translate(f"drift.strategy_{name}", lang),
                    translate("drift.col_retrainings", lang): run.retrainings,
                    translate("drift.col_weeks", lang): ", ".join(map(str, run.retrain_weeks)),
                    translate("drift.col_acc_before", lang): round(float(run.accuracy[~after].mean()), 3)
                    if (~after).any()
                    else None,
                    translate("drift.col_acc_after", lang): round(float(run.accuracy[after].mean()), 3),
                    translate("drift.col_under_baseline", lang): int((run.accuracy < self.baseline).sum()),
                }
            )
        return pd.DataFrame(rows)


def majority_baseline(frame: pd.DataFrame) -> float:
    """Accuracy of always answering the majority class (≈ 0.69 on the course data)."""
    rate = float((frame[TARGET] == POSITIVE).mean())
    return max(rate, 1 - rate)


def feature_psi(reference: pd.Series, current: pd.Series, kind: str | None = None) -> float:
    """PSI (CSI) of one feature alone, missing values excluded (the cheap path of `compare_feature`)."""
    kind = kind or _kind_of(str(reference.name), reference)
    if kind == "numeric":
        ref_counts, cur_counts = binned_counts(
            reference.dropna().to_numpy(float), pd.to_numeric(current, errors="coerce").dropna().to_numpy(float)
        )
    else:
        _, ref_counts, cur_counts = category_counts(reference, current)
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        return float("nan")
    return psi(proportions(ref_counts), proportions(cur_counts))


def max_psi(training: pd.DataFrame, batch: pd.DataFrame) -> float:
    """The largest PSI over the 11 features (the data-drift retraining trigger)."""
    return float(np.nanmax([feature_psi(training[f], batch[f], _kind_of(f, training[f])) for f in FEATURES]))


def simulate_retraining(
    timeline: Timeline,
    reference: pd.DataFrame,
    *,
    strategies: tuple[str, ...] = STRATEGIES,
    label_delay: int = 2,
    period: int = 4,
    window: int = 4,
    margin: float = 0.05,
    threshold: float | None = None,
    psi_threshold: float = THRESHOLDS["psi"],
    model_name: str = "logistic_regression",
    progress=None,
    fitted: dict | None = None,
) -> RetrainingResult:
    """Replay the timeline under each retraining strategy.

    At the start of week w a strategy may retrain on the labelled batches it has: labels of week v
    arrive after `label_delay` weeks, so only weeks ≤ w − 1 − label_delay are usable (the last `window`
    of them). `never` keeps the first model; `periodic` retrains every `period` weeks; `data_drift`
    retrains when the last batch's largest PSI against the model's training data reaches
    `psi_threshold`; `accuracy` retrains when the newest accuracy it can measure is below the threshold
    (default: majority baseline + `margin`).

    Args:
        progress: optional callable(done, total) called after each strategy.
        fitted: a memo of fitted models and their decisions, for replaying strategies on the same timeline and
            reference several times (a strategy that retrains on the same weeks gets the same model).
    """
    weeks = timeline.weeks
    baseline = majority_baseline(reference)
    threshold = baseline + margin if threshold is None else threshold
    memo: dict = {} if fitted is None else fitted
    truths = [b[TARGET].to_numpy() for b in timeline.batches]
    sizes = np.cumsum([len(b) for b in timeline.batches])[:-1]

    def model_for(key: tuple, frame: pd.DataFrame) -> Pipeline:
        if ("model", key) not in memo:
            memo[("model", key)] = fit_model(frame, model_name)
        return memo[("model", key)]

    def decisions(key: tuple, model: Pipeline, from_index: int) -> dict[int, np.ndarray]:
        """The model's decisions for every batch from `from_index` on (one call: sklearn overhead is per call)."""
        if ("decisions", key, from_index) not in memo:
            memo[("decisions", key, from_index)] = _decisions(model, from_index)
        return memo[("decisions", key, from_index)]

    def _decisions(model: Pipeline, from_index: int) -> dict[int, np.ndarray]:
        rest = pd.concat(timeline.batches[from_index:], ignore_index=True)
        parts = np.split(
            predicted_labels(model, rest), sizes[from_index:] - sizes[from_index - 1] if from_index else sizes
        )
        return dict(zip(range(from_index, len(weeks)), parts))

    first_key = (model_name, "reference")
    first_decisions = decisions(first_key, model_for(first_key, reference), 0)
    runs: dict[str, StrategyRun] = {}
    for done, strategy in enumerate(strategies, start=1):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}")
        training, trained_at, current, training_key = reference, 0, first_decisions, first_key
        accuracy = np.zeros(len(weeks))
        retrained: list[int] = []
        for i, week in enumerate(weeks):
            last_labelled = week - 1 - label_delay
            usable = list(range(max(1, last_labelled - window + 1), last_labelled + 1))
            retrain = False
            if strategy == "periodic" and week > 1 and (week - 1) % period == 0:
                retrain = True
            elif strategy == "data_drift" and week > 1:
                if ("psi", training_key, i) not in memo:
                    memo[("psi", training_key, i)] = max_psi(training, timeline.batches[i - 1])
                retrain = memo[("psi", training_key, i)] >= psi_threshold
            elif strategy == "accuracy" and last_labelled >= 1 and last_labelled > trained_at:
                retrain = accuracy[last_labelled - 1] < threshold
            if retrain and usable:
                training = pd.concat([timeline.batches[w - 1] for w in usable], ignore_index=True)
                training_key = (model_name, tuple(usable))
                current, trained_at = decisions(training_key, model_for(training_key, training), i), week - 1
                retrained.append(week)
            accuracy[i] = float(np.mean(current[i] == truths[i]))
        runs[strategy] = StrategyRun(strategy, accuracy, retrained)
        if progress is not None:
            progress(done, len(strategies))
    return RetrainingResult(runs, weeks, baseline, threshold, timeline.start_week, label_delay)


def retraining_figure(result: RetrainingResult, lang: str, course_threshold: float = 0.68) -> go.Figure:
    """Accuracy per week of every strategy, retrainings marked, with the baseline and both thresholds."""
    import plotly.graph_objects as go

    colors = {"never": "#7f7f7f", "periodic": "#4c78a8", "data_drift": "#f58518", "accuracy": "#54a24b"}
    fig = go.Figure()
    for name, run in result.runs.items():
        label = translate(f"drift.strategy_{name}", lang)
        fig.add_trace(
            go.Scatter(
                x=result.weeks,
                y=run.accuracy,
                mode="lines+markers",
                name=label,
                line={
                    "color": colors[name],
                    "dash": "dash" if name == "data_drift" else "solid",
                    "width": 4 if name == "never" else 2,
                },
            )
        )
        if run.retrain_weeks:
            fig.add_trace(
                go.Scatter(
                    x=run.retrain_weeks,
                    y=[run.accuracy[w - 1] for w in run.retrain_weeks],
                    mode="markers",
                    marker={"symbol": "triangle-up", "size": 12, "color": colors[name]},
                    showlegend=False,
                    hovertemplate=translate("drift.retrained_hover", lang, strategy=label) + "<extra></extra>",
                )
            )
    fig.add_hline(
        y=result.baseline,
        line_color="black",
        line_dash="dot",
        annotation_text=translate("drift.baseline_line", lang, value=result.baseline),
        annotation_position="bottom left",
    )
    fig.add_hline(
        y=result.threshold,
        line_color="#54a24b",
        line_dash="dash",
        annotation_text=translate("drift.threshold_line", lang, value=result.threshold),
    )
    fig.add_hline(
        y=course_threshold,
        line_color="#d62728",
        line_dash="dash",
        annotation_text=translate("drift.course_threshold_line", lang, value=course_threshold),
        annotation_position="bottom right",
    )
    fig.add_vline(
        x=result.start_week - 0.5,
        line_dash="dot",
        line_color="black",
        annotation_text=translate("drift.drift_starts", lang),
    )
    fig.update_layout(
        title=translate("drift.retrain_title", lang, delay=result.label_delay),
        xaxis_title=translate("drift.week", lang),
        yaxis_title=translate("drift.accuracy", lang),
        height=420,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return localize_figure(fig, lang)


def retraining_code(kind: str, strength: float, start_week: int, delay: int, margin: float, seed: int = 0) -> str:
    """The simulation as plain code (the same core functions the page calls)."""
    return f"""from workbench.core.data import load_course_data
from workbench.chapters.ch10_monitoring.drift import simulate_retraining, simulate_timeline

reference = load_course_data()
timeline = simulate_timeline({kind!r}, {strength!r}, weeks=20, start_week={start_week}, batch_size=200, seed={seed})
result = simulate_retraining(timeline, reference, label_delay={delay}, period=4, window=4, margin={margin!r})
print(f"majority baseline {{result.baseline:.3f}}, alert threshold {{result.threshold:.3f}}")
for name, run in result.runs.items():
    print(f"{{name:<10}} retrained {{run.retrainings}}x at weeks {{run.retrain_weeks}}, "
          f"mean accuracy after the drift {{run.accuracy[{start_week - 1}:].mean():.3f}}")
"""
