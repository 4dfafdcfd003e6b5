"""Operational monitoring: /metrics parsing on real text from the API, rates, quantiles, input drift, alerts."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from workbench.chapters.ch10_monitoring import live as monitoring
from workbench.core.data import FEATURES, load_course_data
from workbench.core.settings import get_settings


@pytest.fixture(scope="module")
def scrapes(tmp_path_factory, _mlflow_template):
    """Three scrapes of a real in-process API: at start, after normal traffic (+1 bad request), after drifted traffic."""
    from workbench.api import create_app

    state = tmp_path_factory.mktemp("api-state")
    shutil.copy(_mlflow_template, state / "mlflow.db")
    settings = replace(
        get_settings(), state_dir=state, mlflow_tracking_uri=f"sqlite:///{state / 'mlflow.db'}", api_poll_seconds=0.0
    )
    with TestClient(create_app(settings)) as client:
        texts = [client.get("/metrics").text]
        for row in monitoring.traffic("normal", 40, seed=1):
            assert client.post("/predict", json=row).status_code == 200
        assert client.post("/predict", json={"Gender": "Robot"}).status_code == 422
        texts.append(client.get("/metrics").text)
        for row in monitoring.traffic("drifted", 60, seed=2):
            assert client.post("/predict", json=row).status_code == 200
        texts.append(client.get("/metrics").text)
        recent = client.get("/recent_inputs", params={"limit": 60}).json()
    return [monitoring.parse_metrics(text, at=100.0 + 10 * i) for i, text in enumerate(texts)], recent


def test_parse_real_metrics(scrapes) -> None:
    (_, after_normal, _), _ = scrapes
    assert after_normal.at == 110.0
    assert after_normal.total("workbench_api_requests_total", endpoint="/predict", status="200") == 40
    assert after_normal.total("workbench_api_requests_total", endpoint="/predict", status="422") == 1
    assert after_normal.total("workbench_api_predictions_total") == 40
    info = after_normal.select("workbench_api_model_info")
    assert info and info[0].labels["source"] == "fallback" and info[0].value == 1
    buckets = monitoring.latency_buckets(after_normal)
    assert buckets[-1] == (math.inf, 41.0) and [b for b, _ in buckets] == sorted(b for b, _ in buckets)
    assert after_normal.total("workbench_api_recent_inputs") == 40


def test_parse_rejects_non_prometheus_text() -> None:
    with pytest.raises(ValueError, match="not Prometheus"):
        monitoring.parse_metrics("this is { not metrics")
    assert monitoring.parse_metrics("").samples == ()


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.5, 0.1), (0.75, 0.15), (1.0, 0.2), (0.1, 0.02)],
)
def test_histogram_quantile_interpolates_like_prometheus(q, expected) -> None:
    buckets = [(0.1, 5.0), (0.2, 10.0), (math.inf, 10.0)]
    assert monitoring.histogram_quantile(q, buckets) == pytest.approx(expected)


def test_histogram_quantile_edge_cases() -> None:
    assert math.isnan(monitoring.histogram_quantile(0.5, []))
    assert math.isnan(monitoring.histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]))
    assert monitoring.histogram_quantile(0.99, [(0.1, 1.0), (0.5, 2.0), (math.inf, 10.0)]) == 0.5  # +Inf bucket


def test_operational_between_two_scrapes(scrapes) -> None:
    (start, after_normal, after_drifted), _ = scrapes
    normal = monitoring.operational(after_normal, start)
    assert normal.seconds == 10 and normal.requests == 41
    assert normal.request_rate == pytest.approx(4.1)
    assert normal.client_error_rate == pytest.approx(1 / 41) and normal.error_rate == 0
    assert normal.approved + normal.rejected == 40 and normal.rejected_share < 0.4
    assert 0 < normal.latency[0.5] <= normal.latency[0.95] <= normal.latency[0.99] < 2.5
    drifted = monitoring.operational(after_drifted, after_normal)
    assert drifted.requests == 60 and drifted.rejected_share > 0.6
    assert drifted.model["version"] == "fallback" and drifted.recent_window == 100
    first = monitoring.operational(after_normal)  # one scrape: totals since start, no rate
    assert first.requests == 41 and math.isnan(first.request_rate)
    restarted = monitoring.operational(start, after_drifted)  # counters went down: the API restarted
    assert restarted.requests == 0 and restarted.rejected_share != restarted.rejected_share
    history = monitoring.history_frame([normal, drifted])
    assert list(history["requests"]) == [41, 60] and history["p95_ms"].iloc[0] > 0


def test_recent_inputs_drift(scrapes) -> None:
    _, recent = scrapes
    frame = monitoring.recent_inputs_frame(recent)
    assert frame.shape == (60, 11) and list(frame.columns) == list(FEATURES)
    assert frame["Credit_History"].isna().mean() == pytest.approx(0.3, abs=0.12)
    report = monitoring.input_drift(load_course_data(), frame)
    assert {"Credit_History", "Property_Area"} <= set(report.drifted)
    with pytest.raises(ValueError, match="expected"):
        monitoring.recent_inputs_frame({"rows": []})


def test_alerts_fire_on_drifted_traffic_and_clear_on_normal(scrapes) -> None:
    (start, after_normal, after_drifted), recent = scrapes
    reference = load_course_data()
    drifted = monitoring.monitored_values(
        True,
        monitoring.operational(after_drifted, after_normal),
        monitoring.input_drift(reference, monitoring.recent_inputs_frame(recent)),
    )
    firing = {a.rule.name for a in monitoring.evaluate_alerts(drifted) if a.firing}
    assert {"PredictionMixShift", "CreditHistoryMissingSpike", "InputDrift"} <= firing
    assert "HighErrorRate" not in firing and "ApiDown" not in firing
    normal = monitoring.monitored_values(True, monitoring.operational(after_normal, start), None)
    assert [a.rule.name for a in monitoring.evaluate_alerts(normal) if a.firing] == []
    down = monitoring.evaluate_alerts(monitoring.monitored_values(False, None, None))
    assert [a.rule.name for a in down if a.firing] == ["ApiDown"]
    table = monitoring.alerts_table(down, "fr")
    assert list(table.columns) == ["Alerte", "Règle", "Valeur", "Gravité", "État"]
    assert table.iloc[0]["État"] == "🔴 se déclenche" and table.iloc[0]["Règle"] == "up == 0"


@pytest.mark.parametrize(
    ("operator", "value", "firing"),
    [
        (">", 0.06, True),
        (">", 0.05, False),
        (">=", 0.05, True),
        ("<", 0.01, True),
        ("==", 0.05, True),
        ("!=", 0.05, False),
    ],
)
def test_alert_rule_operators(operator, value, firing) -> None:
    rule = monitoring.AlertRule("R", "error_rate", operator, 0.05, "critical")
    assert monitoring.evaluate_alerts({"error_rate": value}, [rule])[0].firing is firing
    assert not monitoring.evaluate_alerts({"error_rate": float("nan")}, [rule])[0].firing
    assert not monitoring.evaluate_alerts({}, [rule])[0].firing


def test_alert_rule_validation() -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        monitoring.AlertRule("R", "x", "=>", 1)
    with pytest.raises(ValueError, match="unknown severity"):
        monitoring.AlertRule("R", "x", ">", 1, "panic")
    assert monitoring.AlertRule("R", "x", ">=", 3).expression == "x >= 3"


def test_traffic_is_seeded_and_drifted_traffic_differs() -> None:
    assert monitoring.traffic("normal", 5, 3) == monitoring.traffic("normal", 5, 3)
    drifted = monitoring.traffic("drifted", 400, 3)
    credit = [row["Credit_History"] for row in drifted]
    assert credit.count(None) / 400 == pytest.approx(0.3, abs=0.06)
    assert credit.count(0) / 400 == pytest.approx(0.65, abs=0.06)
    assert sum(row["Property_Area"] == "Rural" for row in drifted) / 400 > 0.6
    with pytest.raises(ValueError, match="unknown traffic mode"):
        monitoring.traffic("chaos", 1, 0)


def test_monitoring_code_is_valid_python() -> None:
    code = monitoring.monitoring_code("http://127.0.0.1:8000", 100)
    compile(code, "monitoring_code", "exec")
    assert "text_string_to_metric_families" in code and 'limit": 100' in code
