"""How the API says no: refusals with a plain message (401/403/404/429) and 422s that always encode."""

from __future__ import annotations

import math
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request


class Refused(Exception):
    """An HTTP refusal with a plain `detail` message (admin checks, rate limits, unknown learner)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def invalid(errors: list[dict[str, Any]]) -> RequestValidationError:
    """A 422 for these validation errors (each with `loc`, `type`, `msg`, `input`)."""
    return RequestValidationError(errors)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with each error's field; inputs made JSON-safe (NaN, Infinity, raw bytes) so it always encodes."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": [json_safe_error(e) for e in exc.errors()]})


async def refused(request: Request, exc: Exception) -> JSONResponse:
    """A refusal as `{"detail": ...}`, with its headers (Retry-After)."""
    assert isinstance(exc, Refused)
    return JSONResponse(status_code=exc.status, content={"detail": exc.detail}, headers=exc.headers)


def json_safe(value: Any) -> Any:
    """`value` with what JSON cannot carry made printable: NaN/Infinity as text, bytes decoded."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def json_safe_error(error: dict) -> dict:
    """One validation error, JSON-safe, without pydantic's documentation URL."""
    safe = {
        "type": error.get("type"),
        "loc": json_safe(list(error.get("loc", ()))),
        "msg": error.get("msg"),
        "input": json_safe(error.get("input")),
    }
    if "ctx" in error:
        safe["ctx"] = {k: json_safe(v) if isinstance(v, int | float | str) else str(v) for k, v in error["ctx"].items()}
    return safe
