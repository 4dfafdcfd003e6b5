"""The API's hot path, /predict and /predict_status, without FastAPI's and Starlette's per-request machinery.

A compiled model answers in tens of microseconds; FastAPI's generic request handler (dependency solving,
telemetry hooks, content-type parsing through `email.message`) and Starlette's routing (a regex per route,
a `Request` object, the exception and exit-stack middlewares) cost more than the prediction. Two layers:

- `LeanJsonRoute`, FastAPI's documented extension point (a custom `APIRoute` with its own
  `get_route_handler`) for endpoints declared as `(body: Model, response: Response)`: it reads and
  validates the body with the route's own body field and serializes the answer with the route's own
  response field, so the answers, the 422 errors (located at `body`, then the field), the headers and the
  OpenAPI schema are FastAPI's, byte for byte.
- `DirectRoutes`, a pure ASGI middleware placed inside the API's own middlewares (rate limit, body caps,
  metrics, CORS: they all still run) and in front of Starlette's routing: a POST to a `LeanJsonRoute` is
  answered there by that same route's code. Anything else, and every request whose body the route refuses
  (not JSON, invalid, too big, a disconnect), goes on to the router with the body it sent, so errors are
  exactly the standard ones; an error raised by the endpoint goes to the app's exception handlers.
`tests/api/test_lean.py` compares all three paths on hostile bodies (status, body bytes, headers).
"""

from __future__ import annotations

import email.message
import inspect
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import lru_cache
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dependant = self.dependant
        others = (
            dependant.path_params,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.dependencies,
        )
        if len(dependant.body_params) != 1 or any(others) or dependant.request_param_name or not self.response_field:
            raise TypeError(f"{self.path}: LeanJsonRoute takes one body model, `response`, and a response_model")
        self.body_field = dependant.body_params[0]

    def parse(self, raw: bytes, content_type: str | None) -> Any:
        """The validated body, as FastAPI reads it. Raises `RequestValidationError` (a 422) like FastAPI."""
        body: Any = raw
        if not raw:
            raise RequestValidationError([dict(MISSING_BODY)])
        if is_json(content_type):
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as exc:
                error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}}
                raise RequestValidationError([{**error, "ctx": {"error": exc.msg}}], body=exc.doc) from exc
            except Exception as exc:  # e.g. bytes that are not UTF-8: FastAPI answers the same
                raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
        value, errors = self.body_field.validate(body, {}, loc=("body",))
        if errors:
            raise RequestValidationError(errors, body=body)
        return value

    async def answer(self, value: Any) -> Response:
        """The endpoint's answer for a validated body, serialized by the route's response field."""
        headers = Response()
        del headers.headers["content-length"]
        values = {self.body_field.name: value}
        response_name = self.dependant.response_param_name
        if response_name:
            values[response_name] = headers
        answer = await self.endpoint(**values)
        if isinstance(answer, Response):
            return answer
        assert self.response_field is not None  # checked in __init__
        checked, errors = self.response_field.validate(answer, {}, loc=("response",))
        if errors:  # our own bug: FastAPI raises ResponseValidationError (a 500) too
            raise RuntimeError(f"{self.path} answered a body that does not match its response model: {errors}")
        content = self.response_field.serialize_json(checked, by_alias=True)
        response = Response(content=content, media_type="application/json", status_code=self.status_code or 200)
        response.headers.raw.extend(headers.headers.raw)
        return response

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def handler(request: Request) -> Response:
            try:
                raw = await request.body()
            except Exception as exc:  # a disconnect while reading: FastAPI answers the same
                raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
            return await self.answer(self.parse(raw, request.headers.get("content-type")))

        return handler


class DirectRoutes:
    """Pure ASGI: answer POSTs to the given `LeanJsonRoute`s without Starlette's routing (see the module
    docstring); everything else goes on to `app` unchanged.

    Args:
        app: the next ASGI app (the exception middleware and the router).
        routes: the routes answered here; the application must match no other route first for a POST to
            their path (`create_app` includes them first; `tests/api/test_lean.py` compares the answers).
        exception_handlers: the application's exception handlers (`FastAPI.exception_handlers`).
    """

    def __init__(self, app: Any, routes: Sequence[LeanJsonRoute], exception_handlers: Mapping[Any, Callable]) -> None:
        self.app = app
        self._routes = {route.path: route for route in reversed(routes) if "POST" in route.methods}
        self._handlers = exception_handlers

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        route = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            route = self._routes.get(scope["path"])  # under a root path, Starlette matches
        if route is None:
            await self.app(scope, receive, send)
            return
        messages, chunks = [], []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # a disconnect (or a refusal by the body caps)
                await self.app(scope, _replay(messages, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        content_type = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break
        try:
            value = route.parse(b"".join(chunks), content_type)
        except Exception:  # noqa: BLE001 - refused: the standard path answers (same status, body, headers)
            await self.app(scope, _replay(messages, receive), send)
            return
        try:
            response = await route.answer(value)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            request = Request(scope, _replay(messages, receive))
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable | None:
        """The app's handler for `exc`, chosen as Starlette's exception middleware chooses it."""
        if isinstance(exc, HTTPException) and exc.status_code in self._handlers:
            return self._handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self._handlers:
                return self._handlers[cls]
        return None


def _replay(messages: list[dict], receive: Callable) -> Callable:
    """`receive` that gives `messages` again first."""
    pending = list(messages)

    async def replayed() -> dict:
        return pending.pop(0) if pending else await receive()

    return replayed
