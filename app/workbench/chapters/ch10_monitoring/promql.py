"""Chapter X: a real Prometheus scraping the learner's API, and a PromQL query checked against raw samples.

The workbench starts Prometheus (the Debian/upstream binary) as a managed local process (`core.services`):
loopback only, its own data directory under the state dir, a 1-second scrape of the API's `/metrics`.
The exercise sends a known burst of valid and invalid (422) requests to the learner's `/predict`, pins the
evaluation time, and asks: "how many 422 answers per second did your /predict route give over the last
minute?". The learner's query is evaluated through Prometheus' HTTP API (`/api/v1/query`) at that time; the
check compares it with what the workbench computes itself from the raw samples of the right series
(last − first over the window, counter resets handled, divided by 60 s), within a tolerance that covers
Prometheus' extrapolation at the window's edges but not a wrong metric, label, window or a missing `rate()`.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core import services
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import LocalizedError, translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

SERVICE = "prometheus"
SCRAPE_SECONDS = 1
WINDOW_SECONDS = 60
RECORD_KEY = "ch10_monitoring/promql.json"  # the learner's exercise burst, query and its value
INSTALL_COMMAND = "sudo apt-get install prometheus"
METRIC = "workbench_api_requests_total"


class PromQLError(LocalizedError, ValueError):
    """Prometheus is missing, down, or refused a query (strings `promql.error_*`)."""

    namespace = "promql"


def prometheus_binary() -> str | None:
    """The `prometheus` executable (PATH, then Debian's /usr/bin), or None when it is not installed."""
    found = shutil.which("prometheus")
    if found:
        return found
    return "/usr/bin/prometheus" if os.access("/usr/bin/prometheus", os.X_OK) else None


def prometheus_url() -> str:
    """Where the workbench's Prometheus listens (loopback; port from WORKBENCH_PROMETHEUS_PORT, 9090)."""
    port = os.environ.get("WORKBENCH_PROMETHEUS_PORT", "9090").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        port = "9090"
    return f"http://127.0.0.1:{port}"


def prometheus_dir(settings: Settings) -> Path:
    """Prometheus' configuration and data directory, under the workbench's state dir."""
    return settings.state_dir / "prometheus"


def write_config(settings: Settings, api_url: str) -> Path:
    """Write prometheus.yml: one job scraping the API's /metrics every SCRAPE_SECONDS."""
    target = api_url.split("//", 1)[-1].rstrip("/")
    folder = prometheus_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    path.write_text(
        "global:\n"
        f"  scrape_interval: {SCRAPE_SECONDS}s\n"
        f"  evaluation_interval: {SCRAPE_SECONDS}s\n"
        "scrape_configs:\n"
        "  - job_name: workbench-api\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        f"      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    return path


def status(settings: Settings) -> services.ServiceStatus:
    """Whether the workbench's Prometheus runs and is ready."""
    return services.status(settings, SERVICE)


def start(settings: Settings, api_url: str) -> services.ServiceStatus:
    """Start Prometheus scraping `api_url` (once for every session), and wait until it is ready.

    Raises:
        PromQLError: Prometheus is not installed.
        ServiceError: the port is taken or it does not start.
    """
    binary = prometheus_binary()
    if binary is None:
        raise PromQLError("error_not_installed", command=INSTALL_COMMAND)
    config = write_config(settings, api_url)
    url = prometheus_url()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={prometheus_dir(settings) / 'data'}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address={url.split('//', 1)[1]}",
        "--query.timeout=10s",
    ]
    return services.start(settings, SERVICE, command, url=url, health_url=f"{url}/-/ready", wait_seconds=30)


def stop(settings: Settings) -> bool:
    """Stop the workbench's Prometheus (its data stays on disk)."""
    return services.stop(settings, SERVICE)


@dataclass(frozen=True)
class QueryResult:
    """What Prometheus answered to an instant query: the result type and (labels, value) per series."""

    result_type: str
    series: tuple[tuple[dict[str, str], float], ...]

    def single_value(self) -> float:
        """The one number the query gives.

        Raises:
            PromQLError: a range vector, no series, or several series.
        """
        if self.result_type == "matrix":
            raise PromQLError("error_range_vector")
        if not self.series:
            raise PromQLError("error_no_series")
        if len(self.series) > 1:
            raise PromQLError("error_many_series", n=len(self.series))
        return self.series[0][1]


def query(promql: str, at: float, url: str | None = None, timeout: float = 15.0) -> QueryResult:
    """Evaluate `promql` at time `at` through Prometheus' HTTP API (GET /api/v1/query).

    Raises:
        PromQLError: Prometheus is unreachable or refused the query (its own error message is kept).
    """
    import requests

    if not promql.strip():
        raise PromQLError("error_empty")
    base = url or prometheus_url()
    try:
        response = requests.get(f"{base}/api/v1/query", params={"query": promql, "time": f"{at:.3f}"}, timeout=timeout)
        body = response.json()
    except requests.RequestException as exc:
        raise PromQLError("error_unreachable", url=base, error=str(exc)[:200]) from exc
    except ValueError as exc:
        raise PromQLError("error_unreachable", url=base, error=f"HTTP {response.status_code}") from exc
    if body.get("status") != "success":
        raise PromQLError("error_refused", error=str(body.get("error", ""))[:300])
    data = body.get("data") or {}
    kind, result = data.get("resultType", ""), data.get("result")
    if kind in ("scalar", "string"):
        return QueryResult(kind, (({}, _number(result[1])),))
    if kind == "matrix":
        return QueryResult(kind, tuple((dict(s["metric"]), _number(s["values"][-1][1])) for s in result))
    return QueryResult(kind, tuple((dict(s["metric"]), _number(s["value"][1])) for s in result))


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def raw_samples(selector: str, at: float, url: str | None = None) -> list[list[tuple[float, float]]]:
    """The raw (timestamp, value) samples of every series of `selector` over the last minute before `at`."""
    import requests

    base = url or prometheus_url()
    try:
        body = requests.get(
            f"{base}/api/v1/query", params={"query": f"{selector}[{WINDOW_SECONDS}s]", "time": f"{at:.3f}"}, timeout=15
        ).json()
    except (requests.RequestException, ValueError) as exc:
        raise PromQLError("error_unreachable", url=base, error=str(exc)[:200]) from exc
    if body.get("status") != "success":
        raise PromQLError("error_refused", error=str(body.get("error", ""))[:300])
    return [[(float(t), float(v)) for t, v in s["values"]] for s in body["data"]["result"]]


def counter_increase(samples: list[tuple[float, float]]) -> float:
    """How much a counter grew between its first and last sample (a reset to a lower value starts again)."""
    total = 0.0
    for (_, before), (_, after) in zip(samples, samples[1:]):
        total += after - before if after >= before else after
    return total


def endpoint_label(settings: Settings) -> str:
    """The `endpoint` label of the learner's /predict in the API's metrics (a template in class mode)."""
    return "/learners/{learner}/predict" if settings.class_mode else "/predict"


def selector(settings: Settings) -> str:
    """The series the question is about: 422 answers of the learner's /predict route."""
    return f'{METRIC}{{endpoint="{endpoint_label(settings)}",status="422"}}'


def expected_rate(settings: Settings, at: float, url: str | None = None) -> float:
    """The workbench's own answer: raw increase of the 422 counter over the minute before `at`, per second."""
    return sum(counter_increase(s) for s in raw_samples(selector(settings), at, url)) / WINDOW_SECONDS


# ----------------------------------------------------------------------------------------------
# The exercise: a known burst, the learner's query, the check
# ----------------------------------------------------------------------------------------------


def load_record(settings: Settings, learner: str) -> dict:
    """The learner's PromQL exercise (empty when none)."""
    data = records_for(settings, learner).get_json(RECORD_KEY, {})
    return data if isinstance(data, dict) else {}


def burst_size(learner: str) -> tuple[int, int]:
    """How many valid and invalid requests the learner's burst sends (different per learner)."""
    from workbench.chapters.ch10_monitoring.drift.simulation import _rng

    rng = _rng("promql-burst", learner.strip().casefold())
    return int(rng.integers(30, 50)), int(rng.integers(8, 20))


def _api_total(settings: Settings) -> float:
    """The 422 counter of the learner's /predict as the API exposes it now (a direct read of /metrics)."""
    from workbench.chapters.ch10_monitoring.live import parse_metrics
    from workbench.core import api_client

    scraped = api_client.call("GET", "/metrics", settings=settings, timeout=10)
    if not scraped.ok or not isinstance(scraped.body, str):
        raise PromQLError("error_api_metrics", error=scraped.error or f"HTTP {scraped.status_code}")
    snapshot = parse_metrics(scraped.body)
    return snapshot.total(METRIC, endpoint=endpoint_label(settings), status="422")


def _wait_until_scraped(settings: Settings, minimum: float, *, sleep, timeout: float = 30.0) -> None:
    """Wait until Prometheus holds a sample of the 422 series at `minimum` or more.

    Raises:
        PromQLError: Prometheus did not scrape it within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen = query(f"sum({selector(settings)})", time.time()).series
        except PromQLError:
            seen = ()
        if seen and seen[0][1] >= minimum:
            return
        sleep(SCRAPE_SECONDS / 2)
    raise PromQLError("error_not_scraped", seconds=int(timeout))


def send_burst(settings: Settings, learner: str, *, sleep=time.sleep, progress=None) -> dict:
    """Send the learner's burst to their /predict, wait for Prometheus to scrape it, pin the time.

    A first valid and invalid request make both series exist, and the workbench waits until Prometheus has
    scraped them (Prometheus only sees a counter grow between two of its samples); then the burst, then it
    waits until Prometheus holds the counter's new value, plus two scrape intervals. Returns the record.

    Raises:
        PromQLError: the API's /metrics cannot be read, or Prometheus does not scrape it.
    """
    from workbench.chapters.ch10_monitoring.drift.simulation import _rng
    from workbench.core import api_client
    from workbench.core.api_client import EXAMPLE_APPLICATION, sample_applications

    n_valid, n_invalid = burst_size(learner)
    invalid = {**EXAMPLE_APPLICATION, "ApplicantIncome": -2500}
    valid_rows = sample_applications(n_valid + 1, seed=int(time.time()) % 10_000)
    statuses: list[int | None] = []

    def post(body: dict) -> None:
        result = api_client.call("POST", "/predict", json_body=body, settings=settings, timeout=10, learner=learner)
        statuses.append(result.status_code)

    post(valid_rows[0])
    post(invalid)
    _wait_until_scraped(settings, _api_total(settings), sleep=sleep)
    sleep(2 * SCRAPE_SECONDS)
    order = [True] * n_valid + [False] * n_invalid
    _rng("promql-order", learner.strip().casefold()).shuffle(order)  # interleaved, not all 422s at the end
    rows = iter(valid_rows[1:])
    for done, is_valid in enumerate(order, start=1):
        post(next(rows) if is_valid else invalid)
        if progress is not None:
            progress(done, len(order))
    _wait_until_scraped(settings, _api_total(settings), sleep=sleep)
    sleep(2 * SCRAPE_SECONDS)
    record = {
        "at": time.time(),
        "sent_valid": n_valid,
        "sent_invalid": n_invalid,
        "answered_422": sum(1 for s in statuses[2:] if s == 422),
        "endpoint": endpoint_label(settings),
        "query": None,
        "value": None,
    }
    records_for(settings, learner).put_json(RECORD_KEY, record)
    return record


def evaluate_and_save(settings: Settings, learner: str, promql: str) -> QueryResult:
    """Evaluate the learner's query at their burst's time and save it with its value.

    Raises:
        PromQLError: no burst yet, or Prometheus refused the query.
    """
    record = load_record(settings, learner)
    if not record.get("at"):
        raise PromQLError("error_no_burst")
    result = query(promql, float(record["at"]))
    try:
        value: float | None = result.single_value()
    except PromQLError:
        value = None
    records_for(settings, learner).update_json(RECORD_KEY, {"query": promql.strip(), "value": value})
    return result


def check_promql_rate(ctx: CheckContext, tolerance: float = 0.25) -> CheckResult:
    """Passed when the learner's saved PromQL query, evaluated by Prometheus at their burst's time, gives the
    per-second rate of 422 answers of their /predict over the last minute (within `tolerance`, relative)."""
    lang = ctx.lang
    record = load_record(ctx.settings, ctx.learner)
    if not record.get("at"):
        return failed(translate("promql.check_no_burst", lang))
    promql = (record.get("query") or "").strip()
    if not promql:
        return failed(translate("promql.check_no_query", lang))
    if prometheus_binary() is None:
        return failed(translate("promql.error_not_installed", lang, command=INSTALL_COMMAND))
    if not status(ctx.settings).healthy:
        return failed(translate("promql.check_not_running", lang))
    at = float(record["at"])
    evidence: dict[str, Any] = {"query": promql, "at": at}
    try:
        expected = expected_rate(ctx.settings, at)
        value = query(promql, at).single_value()
    except PromQLError as exc:
        return failed(exc.message(lang), evidence=evidence)
    evidence.update(value=value, expected=expected)
    if expected <= 0:
        return failed(translate("promql.check_no_data", lang), evidence=evidence)
    if not abs(value - expected) <= tolerance * expected:
        return failed(translate("promql.check_wrong", lang, value=value, expected=expected), evidence=evidence)
    return passed(translate("promql.check_ok", lang, value=value, expected=expected), evidence=evidence)
