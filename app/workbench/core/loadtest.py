"""A small HTTP load client: N requests with C concurrent connections, latency of each request.

Used by the chapter VII page (load test of the local API) and by benchmarks/api.py (the same client
against this API and `mlflow models serve`). Each worker keeps one HTTP/1.1 keep-alive connection
(`http.client`, the lightest client in the standard library, so the client costs little CPU).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np


@dataclass(frozen=True)
class LoadTestResult:
    """Latencies (milliseconds) of every request, status codes, and wall time."""

    latencies_ms: np.ndarray
    statuses: dict[int, int]
    errors: int  # connection errors (no HTTP answer)
    seconds: float
    concurrency: int

    @property
    def requests(self) -> int:
        """Requests sent."""
        return len(self.latencies_ms) + self.errors

    @property
    def ok(self) -> int:
        """Requests answered 2xx."""
        return sum(n for code, n in self.statuses.items() if 200 <= code < 300)

    @property
    def throughput(self) -> float:
        """Requests per second over the whole test."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds (e.g. q=95)."""
        return float(np.percentile(self.latencies_ms, q)) if len(self.latencies_ms) else float("nan")


def run_load(
    url: str,
    bodies: Sequence[bytes],
    n_requests: int,
    concurrency: int,
    *,
    timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    headers: dict[str, str] | None = None,
) -> LoadTestResult:
    """POST `n_requests` JSON bodies (cycling through `bodies`) to `url` from `concurrency` workers.

    Args:
        headers: sent with every request besides the JSON content type (e.g. `Authorization`).
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    done = 0
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def worker() -> None:
        nonlocal errors, done
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
        sent = {"Content-Type": "application/json", **(headers or {})}
        local_latencies: list[float] = []
        local_statuses: Counter[int] = Counter()
        local_errors = 0
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                start = time.perf_counter()
                try:
                    connection.request("POST", path, body=bodies[i % len(bodies)], headers=sent)
                    response = connection.getresponse()
                    response.read()
                    local_latencies.append((time.perf_counter() - start) * 1000)
                    local_statuses[response.status] += 1
                    if response.getheader("connection", "").lower() == "close":
                        connection.close()
                except (OSError, http.client.HTTPException):
                    local_errors += 1
                    connection.close()
                with lock:
                    done += 1
        finally:
            connection.close()
            with lock:
                latencies.extend(local_latencies)
                statuses.update(local_statuses)
                errors += local_errors

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(worker) for _ in range(concurrency)]
        # Progress is reported from the calling thread (UI libraries such as Streamlit need that).
        while progress is not None and wait(futures, timeout=0.2).not_done:
            progress(done, n_requests)
        for future in futures:
            future.result()
    seconds = time.perf_counter() - start
    if progress is not None:
        progress(done, n_requests)
    return LoadTestResult(np.array(latencies), dict(statuses), errors, seconds, concurrency)


def json_bodies(payloads: Sequence[object]) -> list[bytes]:
    """Encode payloads once, up front (the client must not spend its time in json.dumps)."""
    return [json.dumps(p).encode() for p in payloads]


def latency_histogram_figure(result: LoadTestResult, lang: str):
    """Histogram of latencies with p50, p95 and p99 marked."""
    import plotly.graph_objects as go

    from workbench.core.formatting import localize_figure, milliseconds
    from workbench.core.i18n import translate

    fig = go.Figure(go.Histogram(x=result.latencies_ms, nbinsx=60, marker_color="#4c78a8"))
    for q, color in ((50, "#2a9d8f"), (95, "#e9c46a"), (99, "#e76f51")):
        value = result.percentile(q)
        fig.add_vline(
            x=value,
            line_dash="dash",
            line_color=color,
            annotation_text=f"p{q} = {milliseconds(value, lang, 1)}",
            annotation_position="top",
        )
    fig.update_layout(
        xaxis_title=translate("api.latency_ms", lang),
        yaxis_title=translate("api.requests", lang),
        height=340,
        margin={"t": 40, "b": 10},
        bargap=0.05,
    )
    return localize_figure(fig, lang)
