"""Chapter X PromQL exercise: a real Prometheus scraping a real API, the learner's query checked against raw samples.

The real-Prometheus test skips only when the binary is missing AND WORKBENCH_REQUIRE_PROMETHEUS is unset
(.ci/run installs Debian's `prometheus` and sets it, so CI never skips).
"""

from __future__ import annotations

import os
import re

import pytest
from workbench.chapters.ch10_monitoring import promql
from workbench.core import api_client, services
from workbench.core.exercises import CheckContext, load_exercises, run_check
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT

LEARNER = "test-learner"
RIGHT = 'rate(workbench_api_requests_total{endpoint="/predict",status="422"}[1m])'
WRONG = {
    "no rate()": 'workbench_api_requests_total{endpoint="/predict",status="422"}',
    "increase() not per second": 'increase(workbench_api_requests_total{endpoint="/predict",status="422"}[1m])',
    "every status": 'sum(rate(workbench_api_requests_total{endpoint="/predict"}[1m]))',
    "wrong window": 'rate(workbench_api_requests_total{endpoint="/predict",status="422"}[5m])',
    "irate after the burst": 'irate(workbench_api_requests_total{endpoint="/predict",status="422"}[1m])',
    "wrong endpoint": 'rate(workbench_api_requests_total{endpoint="/predict/batch",status="422"}[1m])',
    "wrong metric": 'rate(workbench_api_request_duration_seconds_count{endpoint="/predict"}[1m])',
    "syntax error": 'rate(workbench_api_requests_total{status="422"}[1m]',
    "range vector": 'workbench_api_requests_total{endpoint="/predict",status="422"}[1m]',
}


def _exercise():
    return next(h for h in load_exercises("10_monitoring").hands_on if h.id == "promql-422-rate")


def _check(lang: str = "en"):
    return run_check(_exercise(), CheckContext(LEARNER, lang, get_settings()))


def _require_prometheus() -> None:
    if promql.prometheus_binary() is None:
        if os.environ.get("WORKBENCH_REQUIRE_PROMETHEUS"):
            pytest.fail("prometheus is not installed but WORKBENCH_REQUIRE_PROMETHEUS is set: CI must not skip this")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")


@pytest.fixture
def prometheus_and_api(mlflow_store, monkeypatch):
    """The real API (`python -m workbench.api`) and the real Prometheus, on free loopback ports."""
    _require_prometheus()
    monkeypatch.setenv("WORKBENCH_API_PORT", str(services.free_port()))
    monkeypatch.setenv("WORKBENCH_PROMETHEUS_PORT", str(services.free_port()))
    get_settings.cache_clear()
    settings = get_settings()
    try:
        assert api_client.start(settings).healthy
        status = promql.start(settings, api_client.api_url(settings))
        assert status.healthy and status.url.startswith("http://127.0.0.1:")
        yield settings
    finally:
        promql.stop(settings)
        api_client.stop(settings)


def test_the_check_fails_before_the_work_on_wrong_queries_and_passes_with_the_rate(prometheus_and_api) -> None:
    settings = prometheus_and_api
    assert "--web.listen-address=127.0.0.1:" in " ".join(_command(settings))  # loopback only
    assert (promql.prometheus_dir(settings) / "data").is_dir()  # its own data dir under the state dir
    first = _check()
    assert not first.passed and "burst" in first.missing[0]  # nothing done yet
    record = promql.send_burst(settings, LEARNER)
    n_valid, n_invalid = promql.burst_size(LEARNER)
    assert record["sent_invalid"] == n_invalid == record["answered_422"] and record["sent_valid"] == n_valid
    no_query = _check()
    assert not no_query.passed and "query" in no_query.missing[0]
    expected = promql.expected_rate(settings, record["at"])
    assert expected == pytest.approx(n_invalid / promql.WINDOW_SECONDS, rel=0.15)  # +1 for the warm-up 422
    for why, query in WRONG.items():
        try:
            promql.evaluate_and_save(settings, LEARNER, query)
        except promql.PromQLError as exc:  # a syntax error is refused with Prometheus' own message
            assert why == "syntax error" and "parse error" in exc.message("en")
            promql.records_for(settings, LEARNER).update_json(promql.RECORD_KEY, {"query": query})
        result = _check()
        assert not result.passed, (why, result)
    result = promql.evaluate_and_save(settings, LEARNER, RIGHT)
    assert result.result_type == "vector" and result.series[0][0]["status"] == "422"
    verdict = _check("fr")
    assert verdict.passed, verdict
    assert verdict.evidence["value"] == pytest.approx(expected, rel=0.25)
    assert re.search(r"\d,\d{4}", verdict.detail)  # French decimals
    summed = f"sum({RIGHT})"  # aggregating one series is also right
    promql.evaluate_and_save(settings, LEARNER, summed)
    assert _check().passed
    promql.stop(settings)
    down = _check()
    assert not down.passed and "not running" in down.missing[0]


def _command(settings) -> list[str]:
    import json

    return json.loads((settings.state_dir / "services" / f"{promql.SERVICE}.json").read_text())["command"]


def test_counter_increase_follows_resets() -> None:
    assert promql.counter_increase([(0, 3), (1, 5), (2, 9)]) == 6
    assert promql.counter_increase([(0, 3), (1, 5), (2, 1), (3, 4)]) == 2 + 1 + 3  # restarted at 0, then 1
    assert promql.counter_increase([(0, 7)]) == 0


def test_a_missing_prometheus_is_said_with_the_command_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(promql, "prometheus_binary", lambda: None)
    with pytest.raises(promql.PromQLError) as error:
        promql.start(get_settings(), "http://127.0.0.1:1")
    assert "apt-get install prometheus" in error.value.message("fr") and "n'est pas installé" in error.value.message(
        "fr"
    )
    promql.records_for(get_settings(), LEARNER).put_json(promql.RECORD_KEY, {"at": 1.0, "query": RIGHT})
    result = _check("fr")
    assert not result.passed and "apt-get install prometheus" in result.missing[0]


def test_an_unreachable_prometheus_is_a_message_not_a_traceback(monkeypatch) -> None:
    with pytest.raises(promql.PromQLError) as error:
        promql.query(RIGHT, 1.0, url=f"http://127.0.0.1:{services.free_port()}", timeout=2)
    assert "start it" in error.value.message("en") and "démarrez-le" in error.value.message("fr")
    with pytest.raises(promql.PromQLError):
        promql.query("  ", 1.0)


def test_the_config_scrapes_the_api_every_second(tmp_path) -> None:
    import yaml

    path = promql.write_config(get_settings(), "http://127.0.0.1:8123")
    config = yaml.safe_load(path.read_text())
    assert config["global"]["scrape_interval"] == "1s"
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:8123"]
    assert path.is_relative_to(get_settings().state_dir)


def test_class_mode_asks_about_the_route_template(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    assert promql.selector(get_settings()) == (
        'workbench_api_requests_total{endpoint="/learners/{learner}/predict",status="422"}'
    )


def test_ci_installs_prometheus_and_requires_its_tests() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert re.search(r"apt-get install [^\n]*prometheus", ci)
    assert "export WORKBENCH_REQUIRE_PROMETHEUS=1" in ci
    assert ci.index("WORKBENCH_REQUIRE_PROMETHEUS=1") < ci.index("python -m pytest")
