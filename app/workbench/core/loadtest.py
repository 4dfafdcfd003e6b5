"""A small HTTP load client: N requests with C concurrent connections, latency of each request.

Used by the chapter VII page (load test of the local API) and by benchmarks/api.py (the same client
against this API and `mlflow models serve`). Each worker keeps one HTTP/1.1 keep-alive connection
(`http.client`, the lightest client in the standard library, so the client costs little CPU).
"""

from __future__ import annotations

import http.client
import json
import socket
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


class _RawConnection:
    """One keep-alive HTTP/1.1 connection on a plain socket: requests encoded once, up front; responses
    read by their `Content-Length` (or chunked encoding, or until the server closes)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address, self.timeout = (host, port), timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        """Close the socket (the next exchange reconnects)."""
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def exchange(self, request: bytes) -> int:
        """Send one request, read its whole response; returns the status code."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        end = self._until(b"\r\n\r\n")
        head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status = status_line.split(" ", 2)[:2]
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            self._body(int(headers["content-length"]))
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                end = self._until(b"\r\n")
                size = int(self.buffer[:end].split(b";")[0], 16)
                self.buffer = self.buffer[end + 2 :]
                self._body(size + 2)
                if size == 0:
                    break  # (trailers are not expected from these servers)
        elif int(status) >= 200 and int(status) not in (204, 304):
            while self._recv():  # no length: the body ends when the server closes
                pass
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
            self.close()
        return int(status)

    def _recv(self) -> bool:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def _until(self, marker: bytes) -> int:
        while (at := self.buffer.find(marker)) < 0:
            if not self._recv():
                raise ConnectionError("the server closed the connection mid-response")
        return at

    def _body(self, size: int) -> None:
        while len(self.buffer) < size:
            if not self._recv():
                raise ConnectionError("the server closed the connection mid-body")
        self.buffer = self.buffer[size:]


def run_raw_load(
    url: str, bodies: Sequence[bytes], n_requests: int, concurrency: int, *, timeout: float = 30.0
) -> LoadTestResult:
    """`run_load` with a lighter client: each request's bytes are built once and sent on a plain socket, so
    the client's own cost per request (tens of microseconds with `http.client`) hardly counts in the
    latency. For benchmarks comparing servers (`benchmarks/api.py`), where the client must weigh little."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
        + body
        for body in bodies
    ]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def worker() -> None:
        nonlocal errors
        connection = _RawConnection(host, port, timeout)
        local_latencies: list[float] = []
        local_statuses: Counter[int] = Counter()
        local_errors = 0
        clock = time.perf_counter
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                start = clock()
                try:
                    status = connection.exchange(requests[i % len(requests)])
                    local_latencies.append((clock() - start) * 1000)
                    local_statuses[status] += 1
                except (OSError, ValueError):
                    local_errors += 1
                    connection.close()
        finally:
            connection.close()
            with lock:
                latencies.extend(local_latencies)
                statuses.update(local_statuses)
                errors += local_errors

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return LoadTestResult(np.array(latencies), dict(statuses), errors, time.perf_counter() - start, concurrency)
