"""Protections of the API: per-client rate limit (429 + Retry-After), request body size cap (413) and body
timeout (408), as one pure ASGI middleware that also records the request metrics; the admin check of
/reload and /recent_inputs.

The client of a request is the peer address uvicorn reports: `X-Forwarded-For` is believed only from the
proxies listed in `WORKBENCH_API_TRUSTED_PROXIES` (see `workbench.api.server`), so a client cannot pick a
new address per request to dodge the limit.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
import threading
import time

from starlette.requests import ClientDisconnect

from workbench.api.monitoring import ApiMetrics
from workbench.core.settings import learner_key

LIMITED_PREFIXES = ("/predict",)
#: Class mode: `/learners/{learner}/predict…` is limited per learner (see `workbench.api.learners`).
LEARNERS_PREFIX = "/learners/"


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

    def acquire(self, client: str, now: float | None = None, cost: float = 1.0) -> float:
        """Take `cost` tokens for `client` (a batch costs its rows). Returns 0 if allowed, else the seconds
        to wait before retrying."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= cost:
                self._buckets[client] = (tokens - cost, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget idle clients
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60}
            return (cost - tokens) / self.rate


def learner_bucket(learner: str) -> str:
    """The rate-limit bucket of a learner (the same for every spelling FastAPI decodes to that name)."""
    return f"learner:{learner_key(learner)}"


def client_key(scope) -> str:
    """Who a request comes from, for the rate limit: the peer address (see the module docstring)."""
    return (scope.get("client") or ("unknown", 0))[0]


class GuardMiddleware:
    """Rate limit, body size cap, body timeout and request metrics around the FastAPI app."""

    def __init__(
        self,
        app,
        *,
        metrics: ApiMetrics,
        limiter: RateLimiter,
        max_body: int,
        body_timeout: float = 30.0,
        learner_limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limiter = limiter
        self.learner_limiter = learner_limiter
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        endpoint = self.metrics.endpoint_label(scope["path"])
        state = {"code": 500, "started": False, "refused": False}

        async def send_wrapper(message) -> None:
            if state["refused"]:  # we already answered (413/408 while the body streamed): drop the app's answer
                return
            if message["type"] == "http.response.start":
                state["code"], state["started"] = message["status"], True
            await send(message)

        async def refuse(status: int, detail: str) -> None:
            """Answer now, while the app is still reading the body; the app then sees a disconnect."""
            if not state["started"]:
                await _json(send_wrapper, status, {"detail": detail}, {"connection": "close"})
            state["refused"] = True

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _json(send_wrapper, *refusal)
                return
            await self.app(scope, self._capped(receive, refuse), send_wrapper)
        except ClientDisconnect:
            if not state["refused"]:  # a real disconnect; ours (after a 413/408) is expected
                raise
        finally:
            self.metrics.observe_request(endpoint, scope["method"], state["code"], time.perf_counter() - start)

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
        limiter, key = self._bucket(scope["path"], scope)
        if limiter is not None:
            wait = limiter.acquire(key)
            if wait > 0:
                self.metrics.rate_limited.inc()
                retry = str(max(1, math.ceil(wait)))
                return 429, {"detail": f"rate limit exceeded: retry in {retry} s"}, {"retry-after": retry}
        return None

    def _bucket(self, path: str, scope) -> tuple[RateLimiter | None, str]:
        """Which limiter and bucket a request is charged to: its client for /predict…, its learner for
        /learners/{learner}/predict… (class mode); none for the rest."""
        if path.startswith(LIMITED_PREFIXES):
            return (self.limiter if self.limiter.enabled else None), client_key(scope)
        limiter = self.learner_limiter
        if limiter is not None and limiter.enabled and path.startswith(LEARNERS_PREFIX):
            learner, _, rest = path[len(LEARNERS_PREFIX) :].partition("/")
            if rest.startswith("predict"):
                return limiter, learner_bucket(learner)
        return None, ""

    def _capped(self, receive, refuse):
        """`receive` with the body size cap (413) and the body timeout (408) enforced while the body streams."""
        received = 0
        deadline = time.monotonic() + self.body_timeout
        complete = refused = False
        disconnect = {"type": "http.disconnect"}

        async def wrapper():
            nonlocal received, complete, refused
            if refused:
                return disconnect
            if complete:  # after the body: waiting for a disconnect is not limited
                return await receive()
            try:  # asyncio.timeout, not wait_for: no task created per message
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                await refuse(408, f"request body not received within {self.body_timeout:g} s")
                refused = True
                return disconnect
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    await refuse(413, f"request body larger than {self.max_body} bytes")
                    refused = True
                    return disconnect
                complete = not message.get("more_body", False)
            return message

        return wrapper


def is_loopback(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1; False for 0.0.0.0, other addresses and host names."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def admin_refusal(headers, server: tuple | None, token: str, exposed: bool) -> tuple[int, str] | None:
    """Why an admin request (/reload, /recent_inputs) is refused, or None when allowed.

    Allowed with `Authorization: Bearer <WORKBENCH_API_ADMIN_TOKEN>`. Without a token configured, allowed
    only when the API listens on loopback and the request does not come from a web page (no `Origin`
    header, no cross-site `Sec-Fetch-Site`): a page a learner visits cannot fire it through their browser.
    """
    supplied = headers.get("authorization", "")
    supplied = supplied[7:].strip() if supplied.lower().startswith("bearer ") else ""
    if token:
        if supplied and hmac.compare_digest(supplied.encode(), token.encode()):
            return None
        return 401, "this endpoint needs the admin token: Authorization: Bearer <WORKBENCH_API_ADMIN_TOKEN>"
    host = server[0] if server else None
    if exposed or (host is not None and _is_ip(host) and not is_loopback(host)):
        return 403, (
            "this endpoint is disabled: the API is reachable from other machines and "
            "WORKBENCH_API_ADMIN_TOKEN is not set"
        )
    if headers.get("origin") or headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
        return 403, "this endpoint cannot be called from a web page: use curl, the workbench, or the admin token"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def _json(send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
