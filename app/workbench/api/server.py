"""Run the API with uvicorn, hardened: header timeout, concurrency cap, forwarded headers only from trusted
proxies, bounded MLflow retries.

- Header timeout (`WORKBENCH_API_HEADER_TIMEOUT`, 10 s): a connection that has not finished sending a
  request's headers in time is closed. uvicorn has no such setting (only the keep-alive timeout between
  requests), so a client sending one byte a minute would hold a connection forever.
- Body timeout (`WORKBENCH_API_BODY_TIMEOUT`, 30 s): enforced by `GuardMiddleware` (408).
- `limit_concurrency` (`WORKBENCH_API_LIMIT_CONCURRENCY`, 200): beyond that many connections and requests
  in progress, uvicorn answers 503 at once instead of queueing without bound.
- Forwarded headers (`X-Forwarded-For`) change the client address only when they come from an address in
  `WORKBENCH_API_TRUSTED_PROXIES` (empty by default: none). uvicorn trusts 127.0.0.1 by default, which let
  any local client invent a new address per request and dodge the rate limit.
- MLflow's HTTP client retries 7 times with backoff (minutes) against an unreachable tracking server; the
  API lowers that (`MLFLOW_HTTP_REQUEST_MAX_RETRIES`, `MLFLOW_HTTP_REQUEST_TIMEOUT`, unless set) since it
  keeps serving and retries at every poll anyway.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import uvicorn

from workbench.core.settings import Settings

#: MLflow settings for the API process (the environment wins when it sets them): few HTTP retries, short
#: timeout, no download progress bar in the log.
MLFLOW_DEFAULTS: dict[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


class _HeaderTimeout:
    """Mixin for uvicorn's HTTP protocols: close a connection whose request headers take too long."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        waiting = self._waiting_for_headers()
        before = self.cycle  # type: ignore[attr-defined]
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not before:  # type: ignore[attr-defined]
            self._cancel_header_timer()  # a request's headers are complete
        elif waiting and self._header_timer is None:
            self._arm_header_timer()  # bytes of a next request on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _waiting_for_headers(self) -> bool:
        cycle = self.cycle  # type: ignore[attr-defined]
        return cycle is None or cycle.response_complete

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout_expired)  # type: ignore[attr-defined]

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout_expired(self) -> None:
        self._header_timer = None
        transport = self.transport  # type: ignore[attr-defined]
        if self._waiting_for_headers() and not transport.is_closing():
            transport.close()


class OneWritePerResponse:
    """A transport that sends everything written to it during one event-loop step in one `write`.

    uvicorn writes a response's head and its body separately: two system calls and two TCP segments (the
    client wakes up twice) for a body of a few hundred bytes, which cost more than a compiled prediction.
    Both writes happen in the same step of the loop, so they leave together at the end of it; nothing is
    held longer. Everything else is the wrapped transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Queue `data`; it is sent at the end of this loop step, with whatever else was written in it."""
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks) -> None:
        """Queue each chunk (see `write`)."""
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        """Send what is queued, then close."""
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _OneWritePerResponse:
    """Mixin for uvicorn's HTTP protocols: the transport they write to is a `OneWritePerResponse`."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerResponse(transport, asyncio.get_running_loop()))  # type: ignore[misc]


def protocol_class(header_timeout: float) -> type:
    """uvicorn's HTTP protocol (httptools when installed, else h11) with the header timeout."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:  # httptools is optional
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base
    return type("GuardedHttpProtocol", (_HeaderTimeout, _OneWritePerResponse, Base), {"header_timeout": header_timeout})


def trusted_proxies(settings: Settings) -> list[str]:
    """The proxies whose forwarded headers are believed (IPs or CIDR networks); empty: none."""
    return [p.strip() for p in settings.api_trusted_proxies.split(",") if p.strip()]


def uvicorn_config(app: Any, settings: Settings, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """The uvicorn configuration of the API (see the module docstring for each protection)."""
    proxies = trusted_proxies(settings)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=protocol_class(settings.api_header_timeout),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        limit_concurrency=settings.api_limit_concurrency or None,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
    )


def serve(settings: Settings, host: str, port: int, log_level: str = "info") -> None:
    """Run the API until interrupted."""
    from workbench.api import create_app

    for name, value in MLFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)
    uvicorn.Server(uvicorn_config(create_app(settings, host=host), settings, host, port, log_level)).run()
