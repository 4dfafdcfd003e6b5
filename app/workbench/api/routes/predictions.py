"""POST /predict, /predict_status and /predict/batch: score applications with the served model."""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at run time.

import math
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from workbench.api.batch_parsing import BatchError, body_error, decode_csv, parse_csv_batch, parse_json_batch
from workbench.api.errors import invalid
from workbench.api.lean import LeanJsonRoute
from workbench.api.limits import RateLimiter, client_key
from workbench.api.models import LoadedModel
from workbench.api.monitoring import RecentInputs
from workbench.api.schemas import BatchPrediction, LoanApplication, Prediction, Status
from workbench.api.service import ApiState


#: The request body of /predict/batch as OpenAPI shows it (the endpoint reads the body itself).
def batch_openapi(max_batch: int) -> dict[str, Any]:
    """The `requestBody` of /predict/batch: a JSON list, a CSV upload, or a CSV body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/LoanApplication"},
                        "maxItems": max_batch,
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }


def label(response: Response, model: LoadedModel) -> None:
    """The model's version and source as response headers."""
    response.headers["X-Model-Version"] = model.version
    response.headers["X-Model-Source"] = model.source


async def read_batch(request: Request, max_batch: int) -> list[LoanApplication] | JSONResponse:
    """The applications of a batch request (JSON list, CSV upload or CSV body), or a 415 answer."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            return parse_json_batch(await request.body(), max_batch)
        if content_type in ("multipart/form-data", "text/csv", "application/csv"):
            return parse_csv_batch(decode_csv(await _csv_bytes(request, content_type)), max_batch)
    except BatchError as exc:
        raise invalid(exc.errors) from None
    return JSONResponse(
        status_code=415,
        content={"detail": "send a JSON list (application/json) or a CSV file (multipart/form-data or text/csv)"},
    )


async def _csv_bytes(request: Request, content_type: str) -> bytes:
    if content_type != "multipart/form-data":
        return await request.body()
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception as exc:  # malformed multipart: the client's fault
        raise BatchError([body_error("multipart", f"malformed multipart body: {exc}")]) from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise BatchError([body_error("missing", "upload the CSV file in a form field named 'file'", "file")])
    return await upload.read()


def charge_rows(state: ApiState, limiter: RateLimiter, key: str, rows: int) -> JSONResponse | None:
    """Under a rate limit a batch costs one token per row (the middleware took one for the request)."""
    if not limiter.enabled or rows <= 1:
        return None
    if rows > limiter.burst:
        raise invalid(
            [
                body_error(
                    "too_long",
                    f"at most {limiter.burst} applications per batch while the rate "
                    f"limit is on ({limiter.rate:g}/s, burst {limiter.burst}): got {rows}",
                )
            ]
        )
    wait = limiter.acquire(key, cost=rows - 1)
    if wait <= 0:
        return None
    state.metrics.rate_limited.inc()
    retry = str(max(1, math.ceil(wait)))
    return JSONResponse(
        status_code=429,
        headers={"retry-after": retry},
        content={"detail": f"rate limit exceeded: a batch of {rows} rows costs {rows} requests; retry in {retry} s"},
    )


async def score_batch(
    state: ApiState, model: LoadedModel, applications: list[LoanApplication], recent: RecentInputs
) -> dict[str, Any]:
    """The answer of /predict/batch for validated applications."""
    answers = await state.score(model, [a.features() for a in applications], recent)
    for answer, application in zip(answers, applications):
        answer["Loan_ID"] = application.Loan_ID
    return {"predictions": answers, "count": len(answers), "model_version": model.version, "model_source": model.source}


def router(state: ApiState, lean: bool = True) -> APIRouter:
    """The prediction endpoints of the solo API (the served model, rate limited per client).

    `lean`: /predict and /predict_status through `LeanJsonRoute` (same answers, less overhead per request).
    """
    routes = APIRouter(tags=["predictions"])
    recent = state.metrics.recent
    route_class = LeanJsonRoute if lean else APIRoute

    async def predict(application: LoanApplication, response: Response) -> dict:
        """Score one application: `prediction` (Y/N), `label`, `probability` of approval, `model_version`,
        `model_source` (`fallback` when no registry model could be loaded yet)."""
        model = state.served()
        answers = await state.score(model, [application.features()], recent)
        label(response, model)
        return {**answers[0], "Loan_ID": application.Loan_ID}

    async def predict_status(application: LoanApplication, response: Response) -> dict:
        """The course's historical endpoint: same body as /predict, answers `{"status": "Approved"|"Rejected"}`
        (the model's version and source are in the `X-Model-Version` and `X-Model-Source` headers)."""
        model = state.served()
        answers = await state.score(model, [application.features()], recent)
        label(response, model)
        return {"status": answers[0]["label"]}

    routes.add_api_route(
        "/predict", predict, methods=["POST"], response_model=Prediction, route_class_override=route_class
    )
    routes.add_api_route(
        "/predict_status", predict_status, methods=["POST"], response_model=Status, route_class_override=route_class
    )

    @routes.post(
        "/predict/batch", response_model=BatchPrediction, openapi_extra=batch_openapi(state.settings.api_max_batch)
    )
    async def predict_batch(request: Request, response: Response) -> Any:
        """Score up to `max_batch` applications: a JSON list, or a CSV file (upload or text/csv body) with
        the course's columns (Loan_ID and Loan_Status optional, ignored by the model), separated by `,` or
        `;` (French Excel: decimal commas are read too). Under a rate limit, each row costs one request."""
        applications = await read_batch(request, state.settings.api_max_batch)
        if isinstance(applications, JSONResponse):
            return applications
        refusal = charge_rows(state, state.limiter, client_key(request.scope), len(applications))
        if refusal is not None:
            return refusal
        model = state.served()
        answer = await score_batch(state, model, applications, recent)
        label(response, model)
        return answer

    return routes
