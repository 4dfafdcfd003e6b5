"""Chapter III: the challenges of deployment, measured — batch vs one call per row, robustness to bad
inputs (raw model vs validation), and the feedback loop with a baseline-relative retraining threshold.

The serving comparison takes `predict_many` / `predict_one` callables, so the same measurement works
in-process today and through the local prediction API (HTTP) once it exists: pass callables that post
to it and label the mode.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.core.data import (
    FEATURES,
    ID,
    NUMERIC_FEATURES,
    generate_loan_data,
    split_features_target,
    validate_loan_frame,
)
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.formatting import localize_figure, percent_axis
from workbench.core.i18n import pick, translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from sklearn.pipeline import Pipeline

    from workbench.chapters.ch03_deployment_challenges.lifecycle import Stage

PredictMany = Callable[[pd.DataFrame], np.ndarray]
PredictOne = Callable[[dict], float]
MAX_ROWS = 10_000
FIXED_THRESHOLD = 0.68  # the course's threshold, below the ~69 % majority baseline of this data
USELESS_EDGE = 0.01  # a model less than a point of accuracy above "approve everyone" is useless in practice


ROBUSTNESS_KEY = "ch03_deployment_challenges/robustness.json"  # the learner's robustness trials
THRESHOLD_KEY = "ch03_deployment_challenges/retraining_threshold.json"  # the learner's chosen retraining rule


# --------------------------------------------------------------------------------------------
# Lifecycle: what each stage produces
# --------------------------------------------------------------------------------------------


def stage_outputs(stages: list[Stage], lang: str) -> pd.DataFrame:
    """One row per lifecycle stage: its name, what it produces and what goes wrong with it in production.

    The production column is not chapter I's list of challenges: chapter III looks at each stage from production.
    """
    return pd.DataFrame(
        {
            translate("challenges.col_stage", lang): [f"{i}. {pick(s.name, lang)}" for i, s in enumerate(stages, 1)],
            translate("challenges.col_produces", lang): ["; ".join(s.artefacts[lang]) for s in stages],
            translate("challenges.col_challenges", lang): ["; ".join(s.production.get(lang, [])) for s in stages],
        }
    )


# --------------------------------------------------------------------------------------------
# Batch vs one call per row
# --------------------------------------------------------------------------------------------


def in_process_predictors(pipeline: Pipeline) -> tuple[PredictMany, PredictOne]:
    """`predict_many(frame)` and `predict_one(record)` calling the fitted pipeline directly.

    `predict_one` takes one application as a dict, as a REST API receives it in JSON, and builds the
    one-row table the model needs, as an API handler does.
    """
    columns = list(FEATURES)

    def predict_many(frame: pd.DataFrame) -> np.ndarray:
        return pipeline.predict_proba(frame[columns])[:, 1]

    def predict_one(record: dict) -> float:
        return float(pipeline.predict_proba(pd.DataFrame([record], columns=columns))[0, 1])

    return predict_many, predict_one


@dataclass(frozen=True)
class ServingComparison:
    """The same predictions made in one batch call and one call per row."""

    mode: str
    n: int
    batch_seconds: float
    single_rows: int  # rows actually predicted one by one (all of them unless the time budget ran out)
    single_seconds: float
    same: bool  # batch and single predictions agree on the rows predicted both ways
    max_abs_diff: float

    @property
    def batch_rows_per_s(self) -> float:
        """Throughput of the batch call."""
        return self.n / self.batch_seconds if self.batch_seconds > 0 else math.inf

    @property
    def single_rows_per_s(self) -> float:
        """Throughput of one call per row."""
        return self.single_rows / self.single_seconds if self.single_seconds > 0 else math.inf

    @property
    def extrapolated(self) -> bool:
        """True when the time budget stopped the row-by-row calls before the end."""
        return self.single_rows < self.n

    @property
    def single_seconds_for_n(self) -> float:
        """Time one call per row takes for all n rows (measured, or extrapolated at the measured rate)."""
        return self.n / self.single_rows_per_s if self.single_rows else math.inf

    @property
    def ratio(self) -> float:
        """How many times faster the batch call is, per row."""
        return self.batch_rows_per_s / self.single_rows_per_s if self.single_rows_per_s > 0 else math.inf


def serving_rows(n: int, seed: int = 11) -> pd.DataFrame:
    """`n` new applications (generated, at most MAX_ROWS) to predict."""
    if not 1 <= n <= MAX_ROWS:
        raise ValueError(f"n must be between 1 and {MAX_ROWS}")
    return split_features_target(generate_loan_data(n, seed))[0]


def compare_serving(
    frame: pd.DataFrame,
    predict_many: PredictMany,
    predict_one: PredictOne,
    *,
    mode: str = "in_process",
    time_budget: float = 10.0,
    progress: Callable[[int, int], None] | None = None,
) -> ServingComparison:
    """Time one `predict_many` call on the whole frame, then `predict_one` on each row.

    Args:
        frame: the applications (feature columns).
        predict_many: one call for the whole table, returns the probabilities.
        predict_one: one call for one record (a dict), returns its probability.
        mode: a label saying how the callables reach the model ("in_process", "http").
        time_budget: seconds after which the row-by-row calls stop (the rate is then extrapolated).
        progress: called with (rows done, n) now and then.
    """
    n = len(frame)
    start = time.perf_counter()
    batch = np.asarray(predict_many(frame), dtype=float)
    batch_seconds = time.perf_counter() - start
    records = frame.to_dict("records")
    singles: list[float] = []
    start = time.perf_counter()
    step = max(1, n // 50)
    for i, record in enumerate(records):
        singles.append(float(predict_one(record)))
        if progress is not None and (i + 1) % step == 0:
            progress(i + 1, n)
        if time.perf_counter() - start > time_budget:
            break
    single_seconds = time.perf_counter() - start
    done = len(singles)
    diff = float(np.max(np.abs(batch[:done] - np.array(singles)))) if done else 0.0
    return ServingComparison(mode, n, batch_seconds, done, single_seconds, diff < 1e-9, diff)


def serving_code(n: int) -> str:
    """The plain Python equivalent of the batch vs row-by-row measurement."""
    return f"""import time

import pandas as pd
from sklearn.pipeline import Pipeline

# pipeline: the course pipeline, already fitted (see chapter I)
X = pd.read_csv("data/loan.csv").drop(columns=["Loan_ID", "Loan_Status"]).sample({n}, replace=True)

start = time.perf_counter()
batch = pipeline.predict_proba(X)[:, 1]                       # one call: the batch (nightly job)
batch_seconds = time.perf_counter() - start

start = time.perf_counter()
single = [pipeline.predict_proba(pd.DataFrame([row]))[0, 1]   # one call per application (REST API)
          for row in X.to_dict("records")]
single_seconds = time.perf_counter() - start

print(f"batch: {{len(X) / batch_seconds:,.0f}} rows/s, one by one: {{len(X) / single_seconds:,.0f}} rows/s")

# Through the local API instead (chapter VII), one HTTP request per application:
# import requests
# requests.post("http://127.0.0.1:8000/predict", json=row).json()
"""


# --------------------------------------------------------------------------------------------
# Robustness: the raw model against validation
# --------------------------------------------------------------------------------------------

#: Ways to break an application: field → the value typed instead.
PRESETS: dict[str, dict[str, str]] = {
    "valid": {},
    "income_text": {"ApplicantIncome": "five thousand"},
    "negative_loan": {"LoanAmount": "-120"},
    "unknown_area": {"Property_Area": "Downtown"},
    "credit_two": {"Credit_History": "2"},
    "huge_income": {"ApplicantIncome": "50000000"},
    "missing_income": {"ApplicantIncome": ""},
}


def default_application() -> dict[str, str]:
    """A valid application, every field as the text a form would send."""
    return {
        "Gender": "Male",
        "Married": "Yes",
        "Dependents": "0",
        "Education": "Graduate",
        "Self_Employed": "No",
        "ApplicantIncome": "5849",
        "CoapplicantIncome": "0",
        "LoanAmount": "128",
        "Loan_Amount_Term": "360",
        "Credit_History": "1",
        "Property_Area": "Urban",
    }


def apply_preset(name: str) -> dict[str, str]:
    """The default application broken the way preset `name` says.

    Raises:
        KeyError: unknown preset.
    """
    return {**default_application(), **PRESETS[name]}


def naive_record(form: Mapping[str, str]) -> dict[str, object]:
    """What a service without validation passes on: numbers where the text parses, the raw text otherwise."""
    record: dict[str, object] = {}
    for column in FEATURES:
        text = str(form.get(column, "")).strip()
        if not text:
            record[column] = None
        elif column in NUMERIC_FEATURES:
            try:
                record[column] = float(text)
            except ValueError:
                record[column] = text
        else:
            record[column] = text
    return record


@dataclass(frozen=True)
class Outcome:
    """What happened to one application: a prediction, or a refusal (crash or validation messages)."""

    accepted: bool
    prediction: str | None = None
    probability: float | None = None
    error: str | None = None  # the exception the raw model raised
    messages: tuple[str, ...] = ()  # what validation found (errors, then warnings)
    warnings: tuple[str, ...] = ()  # warnings the library printed while predicting


def _predict(pipeline: Pipeline, frame: pd.DataFrame) -> tuple[float, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        probability = float(pipeline.predict_proba(frame[list(FEATURES)])[0, 1])
    return probability, tuple(dict.fromkeys(str(w.message).splitlines()[0][:200] for w in caught))


def raw_model_outcome(pipeline: Pipeline, form: Mapping[str, str]) -> Outcome:
    """Send the application straight to the model, as a service without validation would."""
    frame = pd.DataFrame([naive_record(form)], columns=list(FEATURES))
    try:
        probability, caught = _predict(pipeline, frame)
    except (ValueError, TypeError) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    return Outcome(True, "Y" if probability >= 0.5 else "N", probability, warnings=caught)


def validated_outcome(pipeline: Pipeline, form: Mapping[str, str], lang: str) -> Outcome:
    """Validate the application against the course schema first (workbench.core.data), predict only if it passes."""
    raw = pd.DataFrame([{ID: "LP-FORM", **{c: str(form.get(c, "")) for c in FEATURES}}], dtype=str)
    result = validate_loan_frame(raw)
    messages = tuple(p.message(lang) for p in (*result.errors, *result.warnings))
    if not result.ok:
        return Outcome(False, messages=messages)
    probability, caught = _predict(pipeline, result.frame)
    return Outcome(True, "Y" if probability >= 0.5 else "N", probability, messages=messages, warnings=caught)


def record_trial(settings: Settings, learner: str, form: Mapping[str, str], raw: Outcome, checked: Outcome) -> None:
    """Remember a trial (the application and both outcomes) for the hands-on check; keeps the last 100."""
    records = records_for(settings, learner)
    trials = records.get_json(ROBUSTNESS_KEY, [])
    trials = trials if isinstance(trials, list) else []
    trials.append(
        {
            "form": dict(form),
            "raw_accepted": raw.accepted,
            "raw_prediction": raw.prediction,
            "raw_error": raw.error,
            "validated_accepted": checked.accepted,
            "messages": list(checked.messages),
            "at": time.time(),
        }
    )
    records.put_json(ROBUSTNESS_KEY, trials[-100:])


def robustness_code() -> str:
    """The validation a service needs before calling the model (pydantic, as in the lesson)."""
    return """from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field, ValidationError


class LoanRequest(BaseModel):
    Gender: Literal["Male", "Female"] | None = None
    Married: Literal["Yes", "No"] | None = None
    Dependents: Literal["0", "1", "2", "3+"] | None = None
    Education: Literal["Graduate", "Not Graduate"]
    Self_Employed: Literal["Yes", "No"] | None = None
    ApplicantIncome: float = Field(ge=0, le=1_000_000)
    CoapplicantIncome: float = Field(ge=0, le=1_000_000)
    LoanAmount: float | None = Field(default=None, ge=1, le=10_000)   # in thousands
    Loan_Amount_Term: float | None = Field(default=None, ge=1, le=600)
    Credit_History: Literal[0, 1] | None = None
    Property_Area: Literal["Urban", "Semiurban", "Rural"]


try:
    request = LoanRequest(**payload)            # payload: the JSON the client sent
except ValidationError as exc:
    print(exc)                                  # 422 with the reasons, the model is never called
else:
    probability = pipeline.predict_proba(pd.DataFrame([request.model_dump()]))[0, 1]
"""


def _normalised(column: str, text: object) -> object:
    """A form value as the model would read it: numbers compared as numbers ("2.0" is "2"), text stripped."""
    value = str(text).strip()
    if column in NUMERIC_FEATURES:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def ready_made_case(form: Mapping[str, str]) -> str | None:
    """The ready-made case (a key of PRESETS) a trial is built on, or None when the breakage is the learner's own."""
    default = default_application()
    changed = {k: _normalised(k, v) for k, v in form.items() if _normalised(k, v) != _normalised(k, default.get(k, ""))}
    for name, change in PRESETS.items():
        if change and all(changed.get(k) == _normalised(k, v) for k, v in change.items()):
            return name
    return None


def check_silent_failure(ctx: CheckContext) -> CheckResult:
    """Passed when the learner found, on their own (not one of the ready-made cases), an application the raw
    model scores silently but validation refuses."""
    trials = records_for(ctx.settings, ctx.learner).get_json(ROBUSTNESS_KEY, [])
    trials = trials if isinstance(trials, list) else []
    if not trials:
        return failed(translate("challenges.check_no_trial", ctx.lang))
    silent = [t for t in trials if t.get("raw_accepted") and not t.get("validated_accepted")]
    if not silent:
        return failed(translate("challenges.check_no_silent", ctx.lang, n=len(trials)))
    own = [t for t in silent if ready_made_case(t.get("form") or {}) is None]
    if not own:
        case = translate(f"challenges.preset_{ready_made_case(silent[-1]['form'])}", ctx.lang)
        return failed(translate("challenges.check_silent_preset", ctx.lang, case=case))
    silent = own
    changed = {k: v for k, v in silent[-1]["form"].items() if default_application().get(k) != v}
    fields = ", ".join(f"{k}={v!r}" for k, v in changed.items()) or "—"
    detail = translate(
        "challenges.check_silent_found", ctx.lang, fields=fields, prediction=silent[-1].get("raw_prediction") or "?"
    )
    return passed(detail, evidence={"fields": changed, "n_silent": len(silent)})


# --------------------------------------------------------------------------------------------
# Feedback loop: accuracy over the weeks, with a baseline-relative retraining threshold
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackSimulation:
    """A model's weekly accuracy while the relationship between features and approval fades away."""

    seed: int
    drift_start: int
    drift_per_week: float
    n_per_week: int
    drift: np.ndarray  # share of labels no longer explained by the features, per week
    accuracy: np.ndarray
    baseline: np.ndarray  # majority-class share of the same week's labels
    approval_rate: np.ndarray

    @property
    def weeks(self) -> np.ndarray:
        """Week numbers, from 0."""
        return np.arange(len(self.accuracy))


@lru_cache(maxsize=16)
def simulate_feedback(
    weeks: int = 30, seed: int = 7, drift_start: int = 8, drift_per_week: float = 0.06, n_per_week: int = 800
) -> FeedbackSimulation:
    """Simulate the weekly accuracy of a model trained at week 0 while concept drift grows.

    From `drift_start` on, a growing share of each week's decisions (`drift_per_week` more every week)
    no longer follows the features (new lending policy): the model's accuracy falls towards what chance
    gives, while the share of approvals (hence the majority baseline) stays about the same, ~69 %.
    Deterministic: the same arguments always give the same curves (cached; the arrays are read-only).
    """
    from workbench.core.modeling import build_pipeline

    if weeks < 2 or n_per_week < 50:
        raise ValueError("weeks >= 2 and n_per_week >= 50 are needed")
    X_train, y_train = split_features_target(generate_loan_data(614, seed))
    model = build_pipeline("logistic_regression", seed=seed).fit(X_train, y_train)
    X, y = split_features_target(generate_loan_data(weeks * n_per_week, seed + 1))
    predicted = model.predict(X)
    rng = np.random.default_rng(seed)
    drift = np.clip((np.arange(weeks) - drift_start + 1) * drift_per_week, 0, 1) * (np.arange(weeks) >= drift_start)
    accuracy, baseline, approval = [], [], []
    for week in range(weeks):
        part = slice(week * n_per_week, (week + 1) * n_per_week)
        truth = y.to_numpy()[part]
        replaced = rng.random(n_per_week) < drift[week]
        policy = (rng.random(n_per_week) < truth.mean()).astype(int)  # same approval share, no link to features
        labels = np.where(replaced, policy, truth)
        accuracy.append(float((predicted[part] == labels).mean()))
        approval.append(float(labels.mean()))
        baseline.append(max(approval[-1], 1 - approval[-1]))
    arrays = [drift, np.array(accuracy), np.array(baseline), np.array(approval)]
    for array in arrays:
        array.setflags(write=False)
    return FeedbackSimulation(seed, drift_start, drift_per_week, n_per_week, *arrays)


def first_week(mask: np.ndarray) -> int | None:
    """The first week where `mask` is true (None if never)."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


@dataclass(frozen=True)
class ThresholdVerdict:
    """When a retraining rule fires, compared with when the model became useless."""

    margin: float
    trigger_week: int | None  # first week accuracy < baseline + margin
    fixed_week: int | None  # first week accuracy < FIXED_THRESHOLD
    below_week: int | None  # first week accuracy < baseline: the model is useless
    drift_start: int
    edge_at_fixed: float | None = None  # accuracy minus that week's baseline when the fixed threshold fires

    @property
    def fixed_too_late(self) -> bool:
        """The fixed threshold never fires, or only once the model is below or within a point of the baseline."""
        if self.fixed_week is None or self.below_week is None or self.fixed_week >= self.below_week:
            return True
        return self.edge_at_fixed is not None and self.edge_at_fixed < USELESS_EDGE

    @property
    def too_early(self) -> bool:
        """The rule fired before any drift: a false alarm."""
        return self.trigger_week is not None and self.trigger_week < self.drift_start

    @property
    def too_late(self) -> bool:
        """The rule never fired, or only once the model was already below the baseline."""
        return self.trigger_week is None or (self.below_week is not None and self.trigger_week >= self.below_week)

    @property
    def ok(self) -> bool:
        """Fired during the decline, before the model fell below the baseline."""
        return not self.too_early and not self.too_late

    @property
    def weeks_of_warning(self) -> int | None:
        """Weeks between the retraining alert and the model becoming useless."""
        if self.trigger_week is None or self.below_week is None:
            return None
        return self.below_week - self.trigger_week


def evaluate_threshold(sim: FeedbackSimulation, margin: float, fixed: float = FIXED_THRESHOLD) -> ThresholdVerdict:
    """When `accuracy < baseline + margin` fires, against the fixed threshold and the baseline itself."""
    fixed_week = first_week(sim.accuracy < fixed)
    return ThresholdVerdict(
        margin=margin,
        trigger_week=first_week(sim.accuracy < sim.baseline + margin),
        fixed_week=fixed_week,
        below_week=first_week(sim.accuracy < sim.baseline),
        drift_start=sim.drift_start,
        edge_at_fixed=None if fixed_week is None else float(sim.accuracy[fixed_week] - sim.baseline[fixed_week]),
    )


def feedback_figure(sim: FeedbackSimulation, margin: float, lang: str, fixed: float = FIXED_THRESHOLD) -> go.Figure:
    """Weekly accuracy, baseline, baseline + margin and the fixed threshold, with the alert weeks marked."""
    import plotly.graph_objects as go

    verdict = evaluate_threshold(sim, margin, fixed)
    weeks = sim.weeks
    fig = go.Figure()
    fig.add_vrect(
        x0=sim.drift_start - 0.5,
        x1=weeks[-1] + 0.5,
        fillcolor="#fff3bf",
        opacity=0.4,
        line_width=0,
        layer="below",
        annotation_text=translate("challenges.fig_drift", lang),
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=sim.accuracy,
            name=translate("challenges.fig_accuracy", lang),
            mode="lines+markers",
            line={"width": 3, "color": "#1c7ed6"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=sim.baseline,
            name=translate("challenges.fig_baseline", lang),
            mode="lines",
            line={"dash": "dot", "color": "#495057"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=sim.baseline + margin,
            mode="lines",
            line={"color": "#2f9e44"},
            name=translate("challenges.fig_relative", lang, margin=margin * 100),
        )
    )
    fig.add_hline(
        y=fixed,
        line={"dash": "dash", "color": "#e03131"},
        annotation_text=translate("challenges.fig_fixed", lang, fixed=fixed * 100),
        annotation_position="bottom right",
    )
    for week, color, key in (
        (verdict.trigger_week, "#2f9e44", "challenges.fig_trigger"),
        (verdict.fixed_week, "#e03131", "challenges.fig_fixed_trigger"),
        (verdict.below_week, "#495057", "challenges.fig_below"),
    ):
        if week is not None:
            fig.add_trace(
                go.Scatter(
                    x=[week],
                    y=[sim.accuracy[week]],
                    mode="markers",
                    name=translate(key, lang, week=week),
                    marker={"size": 16, "color": color, "symbol": "x"},
                )
            )
    fig.update_layout(
        title=translate("challenges.fig_title", lang),
        xaxis_title=translate("challenges.fig_week", lang),
        yaxis_title=translate("challenges.fig_accuracy", lang),
        height=430,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    shown = [*sim.accuracy, *sim.baseline, *(sim.baseline + margin), fixed]
    fig.update_yaxes(**percent_axis(min(shown), max(shown), lang))
    return localize_figure(fig, lang)


@dataclass(frozen=True)
class ThresholdChoice:
    """A saved retraining rule and the simulation it was chosen on."""

    margin: float
    seed: int


def save_threshold_choice(settings: Settings, learner: str, margin: float, seed: int) -> ThresholdChoice:
    """Save the learner's margin (and the simulation seed) for the hands-on check."""
    choice = {"margin": float(margin), "seed": int(seed), "at": time.time()}
    records_for(settings, learner).put_json(THRESHOLD_KEY, choice)
    return ThresholdChoice(float(margin), int(seed))


def load_threshold_choice(settings: Settings, learner: str) -> ThresholdChoice | None:
    """The learner's saved rule, if any."""
    data = records_for(settings, learner).get_json(THRESHOLD_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("margin"), int | float):
        return None
    return ThresholdChoice(float(data["margin"]), int(data.get("seed", 7)))


def should_retrain_code(margin: float) -> str:
    """The retraining rule as a function to put in a monitoring job."""
    return f"""import pandas as pd


def should_retrain(y_true: pd.Series, y_pred: pd.Series, margin: float = {margin:.2f}) -> bool:
    \"\"\"Retrain when this week's accuracy falls below the majority baseline + margin.\"\"\"
    accuracy = (y_true == y_pred).mean()
    baseline = y_true.value_counts(normalize=True).max()   # share of the majority class, same week
    return bool(accuracy < baseline + margin)


# not: accuracy < 0.68  -> on data with ~69 % approvals, "always approve" already scores 0.69
"""


def check_retrain_threshold(ctx: CheckContext) -> CheckResult:
    """Passed when the saved margin fires during the decline, before the model falls below the baseline."""
    choice = load_threshold_choice(ctx.settings, ctx.learner)
    if choice is None:
        return failed(translate("challenges.check_no_threshold", ctx.lang))
    verdict = evaluate_threshold(simulate_feedback(seed=choice.seed), choice.margin)
    values = {
        "margin": choice.margin * 100,
        "trigger": verdict.trigger_week,
        "below": verdict.below_week,
        "start": verdict.drift_start,
    }
    evidence = {
        "margin": choice.margin,
        "seed": choice.seed,
        "trigger_week": verdict.trigger_week,
        "below_week": verdict.below_week,
    }
    if verdict.ok:
        return passed(translate("challenges.check_threshold_ok", ctx.lang, **values), evidence=evidence)
    if verdict.too_early:
        key = "challenges.check_too_early"
    elif verdict.trigger_week is None:
        key = "challenges.check_never"
    else:
        key = "challenges.check_too_late"
    return failed(translate(key, ctx.lang, **values), evidence=evidence)
