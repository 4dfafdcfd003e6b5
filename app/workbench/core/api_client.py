"""Talk to the local prediction API from the workbench: start/stop it, call it, measure it.

The API runs as its own process (`python -m workbench.api`), started and stopped through
`workbench.core.services` so any page can see it. When WORKBENCH_API_HOST points at an API run elsewhere
(Docker compose, Kubernetes), the same calls work against it; only start/stop are local.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from workbench.core import services
from workbench.core.settings import Settings, get_settings

SERVICE = "prediction-api"

EXAMPLE_APPLICATION: dict[str, Any] = {
    "Gender": "Male",
    "Married": "Yes",
    "Dependents": "0",
    "Education": "Graduate",
    "Self_Employed": "No",
    "ApplicantIncome": 5849,
    "CoapplicantIncome": 0,
    "LoanAmount": 128,
    "Loan_Amount_Term": 360,
    "Credit_History": 1,
    "Property_Area": "Urban",
}


def api_url(settings: Settings | None = None) -> str:
    """Base URL of the API (the host 0.0.0.0 is reached through loopback)."""
    settings = settings or get_settings()
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def status(settings: Settings | None = None) -> services.ServiceStatus:
    """The API as this workbench knows it: started here, or reachable at its URL."""
    settings = settings or get_settings()
    local = services.status(settings, SERVICE)
    if local.running:
        return local
    url = api_url(settings)
    healthy = services.check_health(f"{url}/health")
    return services.ServiceStatus(SERVICE, healthy, healthy, None, url, None)


def start(settings: Settings | None = None, env: dict[str, str] | None = None) -> services.ServiceStatus:
    """Start `python -m workbench.api` in the background and wait until /health answers.

    Args:
        env: extra environment variables, e.g. {"WORKBENCH_API_RATE_LIMIT": "5"} (chapter XI).

    Raises:
        RuntimeError: the port is taken or the API did not start (message with its log).
    """
    settings = settings or get_settings()
    if settings.class_mode:  # one shared API serves the class: a learner never starts their own on an app pod
        raise services.ServiceError("api_shared_in_class")
    url = api_url(settings)
    command = [
        sys.executable,
        "-m",
        "workbench.api",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        "--log-level",
        "warning",
    ]
    full_env = {"WORKBENCH_STATE_DIR": str(settings.state_dir), "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
    full_env.update(env or {})
    return services.start(
        settings, SERVICE, command, url=url, health_url=f"{url}/health", env=full_env, wait_seconds=120
    )


def stop(settings: Settings | None = None) -> bool:
    """Stop the API started by the workbench (no orphan process)."""
    return services.stop(settings or get_settings(), SERVICE)


@dataclass(frozen=True)
class CallResult:
    """One HTTP exchange with the API, as the page shows it."""

    method: str
    url: str
    status_code: int | None
    body: Any  # parsed JSON (or text) of the answer
    latency_ms: float
    request: Any = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


#: The API's routes that class mode also serves per learner, under /learners/{learner}/.
LEARNER_ROUTES = ("/predict", "/predict_status", "/predict/batch", "/model", "/reload", "/recent_inputs")


def learner_prefix(learner: str | None, settings: Settings | None = None) -> str:
    """Where `learner`'s own routes start in class mode (`/learners/{learner}`); empty in solo mode."""
    from urllib.parse import quote

    settings = settings or get_settings()
    return f"/learners/{quote(learner, safe='')}" if learner is not None and settings.class_mode else ""


def learner_path(path: str, learner: str | None, settings: Settings | None = None) -> str:
    """`path` on `learner`'s own route in class mode (`/learners/{learner}/predict`); unchanged in solo mode,
    without a learner, or for a class-wide route (/health, /metrics)."""
    if path.split("?", 1)[0] not in LEARNER_ROUTES:
        return path
    return learner_prefix(learner, settings) + path


def auth_headers(settings: Settings | None = None) -> dict[str, str]:
    """The app's bearer token for the API (it may call every learner's routes), when one is configured."""
    settings = settings or get_settings()
    return {"Authorization": f"Bearer {settings.api_admin_token}"} if settings.api_admin_token else {}


def learner_api_token(learner: str, settings: Settings | None = None) -> str | None:
    """The token that opens `learner`'s own routes on the class's API, and only theirs (to call it with curl).

    None in solo mode, and when the API has no token (a teacher's laptop: learner routes open on loopback).
    """
    settings = settings or get_settings()
    if not settings.class_mode or not settings.api_admin_token:
        return None
    from workbench.core.api_tokens import learner_token

    return learner_token(settings.api_admin_token, learner)


def call(
    method: str,
    path: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    files: dict | None = None,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    timeout: float = 30.0,
    shown: Any = None,
    learner: str | None = None,
) -> CallResult:
    """Call the API; a connection failure becomes a CallResult with `error` (never an exception).

    Args:
        learner: in class mode, call this learner's own route (their model, their recent inputs).
        json_body: sent as JSON exactly as Python writes it, NaN and Infinity included (the API answers 422).
        shown: what the page shows as the request (default: `json_body`).
    """
    import requests

    settings = settings or get_settings()
    url = api_url(settings) + learner_path(path, learner, settings)
    headers = dict(headers or {})
    if not any(k.lower() == "authorization" for k in headers):
        headers.update(auth_headers(settings))
    if json_body is not None:  # requests refuses NaN/Infinity (allow_nan=False): a learner may send them on purpose
        data = json.dumps(json_body, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    shown = json_body if shown is None else shown
    start = time.perf_counter()
    try:
        response = requests.request(method, url, data=data, files=files, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return CallResult(method, url, None, None, (time.perf_counter() - start) * 1000, shown, str(exc))
    latency = (time.perf_counter() - start) * 1000
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return CallResult(method, url, response.status_code, body, latency, shown, None, dict(response.headers))


def predict(
    application: dict[str, Any],
    settings: Settings | None = None,
    path: str = "/predict",
    learner: str | None = None,
) -> CallResult:
    """POST one application to /predict (or /predict_status); in class mode to `learner`'s own route."""
    return call("POST", path, json_body=application, settings=settings, learner=learner)


def predict_csv(
    content: bytes, filename: str = "applications.csv", settings: Settings | None = None, learner: str | None = None
) -> CallResult:
    """Upload a CSV file to /predict/batch (the result's `request` describes the upload and its first lines)."""
    return call(
        "POST",
        "/predict/batch",
        files={"file": (filename, content, "text/csv")},
        settings=settings,
        shown=upload_summary(filename, content),
        learner=learner,
    )


def upload_summary(filename: str, content: bytes, lines: int = 5) -> dict[str, Any]:
    """What a CSV upload sends, for display: form field, file name, size, line count and the first lines."""
    text = content.decode("utf-8-sig", errors="replace")
    all_lines = text.splitlines()
    return {
        "content_type": "multipart/form-data",
        "field": "file",
        "filename": filename,
        "bytes": len(content),
        "lines": len(all_lines),
        "first_lines": all_lines[:lines],
    }


def request_text(request: Any) -> str:
    """The request as the page shows it: JSON text as sent (NaN and Infinity written as such)."""
    return request if isinstance(request, str) else json.dumps(request, indent=2, ensure_ascii=False)


def curl_command(url: str, payload: Any, token: str | None = None) -> str:
    """The same call as a curl command line (with `Authorization: Bearer token` when a token is given)."""
    body = json.dumps(payload, ensure_ascii=False)
    quote = '"' if token and token.startswith("$") else "'"  # a `$NAME` token is expanded by the shell
    auth = f"  -H {quote}Authorization: Bearer {token}{quote} \\\n" if token else ""
    return f"curl -s -X POST {url} \\\n{auth}  -H 'Content-Type: application/json' \\\n  -d '{body}'"


def requests_code(url: str, payload: Any, token: str | None = None) -> str:
    """The same call with Python `requests` (a `$NAME` token is read from that environment variable)."""
    if token is None:
        imports, auth = "import requests", ""
    elif token.startswith("$"):
        imports, auth = (
            "import os\n\nimport requests",
            f', headers={{"Authorization": "Bearer " + os.environ["{token[1:]}"]}}',
        )
    else:
        imports, auth = "import requests", f', headers={{"Authorization": "Bearer {token}"}}'
    return f'''{imports}

application = {json.dumps(payload, indent=4, ensure_ascii=False)}
response = requests.post("{url}", json=application, timeout=10{auth})
print(response.status_code)
print(response.json())
'''


def validation_errors(result: CallResult) -> list[dict[str, str]]:
    """The field errors of a 422 answer, flattened for a table: where, what, message, input."""
    detail = result.body.get("detail") if isinstance(result.body, dict) else None
    if not isinstance(detail, list):
        return []
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", []) if p != "body"),
            "type": str(e.get("type", "")),
            "message": str(e.get("msg", "")),
            "input": json.dumps(e.get("input"), ensure_ascii=False),
        }
        for e in detail
    ]


def sample_applications(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` realistic applications from the generated twin (nulls where the data has missing values)."""
    from workbench.core.data import FEATURES, generate_loan_data

    frame = generate_loan_data(max(n, 1), seed=seed)[list(FEATURES)]
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for record in records:
        if record["Credit_History"] is not None:
            record["Credit_History"] = int(record["Credit_History"])
    return records[:n]


def load_test(
    n_requests: int, concurrency: int, settings: Settings | None = None, progress=None, learner: str | None = None
):
    """Send `n_requests` realistic applications to /predict from `concurrency` connections.

    Args:
        learner: in class mode, load `learner`'s own route (their model), never the class-wide /predict.
    """
    from workbench.core.loadtest import json_bodies, run_load

    settings = settings or get_settings()
    bodies = json_bodies(sample_applications(min(n_requests, 500), seed=1))
    url = api_url(settings) + learner_path("/predict", learner, settings)
    return run_load(url, bodies, n_requests, concurrency, progress=progress, headers=auth_headers(settings))


@dataclass(frozen=True)
class SingleVsBatch:
    """The same rows scored one request at a time and in one batch request."""

    rows: int
    single_seconds: float
    batch_seconds: float

    @property
    def speedup(self) -> float:
        """How many times faster the batch is."""
        return self.single_seconds / self.batch_seconds if self.batch_seconds > 0 else float("inf")


def single_vs_batch(rows: int, settings: Settings | None = None, learner: str | None = None) -> SingleVsBatch:
    """Time `rows` applications sent one by one (one connection) and as one /predict/batch call.

    Args:
        learner: in class mode, call `learner`'s own routes (their model), never the class-wide ones.

    Raises:
        ServiceError (a RuntimeError): the API answered an error.
    """
    from workbench.core.loadtest import json_bodies, run_load

    settings = settings or get_settings()
    applications = sample_applications(rows, seed=2)
    headers = auth_headers(settings)
    url = api_url(settings)
    single = run_load(
        url + learner_path("/predict", learner, settings), json_bodies(applications), rows, 1, headers=headers
    )
    if single.ok != rows:
        raise services.ServiceError("single_requests_failed", n=rows - single.ok)
    batch_url = url + learner_path("/predict/batch", learner, settings)
    batch = run_load(batch_url, json_bodies([applications]), 1, 1, headers=headers)
    if batch.ok != 1:
        raise services.ServiceError("batch_request_failed")
    return SingleVsBatch(rows, single.seconds, batch.seconds)
