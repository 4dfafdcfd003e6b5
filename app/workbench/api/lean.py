"""`LeanJsonRoute`: FastAPI's answer for a one-JSON-body endpoint, without its per-request machinery.

/predict is the API's hot path: a compiled model answers in tens of microseconds, and FastAPI's generic
request handler (dependency solving, telemetry hooks, content-type parsing through `email.message`) cost
more than the prediction. This route class is FastAPI's documented extension point (a custom `APIRoute`
with its own `get_route_handler`) for endpoints declared as `(body: Model, response: Response)`: it reads
and validates the body with the route's own body field and serializes the answer with the route's own
response field, so the answers, the 422 errors (located at `body`, then the field), the headers and the
OpenAPI schema are FastAPI's, byte for byte (`tests/api/test_lean.py` compares both on hostile bodies).
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from functools import lru_cache
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

#: FastAPI's error for a required body that was not sent.
MISSING_BODY = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}


@lru_cache(maxsize=64)
def is_json(content_type: str | None) -> bool:
    """FastAPI's rule, read the same way (`email.message`): `application/json` or `application/*+json`.
    Cached: clients send the same few values, and parsing one costs more than a compiled prediction."""
    if not content_type:
        return False  # FastAPI's strict content type (its default): a body without one is not JSON
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class LeanJsonRoute(APIRoute):
    """An APIRoute for endpoints whose parameters are one JSON body model and, optionally, `response`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        (body_field,) = dependant.body_params
        others = (
            dependant.path_params,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.dependencies,
        )
        if any(others) or dependant.request_param_name or self.response_field is None:
            raise TypeError(f"{self.path}: LeanJsonRoute takes one body model, `response`, and a response_model")
        endpoint, body_name, response_name = self.endpoint, body_field.name, dependant.response_param_name
        response_field, status_code = self.response_field, self.status_code

        async def handler(request: Request) -> Response:
            try:
                raw = await request.body()
                body: Any = raw
                if not raw:
                    body = None
                elif is_json(request.headers.get("content-type")):
                    body = json.loads(raw)
            except json.JSONDecodeError as exc:
                error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}}
                raise RequestValidationError([{**error, "ctx": {"error": exc.msg}}], body=exc.doc) from exc
            except Exception as exc:  # a disconnect while reading: FastAPI answers the same
                raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
            if body is None and not raw:
                raise RequestValidationError([dict(MISSING_BODY)])
            value, errors = body_field.validate(body, {}, loc=("body",))
            if errors:
                raise RequestValidationError(errors, body=body)
            headers = Response()
            del headers.headers["content-length"]
            values = {body_name: value}
            if response_name:
                values[response_name] = headers
            answer = await endpoint(**values)
            if isinstance(answer, Response):
                return answer
            checked, errors = response_field.validate(answer, {}, loc=("response",))
            if errors:  # our own bug: FastAPI raises ResponseValidationError (a 500) too
                raise RuntimeError(f"{self.path} answered a body that does not match its response model: {errors}")
            content = response_field.serialize_json(checked, by_alias=True)
            response = Response(content=content, media_type="application/json", status_code=status_code or 200)
            response.headers.raw.extend(headers.headers.raw)
            return response

        return handler
