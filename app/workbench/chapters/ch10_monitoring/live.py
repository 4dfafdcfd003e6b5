"""Chapter X: operational monitoring of the live prediction API, as Prometheus would do it.

Scrape `/metrics` (Prometheus text format, parsed with `prometheus_client`), derive what a dashboard
shows between two scrapes — request rate, error rate, latency quantiles from the histogram buckets
(Prometheus' `histogram_quantile`), the mix of predicted classes — and check the API's recent inputs
(`/recent_inputs`) for drift against the training data. Alert rules (metric, operator, threshold,
severity) are evaluated into a list of alerts, like the rules of `deploy/prometheus/alerts.yml`.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from workbench.core.data import FEATURES
from workbench.core.i18n import LocalizedError, translate

PREDICT_ENDPOINTS = frozenset({"/predict", "/predict/batch", "/predict_status"})
QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)
RECENT_WINDOW = 100


class MonitoringError(LocalizedError, ValueError):
    """What the API answered cannot be monitored (strings `monitoring.error_*`)."""

    namespace = "monitoring"


@dataclass(frozen=True)
class Sample:
    """One sample of a scrape: metric name (with its _total/_bucket suffix), labels, value."""

    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class MetricsSnapshot:
    """Everything one scrape of /metrics returned, and when."""

    at: float
    samples: tuple[Sample, ...]

    def select(self, name: str, **labels: str) -> list[Sample]:
        """Samples with this name whose labels include `labels`."""
        return [s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def total(self, name: str, where: Callable[[dict[str, str]], bool] | None = None, **labels: str) -> float:
        """Sum of the matching samples (0 when there is none)."""
        return float(sum(s.value for s in self.select(name, **labels) if where is None or where(s.labels)))


def parse_metrics(text: str, at: float | None = None) -> MetricsSnapshot:
    """Parse Prometheus text exposition format into a snapshot.

    Raises:
        MonitoringError (a ValueError): the text is not in the Prometheus format.
    """
    from prometheus_client.parser import text_string_to_metric_families

    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples.append(Sample(s.name, dict(s.labels), float(s.value)))
    except (ValueError, TypeError, IndexError) as exc:
        raise MonitoringError("error_not_metrics", error=" ".join(str(exc).split())[:200]) from exc
    return MetricsSnapshot(time.time() if at is None else at, tuple(samples))


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' `histogram_quantile`: the q-quantile from cumulative (upper bound, count) buckets.

    Linear interpolation inside the bucket where the rank falls; the first bucket starts at 0; a rank
    in the +Inf bucket returns the highest finite bound. NaN when there is no observation.
    """
    if not buckets:
        return float("nan")
    buckets = sorted(buckets)
    total = buckets[-1][1]
    if total <= 0:
        return float("nan")
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return previous_bound
            if count == previous_count:
                return bound
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / (count - previous_count)
        previous_bound, previous_count = bound, count
    return buckets[-1][0]


def latency_buckets(snapshot: MetricsSnapshot, endpoint: str = "/predict") -> list[tuple[float, float]]:
    """The cumulative (le, count) buckets of the request-duration histogram of one endpoint."""
    return [
        (float(s.labels["le"]), s.value)
        for s in snapshot.select("workbench_api_request_duration_seconds_bucket", endpoint=endpoint)
    ]


def _delta_buckets(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> list[tuple[float, float]]:
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]


@dataclass(frozen=True)
class Operational:
    """What a dashboard shows for the interval between two scrapes (or since start with one)."""

    at: float
    seconds: float | None
    requests: float
    request_rate: float  # prediction requests per second (NaN without a previous scrape)
    error_rate: float  # share of 5xx among prediction requests
    client_error_rate: float  # share of 4xx (validation errors, rate limiting)
    latency: dict[float, float]  # quantile → seconds (/predict)
    approved: float
    rejected: float
    model: dict[str, str] = field(default_factory=dict)
    recent_window: int = 0

    @property
    def rejected_share(self) -> float:
        """Share of rejections among the predictions of the interval."""
        total = self.approved + self.rejected
        return self.rejected / total if total else float("nan")


def _is_predict(labels: dict[str, str]) -> bool:
    return labels.get("endpoint") in PREDICT_ENDPOINTS


def operational(current: MetricsSnapshot, previous: MetricsSnapshot | None = None) -> Operational:
    """Rates, error shares, latency quantiles and prediction mix between two scrapes of /metrics.

    Counters only go up, so an interval's value is a difference; a counter that went down means the
    API restarted, and the interval is then counted from zero (as Prometheus' `rate` does).
    """
    name = "workbench_api_requests_total"

    def delta(value_now: float, value_before: float) -> float:
        return value_now - value_before if value_now >= value_before else value_now

    def count(snapshot: MetricsSnapshot | None, where=None) -> float:
        return 0.0 if snapshot is None else snapshot.total(name, where)

    requests = delta(count(current, _is_predict), count(previous, _is_predict))
    errors = delta(
        count(current, lambda lab: _is_predict(lab) and lab.get("status", "").startswith("5")),
        count(previous, lambda lab: _is_predict(lab) and lab.get("status", "").startswith("5")),
    )
    client = delta(
        count(current, lambda lab: _is_predict(lab) and lab.get("status", "").startswith("4")),
        count(previous, lambda lab: _is_predict(lab) and lab.get("status", "").startswith("4")),
    )
    buckets = latency_buckets(current)
    restarted = previous is not None and requests == count(current, _is_predict) and count(previous, _is_predict) > 0
    if previous is not None and not restarted:
        buckets = _delta_buckets(latency_buckets(previous), buckets)
    predictions = {}
    for label in ("Approved", "Rejected"):
        now = current.total("workbench_api_predictions_total", label=label)
        before = previous.total("workbench_api_predictions_total", label=label) if previous else 0.0
        predictions[label] = delta(now, before)
    seconds = current.at - previous.at if previous is not None else None
    info = current.select("workbench_api_model_info")
    return Operational(
        at=current.at,
        seconds=seconds,
        requests=requests,
        request_rate=requests / seconds if seconds else float("nan"),
        error_rate=errors / requests if requests else 0.0,
        client_error_rate=client / requests if requests else 0.0,
        latency={q: histogram_quantile(q, buckets) for q in QUANTILES},
        approved=predictions["Approved"],
        rejected=predictions["Rejected"],
        model=dict(info[0].labels) if info else {},
        recent_window=int(current.total("workbench_api_recent_inputs")),
    )


def history_frame(points: list[Operational]) -> pd.DataFrame:
    """A table of successive intervals (for the time-series charts)."""
    return pd.DataFrame(
        [
            {
                "at": pd.Timestamp(p.at, unit="s"),
                "requests": p.requests,
                "request_rate": p.request_rate,
                "error_rate": p.error_rate,
                "client_error_rate": p.client_error_rate,
                "p50_ms": p.latency[0.5] * 1000,
                "p95_ms": p.latency[0.95] * 1000,
                "p99_ms": p.latency[0.99] * 1000,
                "rejected_share": p.rejected_share,
            }
            for p in points
        ]
    )


# ----------------------------------------------------------------------------------------------
# Recent inputs and their drift
# ----------------------------------------------------------------------------------------------


def recent_inputs_frame(body: Any) -> pd.DataFrame:
    """The /recent_inputs answer as a table of the 11 features (course dtypes).

    Raises:
        MonitoringError (a ValueError): the answer does not have the expected shape.
    """
    from workbench.core.data import canonical_dtypes

    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise MonitoringError("error_recent_inputs")
    try:
        return canonical_dtypes(pd.DataFrame(body["inputs"], columns=list(FEATURES)))
    except (ValueError, TypeError) as exc:  # rows that are not applications
        raise MonitoringError("error_recent_inputs") from exc


def input_drift(reference: pd.DataFrame, recent: pd.DataFrame):
    """Drift of the API's recent inputs against the training data (a `drift.DriftReport`)."""
    from workbench.chapters.ch10_monitoring.drift import compare_frames

    return compare_frames(reference, recent, columns=list(FEATURES))


# ----------------------------------------------------------------------------------------------
# Alert rules
# ----------------------------------------------------------------------------------------------

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)


@dataclass(frozen=True)
class AlertRule:
    """Fire when `metric operator threshold` holds (e.g. error_rate > 0.05)."""

    name: str
    metric: str
    operator: str
    threshold: float
    severity: Severity = "warning"

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; use one of {' '.join(OPERATORS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; use one of {', '.join(SEVERITIES)}")

    @property
    def expression(self) -> str:
        """The rule as text, e.g. `error_rate > 0.05`."""
        return f"{self.metric} {self.operator} {self.threshold:g}"


@dataclass(frozen=True)
class Alert:
    """A rule's state after an evaluation."""

    rule: AlertRule
    value: float
    firing: bool


#: the rules the page evaluates (the same spirit as deploy/prometheus/alerts.yml)
DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule("ApiDown", "up", "==", 0, "critical"),
    AlertRule("HighErrorRate", "error_rate", ">", 0.05, "critical"),
    AlertRule("HighLatencyP95", "p95_latency_seconds", ">", 0.25, "warning"),
    AlertRule("PredictionMixShift", "rejected_share", ">", 0.6, "warning"),
    AlertRule("CreditHistoryMissingSpike", "recent_missing_Credit_History", ">", 0.25, "warning"),
    AlertRule("InputDrift", "recent_drifted_features", ">=", 3, "warning"),
)


def monitored_values(up: bool, ops: Operational | None, drift_report=None) -> dict[str, float]:
    """The flat metric → value table the alert rules read."""
    nan = float("nan")
    values = {"up": 1.0 if up else 0.0}
    if ops is not None:
        values.update(
            request_rate=ops.request_rate,
            error_rate=ops.error_rate,
            client_error_rate=ops.client_error_rate,
            p50_latency_seconds=ops.latency[0.5],
            p95_latency_seconds=ops.latency[0.95],
            p99_latency_seconds=ops.latency[0.99],
            rejected_share=ops.rejected_share,
        )
    if drift_report is not None:
        values["recent_drifted_features"] = float(len(drift_report.drifted))
        for f in drift_report.features:
            values[f"recent_missing_{f.feature}"] = f.missing_current
    values.setdefault("recent_missing_Credit_History", nan)
    return values


def evaluate_alerts(
    values: dict[str, float], rules: tuple[AlertRule, ...] | list[AlertRule] = DEFAULT_RULES
) -> list[Alert]:
    """Evaluate every rule; a metric that is missing or NaN never fires."""
    alerts = []
    for rule in rules:
        value = float(values.get(rule.metric, float("nan")))
        firing = not math.isnan(value) and OPERATORS[rule.operator](value, rule.threshold)
        alerts.append(Alert(rule, value, bool(firing)))
    return alerts


def alerts_table(alerts: list[Alert], lang: str) -> pd.DataFrame:
    """Alerts for display: name, expression, value, severity, state."""
    return pd.DataFrame(
        [
            {
                translate("monitoring.col_alert", lang): a.rule.name,
                translate("monitoring.col_rule", lang): a.rule.expression,
                translate("monitoring.col_value", lang): None if math.isnan(a.value) else round(a.value, 4),
                translate("monitoring.col_severity", lang): translate(f"monitoring.severity_{a.rule.severity}", lang),
                translate("monitoring.col_state", lang): translate(
                    "monitoring.firing" if a.firing else "monitoring.ok", lang
                ),
            }
            for a in alerts
        ]
    )


# ----------------------------------------------------------------------------------------------
# Traffic
# ----------------------------------------------------------------------------------------------

TRAFFIC_MODES: tuple[str, ...] = ("normal", "drifted")


def traffic(mode: str, n: int, seed: int) -> list[dict[str, Any]]:
    """Applications to send: `normal` (like the training data) or `drifted`.

    Drifted traffic: Credit_History missing for 30 % of applications and 0 for most others (a broken
    credit-bureau feed), more rural properties and lower incomes — the model rejects far more.

    Raises:
        ValueError: unknown mode.
    """
    from workbench.core.api_client import sample_applications

    if mode not in TRAFFIC_MODES:
        raise ValueError(f"unknown traffic mode {mode!r}")
    rows = sample_applications(n, seed=seed)
    if mode == "normal":
        return rows
    rng = np.random.default_rng(seed)
    for row in rows:
        draw = rng.random()
        row["Credit_History"] = None if draw < 0.3 else (0 if draw < 0.95 else 1)
        if rng.random() < 0.6:
            row["Property_Area"] = "Rural"
        row["ApplicantIncome"] = int(max(150, row["ApplicantIncome"] * 0.5))
    return rows


def send_traffic(url: str, mode: str, n: int, seed: int, concurrency: int = 4):
    """POST `n` applications to `url`/predict and wait for every answer (a `loadtest.LoadTestResult`)."""
    from workbench.core.loadtest import json_bodies, run_load

    return run_load(url.rstrip("/") + "/predict", json_bodies(traffic(mode, n, seed)), n, concurrency, timeout=10)


def monitoring_code(url: str, window: int = RECENT_WINDOW) -> str:
    """What the live tab does, as plain Python (requests + prometheus_client + the workbench's statistics)."""
    return f'''import time

import pandas as pd
import requests
from prometheus_client.parser import text_string_to_metric_families
from workbench.core.data import FEATURES, canonical_dtypes, load_course_data
from workbench.chapters.ch10_monitoring.drift import compare_frames


def scrape():
    text = requests.get("{url}/metrics", timeout=5).text
    return {{(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}}


def total(samples, name, **labels):
    return sum(v for (n, lab), v in samples.items()
               if n == name and all(dict(lab).get(k) == x for k, x in labels.items()))


before, t0 = scrape(), time.time()
time.sleep(10)
after, t1 = scrape(), time.time()
requests_delta = total(after, "workbench_api_requests_total", endpoint="/predict") - total(
    before, "workbench_api_requests_total", endpoint="/predict")
errors = sum(total(after, "workbench_api_requests_total", endpoint="/predict", status=s)
             - total(before, "workbench_api_requests_total", endpoint="/predict", status=s)
             for s in ("500", "503"))
print(f"{{requests_delta / (t1 - t0):.1f}} req/s, error rate {{errors / max(requests_delta, 1):.1%}}")

recent = requests.get("{url}/recent_inputs", params={{"limit": {window}}}, timeout=5).json()
current = canonical_dtypes(pd.DataFrame(recent["inputs"], columns=list(FEATURES)))
report = compare_frames(load_course_data(), current, columns=list(FEATURES))
print("drifting features:", report.drifted)
print("Credit_History missing:", current["Credit_History"].isna().mean())
'''
