"""Prometheus metrics of the API, and a bounded window of recent inputs for drift monitoring."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from workbench.core.data import CATEGORIES, NUMERIC_FEATURES

ENDPOINTS = frozenset(
    {
        "/health",
        "/model",
        "/predict",
        "/predict/batch",
        "/predict_status",
        "/metrics",
        "/reload",
        "/recent_inputs",
        "/docs",
        "/redoc",
        "/openapi.json",
    }
)
#: Class mode: the routes under /learners/{learner}/.
LEARNER_ENDPOINTS = frozenset({"predict", "predict_status", "predict/batch", "model", "reload", "recent_inputs"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
WINDOW = 1000


class RecentInputs:
    """The last `size` applications the API scored (a ring buffer), summarised for Prometheus."""

    def __init__(self, size: int = WINDOW) -> None:
        self._rows: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Remember scored inputs (oldest ones drop out)."""
        with self._lock:
            self._rows.extend(rows)

    def snapshot(self, limit: int | None = None) -> list[dict[str, Any]]:
        """A copy of the most recent rows, oldest first."""
        with self._lock:
            rows = list(self._rows)
        return rows[-limit:] if limit else rows

    def collect(self):
        """Prometheus collector: window size, numeric means and category shares of recent inputs."""
        rows = self.snapshot()
        size = GaugeMetricFamily("workbench_api_recent_inputs", "Applications in the recent-inputs window")
        size.add_metric([], len(rows))
        yield size
        means = GaugeMetricFamily(
            "workbench_api_recent_input_mean", "Mean of a numeric input over the recent window", labels=["feature"]
        )
        missing = GaugeMetricFamily(
            "workbench_api_recent_input_missing_ratio",
            "Share of missing values over the recent window",
            labels=["feature"],
        )
        shares = GaugeMetricFamily(
            "workbench_api_recent_input_share",
            "Share of each category over the recent window",
            labels=["feature", "value"],
        )
        if rows:
            for feature in NUMERIC_FEATURES:
                values = np.array([np.nan if r.get(feature) is None else float(r[feature]) for r in rows])
                present = values[~np.isnan(values)]
                means.add_metric([feature], float(present.mean()) if present.size else float("nan"))
                missing.add_metric([feature], float(np.isnan(values).mean()))
            for feature, allowed in CATEGORIES.items():
                values = [r.get(feature) for r in rows]
                missing.add_metric([feature], sum(v is None for v in values) / len(values))
                for value in allowed:
                    shares.add_metric([feature, value], sum(v == value for v in values) / len(values))
        yield means
        yield missing
        yield shares


class ApiMetrics:
    """All metrics of one API instance, in their own registry (so tests and apps do not share them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "workbench_api_requests",
            "HTTP requests by endpoint, method and status code",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "workbench_api_request_duration_seconds",
            "Time to answer a request, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "workbench_api_predictions", "Predictions by predicted class", ["label"], registry=self.registry
        )
        self.model_info = Gauge(
            "workbench_api_model_info",
            "The model being served (value 1)",
            ["name", "version", "alias", "source"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "workbench_api_rate_limited", "Requests refused by the rate limiter", registry=self.registry
        )
        self.recent = RecentInputs()
        self.registry.register(self.recent)
        self._model_labels: tuple[str, ...] | None = None
        # Labelled children, created on first use (as `labels()` does) and kept: `labels()` costs a lock
        # and string conversions on every request.
        self._predicted: dict[str, Any] = {}
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._latency: dict[str, Any] = {}

    def count_prediction(self, label: str) -> None:
        """One more prediction of `label` (Approved or Rejected)."""
        child = self._predicted.get(label)
        if child is None:
            child = self._predicted[label] = self.predictions.labels(label)
        child.inc()

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count a request and record how long it took."""
        key = (endpoint, method, str(status))
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        histogram = self._latency.get(endpoint)
        if histogram is None:
            histogram = self._latency[endpoint] = self.latency.labels(endpoint)
        histogram.observe(seconds)

    def set_model(self, name: str, version: str, alias: str | None, source: str) -> None:
        """Point the model-info gauge at the model being served."""
        labels = (name, version, alias or "", source)
        if labels == self._model_labels:
            return
        if self._model_labels is not None:
            self.model_info.remove(*self._model_labels)
        self.model_info.labels(*labels).set(1)
        self._model_labels = labels

    @staticmethod
    def endpoint_label(path: str) -> str:
        """The path if it is one of ours, else `other` (unknown paths must not create new series); class
        mode's learner routes as their template (`/learners/{learner}/predict`: no series per learner)."""
        if path in ENDPOINTS:
            return path
        if path.startswith("/learners/"):
            rest = path[len("/learners/") :].partition("/")[2]
            if rest in LEARNER_ENDPOINTS:
                return "/learners/{learner}/" + rest
        return "other"
