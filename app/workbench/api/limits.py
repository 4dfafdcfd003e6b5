"""Protections of the API: per-client rate limit (429 + Retry-After) and request body size cap (413),
as one pure ASGI middleware that also records the request metrics."""

from __future__ import annotations

import json
import math
import threading
import time

from workbench.api.monitoring import ApiMetrics

LIMITED_PREFIXES = ("/predict",)


class RateLimiter:
    """A token bucket per client: `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the rate is 0 (no limit)."""
        return self.rate > 0

    def acquire(self, client: str, now: float | None = None) -> float:
        """Take a token for `client`. Returns 0 if allowed, else the seconds to wait before retrying."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget idle clients
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
            return (1 - tokens) / self.rate


class GuardMiddleware:
    """Rate limit, body size cap and request metrics around the FastAPI app."""

    def __init__(self, app, *, metrics: ApiMetrics, limiter: RateLimiter, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.limiter = limiter
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        endpoint = self.metrics.endpoint_label(scope["path"])
        status = {"code": 500}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _json(send_wrapper, *refusal)
                return
            await self.app(scope, self._capped(receive, send_wrapper), send_wrapper)
        except _TooLarge:
            await _json(send_wrapper, 413, {"detail": f"request body larger than {self.max_body} bytes"})
        finally:
            self.metrics.requests.labels(endpoint, scope["method"], str(status["code"])).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)

    def _refusal(self, scope) -> tuple[int, dict, dict[str, str]] | None:
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                return 400, {"detail": "invalid Content-Length header"}, {}
            if too_big:
                return 413, {"detail": f"request body larger than {self.max_body} bytes"}, {}
        if self.limiter.enabled and scope["path"].startswith(LIMITED_PREFIXES):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limiter.acquire(client)
            if wait > 0:
                self.metrics.rate_limited.inc()
                retry = str(max(1, math.ceil(wait)))
                return 429, {"detail": f"rate limit exceeded: retry in {retry} s"}, {"retry-after": retry}
        return None

    def _capped(self, receive, send):
        received = 0
        limit = self.max_body

        async def wrapper():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        return wrapper


class _TooLarge(Exception):
    """The body grew past the cap while streaming (no Content-Length announced)."""


async def _json(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
