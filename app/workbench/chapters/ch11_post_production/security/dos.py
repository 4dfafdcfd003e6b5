"""Denial of service: the API's request size cap and its rate limiter, probed for real."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from workbench.chapters.ch11_post_production.security.victim import Progress, SecurityError, _report
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# Denial of service: the API's request size cap and rate limiter
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DosProbe:
    """What the API answered to an oversize request and to a burst."""

    kind: str  # "oversize" | "burst"
    sent: int
    statuses: dict[int, int]  # HTTP status → count
    bytes_sent: int
    seconds: float


def oversize_probe(settings: Settings) -> DosProbe:
    """POST a batch bigger than the API's body cap (expected: 413 before anything is parsed)."""
    from workbench.core import api_client

    one = json.dumps(api_client.EXAMPLE_APPLICATION).encode()
    count = settings.api_max_body_bytes // (len(one) + 1) + 10
    body = b"[" + b",".join([one] * count) + b"]"
    start = time.monotonic()
    result = api_client.call(
        "POST", "/predict/batch", data=body, headers={"Content-Type": "application/json"}, settings=settings, timeout=60
    )
    return DosProbe("oversize", 1, {result.status_code or 0: 1}, len(body), time.monotonic() - start)


def burst_probe(settings: Settings, n: int = 60, progress: Progress = None) -> DosProbe:
    """Send `n` predictions back to back from one client and count the answers (429 = rate limited)."""
    from workbench.core import api_client

    if not 1 <= n <= 2000:
        raise SecurityError("err_burst_size")
    statuses: dict[int, int] = {}
    start = time.monotonic()
    for i in range(n):
        code = api_client.predict(api_client.EXAMPLE_APPLICATION, settings=settings).status_code or 0
        statuses[code] = statuses.get(code, 0) + 1
        _report(progress, (i + 1) / n)
    size = len(json.dumps(api_client.EXAMPLE_APPLICATION).encode()) * n
    return DosProbe("burst", n, dict(sorted(statuses.items())), size, time.monotonic() - start)


def rate_limit_env(rate: float, burst: int) -> dict[str, str]:
    """Environment variables that start the API with a per-client rate limit (0 = off)."""
    return {"WORKBENCH_API_RATE_LIMIT": f"{max(0.0, rate):g}", "WORKBENCH_API_RATE_BURST": str(max(1, int(burst)))}


def restart_api(settings: Settings, rate: float = 0.0, burst: int = 20):
    """Stop the local API (if the workbench started it) and start it again with this rate limit."""
    from workbench.core import api_client

    api_client.stop(settings)
    return api_client.start(settings, env=rate_limit_env(rate, burst))
