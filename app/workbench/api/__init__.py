"""The local prediction API (FastAPI): serves the registry's `@production` model of the loan course.

Start it with `python -m workbench.api` (127.0.0.1:8000 by default; settings from WORKBENCH_API_* env vars).
Endpoints: GET /health, GET /model, POST /predict, POST /predict/batch (JSON list or CSV upload),
POST /predict_status (the course's historical endpoint), GET /metrics (Prometheus), POST /reload,
GET /recent_inputs; OpenAPI docs at /docs and /redoc. Nothing received is ever unpickled: JSON and CSV only.
"""

import io
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import TypeAdapter, ValidationError

from workbench.api.docs import mount_offline_docs
from workbench.api.limits import GuardMiddleware, RateLimiter
from workbench.api.models import LoadedModel, ModelManager
from workbench.api.monitoring import ApiMetrics
from workbench.api.schemas import BatchPrediction, Health, LoanApplication, ModelInfo, Prediction, Status
from workbench.settings import Settings, get_settings

# Note: no `from __future__ import annotations` here — FastAPI reads the endpoint annotations at run time.


def create_app(settings: Settings | None = None, manager: ModelManager | None = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: API settings (default: from the environment).
        manager: a `ModelManager` (tests pass their own); by default one on the settings' registry.
    """
    settings = settings or get_settings()
    manager = manager or ModelManager(settings)
    metrics = ApiMetrics()
    batch_adapter = TypeAdapter(list[LoanApplication])

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _sync_model_info(manager.model)
        manager.start_watching()
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
        GuardMiddleware, metrics=metrics, limiter=RateLimiter(settings.api_rate_limit, settings.api_rate_burst),
        max_body=settings.api_max_body_bytes,
    )  # fmt: skip

    def _sync_model_info(model: LoadedModel) -> LoadedModel:
        metrics.set_model(model.name, model.version, model.alias, model.source)
        return model

    def _score(rows: list[dict[str, Any]]) -> tuple[LoadedModel, list[dict[str, Any]]]:
        model = _sync_model_info(manager.model)
        probabilities = model.predict_proba(rows)
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
                }  # fmt: skip
            )
        metrics.recent.add(rows)
        return model, answers

    @app.get("/health", response_model=Health, tags=["operations"])
    async def health() -> dict:
        """Liveness and readiness: 200 when a model is loaded."""
        return {"status": "ok", "model_loaded": True, "model_version": manager.model.version}

    @app.get("/model", response_model=ModelInfo, tags=["operations"])
    async def model_info() -> dict:
        """Which model is served: name, version, alias, run, source, training metrics, input schema."""
        return _model_info(manager.model)

    def _model_info(model: LoadedModel) -> dict:
        return {
            "name": model.name, "version": model.version, "alias": model.alias, "run_id": model.run_id,
            "source": model.source, "source_detail": model.source_detail, "loaded_at": model.loaded_at,
            "fast_path": model.compiled is not None,
            "metrics": {k: v for k, v in model.metrics.items() if v == v},
            "input_schema": LoanApplication.model_json_schema(),
        }  # fmt: skip

    @app.post("/predict", response_model=Prediction, tags=["predictions"])
    async def predict(application: LoanApplication) -> dict:
        """Score one application: `prediction` (Y/N), `label`, `probability` of approval, `model_version`."""
        _, answers = _score([application.features()])
        return {**answers[0], "Loan_ID": application.Loan_ID}

    @app.post("/predict_status", response_model=Status, tags=["predictions"])
    async def predict_status(application: LoanApplication) -> dict:
        """The course's historical endpoint: same body as /predict, answers `{"status": "Approved"|"Rejected"}`."""
        _, answers = _score([application.features()])
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
                        }  # fmt: skip
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                            "required": ["file"],
                        }  # fmt: skip
                    },
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def predict_batch(request: Request) -> dict:
        """Score up to `max_batch` applications: a JSON list, or a CSV file (upload or text/csv body) with
        the course's columns (Loan_ID and Loan_Status optional, ignored by the model)."""
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
                [{"loc": ["body"], "type": "too_long", "input": None,
                  "msg": f"at most {settings.api_max_batch} applications per batch, got {len(applications)}"}]
            )  # fmt: skip
        if not applications:
            raise RequestValidationError([{"loc": ["body"], "type": "too_short", "input": None,
                                           "msg": "the batch is empty"}])  # fmt: skip
        model, answers = _score([a.features() for a in applications])
        for answer, application in zip(answers, applications):
            answer["Loan_ID"] = application.Loan_ID
        return {"predictions": answers, "count": len(answers), "model_version": model.version}

    async def _csv_text(request: Request, content_type: str) -> str:
        if content_type == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=5)
            except Exception as exc:  # malformed multipart: the client's fault
                raise RequestValidationError([{"loc": ["body"], "type": "multipart", "input": None,
                                               "msg": f"malformed multipart body: {exc}"}]) from None  # fmt: skip
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise RequestValidationError([{"loc": ["body", "file"], "type": "missing", "input": None,
                                               "msg": "upload the CSV file in a form field named 'file'"}])  # fmt: skip
            raw = await upload.read()
        else:
            raw = await request.body()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RequestValidationError([{"loc": ["body"], "type": "encoding", "input": None,
                                           "msg": "the CSV file must be UTF-8 text"}]) from None  # fmt: skip

    def _parse_csv(text: str) -> list[LoanApplication]:
        import pandas as pd

        from workbench.data import FEATURES, ID, TARGET

        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise RequestValidationError([{"loc": ["body"], "type": "csv", "input": None,
                                           "msg": f"not a readable CSV file: {str(exc).splitlines()[0][:200]}"}]) from None  # fmt: skip
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in FEATURES if c not in frame.columns]
        extra = [c for c in frame.columns if c not in (*FEATURES, ID, TARGET)]
        if missing or extra:
            errors = [{"loc": ["body", c], "type": "missing", "input": None, "msg": "column missing from the CSV"}
                      for c in missing]  # fmt: skip
            errors += [{"loc": ["body", c], "type": "extra_forbidden", "input": None, "msg": "unknown column"}
                       for c in extra]  # fmt: skip
            raise RequestValidationError(errors)
        if len(frame) > settings.api_max_batch:
            raise RequestValidationError([{"loc": ["body"], "type": "too_long", "input": None,
                                           "msg": f"at most {settings.api_max_batch} rows per batch, got {len(frame)}"}])  # fmt: skip
        columns = [c for c in (ID, *FEATURES) if c in frame.columns]
        records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
        try:
            return batch_adapter.validate_python(records)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            for error in errors:  # loc (row, field) → ("body", "row 3", field), rows numbered like a spreadsheet
                loc = list(error["loc"])
                if loc and isinstance(loc[0], int):
                    loc[0] = f"line {loc[0] + 2}"
                error["loc"] = ["body", *loc]
            raise RequestValidationError(errors) from None

    @app.post("/reload", response_model=ModelInfo, tags=["operations"])
    async def reload() -> dict:
        """Reload the model the alias points to now (the API also notices alias moves by itself)."""
        manager.refresh(force=True)
        return _model_info(_sync_model_info(manager.model))

    @app.get("/recent_inputs", tags=["operations"])
    async def recent_inputs(limit: int = Query(1000, ge=1, le=1000)) -> dict:
        """The most recent scored applications (a bounded window), for drift monitoring."""
        rows = metrics.recent.snapshot(limit)
        return {"count": len(rows), "inputs": rows}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus metrics: requests, latency histogram, predictions by class, model info, recent inputs."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _located(errors: list[dict], root: str) -> list[dict]:
    """Prefix error locations with `root` and make every error JSON-safe (inputs may be raw bytes)."""
    for error in errors:
        error["loc"] = [root, *error["loc"]]
        if isinstance(error.get("input"), bytes):
            error["input"] = error["input"].decode("utf-8", errors="replace")
        if "ctx" in error:
            error["ctx"] = {k: str(v) for k, v in error["ctx"].items()}
    return errors
