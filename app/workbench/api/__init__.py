"""The local prediction API (FastAPI): serves the registry's `@production` model of the loan course.

Start it with `python -m workbench.api` (127.0.0.1:8000 by default; settings from WORKBENCH_API_* env vars).
Endpoints: GET /health, GET /model, POST /predict, POST /predict/batch (JSON list or CSV upload),
POST /predict_status (the course's historical endpoint), GET /metrics (Prometheus), POST /reload,
GET /recent_inputs; OpenAPI docs at /docs and /redoc. Nothing received is ever unpickled: JSON and CSV only.

What it refuses, and why: non-finite numbers (NaN, Infinity, 1e999) and NUL bytes (422 naming the field or
line); registry models that could run code when loaded (see `workbench.core.safe_models`: the last good model
keeps serving, `/health` says `degraded`); admin calls (/reload, /recent_inputs) without the admin token when
one is set or the API is reachable from other machines, and from web pages; clients over their rate limit
(a batch costs one token per row). Limits, timeouts and trusted proxies: `workbench.api.server`.
"""

import asyncio
import logging
import math
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import TypeAdapter, ValidationError

from workbench.api.docs import mount_offline_docs
from workbench.api.limits import GuardMiddleware, RateLimiter, admin_refusal, client_key, is_loopback
from workbench.api.models import LoadedModel, ModelManager
from workbench.api.monitoring import ApiMetrics
from workbench.api.schemas import BatchPrediction, Health, LoanApplication, ModelInfo, Prediction, Status
from workbench.core.settings import Settings, get_settings

log = logging.getLogger("workbench.api")
#: POST /reload: at most this many per second, all clients together (loading a model is heavy work)...
RELOAD_RATE = 0.2
#: ...with bursts up to this many.
RELOAD_BURST = 3

# Note: no `from __future__ import annotations` here — FastAPI reads the endpoint annotations at run time.


def create_app(
    settings: Settings | None = None, manager: ModelManager | None = None, host: str | None = None
) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: API settings (default: from the environment).
        manager: a `ModelManager` (tests pass their own); by default one on the settings' registry.
        host: the address the server listens on (default: `settings.api_host`); not loopback means the
            admin endpoints always need the admin token.
    """
    settings = settings or get_settings()
    manager = manager or ModelManager(settings)
    metrics = ApiMetrics()
    batch_adapter = TypeAdapter(list[LoanApplication])
    limiter = RateLimiter(settings.api_rate_limit, settings.api_rate_burst)
    reload_limiter = RateLimiter(RELOAD_RATE, RELOAD_BURST)
    exposed = not is_loopback(host or settings.api_host)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(manager.start)  # bounded by api_startup_seconds, then serves anyway
        _sync_model_info(manager.model)
        yield
        manager.stop_watching()

    app = FastAPI(
        title="MLOps Workbench — loan approval API",
        version="1.0",
        description=(
            f"Serves the model that the `@{settings.api_alias}` alias of the registered model `{settings.model_name}` points to "
            "(or a model trained at start-up when there is none). All inputs are JSON or CSV and validated "
            "field by field; errors are 422 responses that say which field is wrong and why."
        ),
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: served from local files by mount_offline_docs, not from a CDN
        redoc_url=None,
    )
    mount_offline_docs(app)
    app.state.manager = manager
    app.state.metrics = metrics
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.app_origins), allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    app.add_middleware(
        GuardMiddleware,
        metrics=metrics,
        limiter=limiter,
        max_body=settings.api_max_body_bytes,
        body_timeout=settings.api_body_timeout,
    )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with each error's field; inputs made JSON-safe (NaN, Infinity, raw bytes) so it always encodes."""
        return JSONResponse(status_code=422, content={"detail": [_json_safe_error(e) for e in exc.errors()]})

    bearer = HTTPBearer(auto_error=False, description="WORKBENCH_API_ADMIN_TOKEN")

    def require_admin(
        request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None
    ) -> None:
        """Admin endpoints: the token when set or when reachable from other machines; never from web pages."""
        refusal = admin_refusal(request.headers, request.scope.get("server"), settings.api_admin_token, exposed)
        if refusal is not None:
            raise _Refused(*refusal)

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused) -> JSONResponse:
        """A refusal (401/403/429) as `{"detail": ...}`, with its headers (Retry-After)."""
        return JSONResponse(status_code=exc.status, content={"detail": exc.detail}, headers=exc.headers)

    def _sync_model_info(model: LoadedModel) -> LoadedModel:
        metrics.set_model(model.name, model.version, model.alias, model.source)
        return model

    def _label(response: Response, model: LoadedModel) -> None:
        response.headers["X-Model-Version"] = model.version
        response.headers["X-Model-Source"] = model.source

    def _score(rows: list[dict[str, Any]]) -> tuple[LoadedModel, list[dict[str, Any]]]:
        model = _sync_model_info(manager.model)
        try:
            probabilities = model.predict_proba(rows)
        except Exception as exc:  # the served model cannot score this input (e.g. no imputer for a null)
            log.warning("model version %s failed on an input: %s", model.version, exc)
            nulls = sorted({k for row in rows for k, v in row.items() if v is None})
            where = f"; it may not handle missing values in: {', '.join(nulls)}" if nulls else ""
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "type": "model_error",
                        "input": None,
                        "msg": f"the served model (version {model.version}) could not score this input{where}",
                    }
                ]
            ) from None
        answers = []
        for probability in probabilities:
            approved = bool(probability >= 0.5)
            label = "Approved" if approved else "Rejected"
            metrics.predictions.labels(label).inc()
            answers.append(
                {
                    "prediction": "Y" if approved else "N",
                    "label": label,
                    "probability": round(float(probability), 6),
                    "model_version": model.version,
                    "model_source": model.source,
                }
            )
        metrics.recent.add(rows)
        return model, answers

    @app.get("/health", response_model=Health, tags=["operations"])
    async def health() -> dict:
        """Liveness and readiness: 200 when a model serves; `degraded` with `problems` when something needs
        attention (registry unreachable, a candidate refused, the alias removed)."""
        model, problems = manager.model, manager.problems()
        return {
            "status": "degraded" if problems else "ok",
            "model_loaded": True,
            "model_version": model.version,
            "model_source": model.source,
            "problems": problems,
        }

    @app.get("/model", response_model=ModelInfo, tags=["operations"])
    async def model_info() -> dict:
        """Which model is served: name, version, alias, run, source, training metrics, input schema."""
        return _model_info(manager.model)

    def _model_info(model: LoadedModel) -> dict:
        return {
            "name": model.name,
            "version": model.version,
            "alias": model.alias,
            "run_id": model.run_id,
            "source": model.source,
            "source_detail": model.source_detail,
            "loaded_at": model.loaded_at,
            "fast_path": model.compiled is not None,
            "metrics": {k: v for k, v in model.metrics.items() if math.isfinite(v)},
            "input_schema": LoanApplication.model_json_schema(),
            "refused": None if manager.refused is None else vars(manager.refused),
            "registry_problem": manager.registry_problem,
            "alias_missing": manager.alias_missing,
            "problems": manager.problems(),
        }

    @app.post("/predict", response_model=Prediction, tags=["predictions"])
    async def predict(application: LoanApplication, response: Response) -> dict:
        """Score one application: `prediction` (Y/N), `label`, `probability` of approval, `model_version`,
        `model_source` (`fallback` when no registry model could be loaded yet)."""
        model, answers = _score([application.features()])
        _label(response, model)
        return {**answers[0], "Loan_ID": application.Loan_ID}

    @app.post("/predict_status", response_model=Status, tags=["predictions"])
    async def predict_status(application: LoanApplication, response: Response) -> dict:
        """The course's historical endpoint: same body as /predict, answers `{"status": "Approved"|"Rejected"}`
        (the model's version and source are in the `X-Model-Version` and `X-Model-Source` headers)."""
        model, answers = _score([application.features()])
        _label(response, model)
        return {"status": answers[0]["label"]}

    @app.post(
        "/predict/batch",
        response_model=BatchPrediction,
        tags=["predictions"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/LoanApplication"},
                            "maxItems": settings.api_max_batch,
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
        },
    )
    async def predict_batch(request: Request, response: Response) -> dict:
        """Score up to `max_batch` applications: a JSON list, or a CSV file (upload or text/csv body) with
        the course's columns (Loan_ID and Loan_Status optional, ignored by the model), separated by `,` or
        `;` (French Excel: decimal commas are read too). Under a rate limit, each row costs one request."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            body = await request.body()
            try:
                applications = batch_adapter.validate_json(body)
            except ValidationError as exc:
                raise RequestValidationError(_located(exc.errors(include_url=False), "body")) from None
        elif content_type in ("multipart/form-data", "text/csv", "application/csv"):
            text = await _csv_text(request, content_type)
            applications = _parse_csv(text)
        else:
            return JSONResponse(
                status_code=415,
                content={
                    "detail": "send a JSON list (application/json) or a CSV file (multipart/form-data or text/csv)"
                },
            )
        if len(applications) > settings.api_max_batch:
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "type": "too_long",
                        "input": None,
                        "msg": f"at most {settings.api_max_batch} applications per batch, got {len(applications)}",
                    }
                ]
            )
        if not applications:
            raise RequestValidationError(
                [{"loc": ["body"], "type": "too_short", "input": None, "msg": "the batch is empty"}]
            )
        refusal = _charge_rows(request, len(applications))
        if refusal is not None:
            return refusal
        model, answers = _score([a.features() for a in applications])
        for answer, application in zip(answers, applications):
            answer["Loan_ID"] = application.Loan_ID
        _label(response, model)
        return {
            "predictions": answers,
            "count": len(answers),
            "model_version": model.version,
            "model_source": model.source,
        }

    def _charge_rows(request: Request, rows: int) -> JSONResponse | None:
        """Under a rate limit a batch costs one token per row (the middleware took one for the request)."""
        if not limiter.enabled or rows <= 1:
            return None
        if rows > limiter.burst:
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "type": "too_long",
                        "input": None,
                        "msg": f"at most {limiter.burst} applications per batch while the rate "
                        f"limit is on ({limiter.rate:g}/s, burst {limiter.burst}): "
                        f"got {rows}",
                    }
                ]
            )
        wait = limiter.acquire(client_key(request.scope), cost=rows - 1)
        if wait <= 0:
            return None
        metrics.rate_limited.inc()
        retry = str(max(1, math.ceil(wait)))
        return JSONResponse(
            status_code=429,
            headers={"retry-after": retry},
            content={
                "detail": f"rate limit exceeded: a batch of {rows} rows costs {rows} requests; retry in {retry} s"
            },
        )

    async def _csv_text(request: Request, content_type: str) -> str:
        if content_type == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=5)
            except Exception as exc:  # malformed multipart: the client's fault
                raise RequestValidationError(
                    [{"loc": ["body"], "type": "multipart", "input": None, "msg": f"malformed multipart body: {exc}"}]
                ) from None
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise RequestValidationError(
                    [
                        {
                            "loc": ["body", "file"],
                            "type": "missing",
                            "input": None,
                            "msg": "upload the CSV file in a form field named 'file'",
                        }
                    ]
                )
            raw = await upload.read()
        else:
            raw = await request.body()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RequestValidationError(
                [{"loc": ["body"], "type": "encoding", "input": None, "msg": "the CSV file must be UTF-8 text"}]
            ) from None

    def _parse_csv(text: str) -> list[LoanApplication]:
        from workbench.core.csv_tables import CsvError, read_applications_csv
        from workbench.core.data import FEATURES, ID, TARGET

        try:
            table = read_applications_csv(text)
        except CsvError as exc:
            raise RequestValidationError(
                [{"loc": ["body"], "type": f"csv_{exc.kind}", "input": None, "msg": str(exc)}]
            ) from None
        frame = table.frame
        missing = [c for c in FEATURES if c not in frame.columns]
        extra = [c for c in frame.columns if c not in (*FEATURES, ID, TARGET)]
        if len(missing) == len(FEATURES):  # not one expected column: say what was found instead of 11 errors
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "type": "csv_columns",
                        "input": None,
                        "msg": f"none of the expected columns ({', '.join(FEATURES)}) was found; "
                        f"the header read with the separator {table.delimiter!r} gives: "
                        f"{', '.join(map(str, frame.columns))[:300]}",
                    }
                ]
            )
        if missing or extra:
            errors = [
                {"loc": ["body", c], "type": "missing", "input": None, "msg": "column missing from the CSV"}
                for c in missing
            ]
            errors += [
                {"loc": ["body", c], "type": "extra_forbidden", "input": None, "msg": "unknown column"} for c in extra
            ]
            raise RequestValidationError(errors)
        if len(frame) > settings.api_max_batch:
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "type": "too_long",
                        "input": None,
                        "msg": f"at most {settings.api_max_batch} rows per batch, got {len(frame)}",
                    }
                ]
            )
        columns = [c for c in (ID, *FEATURES) if c in frame.columns]
        records = frame[columns].to_dict("records")
        try:
            return batch_adapter.validate_python(records)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            for error in errors:  # loc (row, field) → ("body", "line 3", field), rows numbered like a spreadsheet
                loc = list(error["loc"])
                if loc and isinstance(loc[0], int):
                    loc[0] = f"line {loc[0] + 2}"
                error["loc"] = ["body", *loc]
            raise RequestValidationError(errors) from None

    @app.post("/reload", response_model=ModelInfo, tags=["operations"], dependencies=[Depends(require_admin)])
    async def reload() -> dict:
        """Reload the model the alias points to now (the API also notices alias moves by itself).

        Admin: `Authorization: Bearer <WORKBENCH_API_ADMIN_TOKEN>` when that is set or the API is reachable
        from other machines; never from a web page. Rate limited; concurrent calls share one reload.
        """
        wait = reload_limiter.acquire("reload")
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            raise _Refused(429, f"reload rate limit: retry in {retry} s", {"retry-after": retry})
        await asyncio.to_thread(manager.refresh, True)  # off the event loop: predictions keep flowing
        return _model_info(_sync_model_info(manager.model))

    @app.get("/recent_inputs", tags=["operations"], dependencies=[Depends(require_admin)])
    async def recent_inputs(limit: int = Query(1000, ge=1, le=1000)) -> dict:
        """The most recent scored applications (a bounded window), for drift monitoring. Admin, like /reload:
        these are the applicants' data."""
        rows = metrics.recent.snapshot(limit)
        return {"count": len(rows), "inputs": rows}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus metrics: requests, latency histogram, predictions by class, model info, recent inputs."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class _Refused(Exception):
    """An HTTP refusal with a plain `detail` message (admin checks, reload rate limit)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def _json_safe(value: Any) -> Any:
    """`value` with what JSON cannot carry made printable: NaN/Infinity as text, bytes decoded."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json_safe_error(error: dict) -> dict:
    """One validation error, JSON-safe, without pydantic's documentation URL."""
    safe = {
        "type": error.get("type"),
        "loc": _json_safe(list(error.get("loc", ()))),
        "msg": error.get("msg"),
        "input": _json_safe(error.get("input")),
    }
    if "ctx" in error:
        safe["ctx"] = {
            k: _json_safe(v) if isinstance(v, int | float | str) else str(v) for k, v in error["ctx"].items()
        }
    return safe


def _located(errors: list[dict], root: str) -> list[dict]:
    """Prefix error locations with `root`."""
    for error in errors:
        error["loc"] = [root, *error["loc"]]
    return errors
