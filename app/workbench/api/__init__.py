"""The local prediction API (FastAPI): serves the registry's `@production` model of the loan course.

Start it with `python -m workbench.api` (127.0.0.1:8000 by default; settings from WORKBENCH_API_* env vars).
Endpoints: GET /health, GET /model, POST /predict, POST /predict/batch (JSON list or CSV upload),
POST /predict_status (the course's historical endpoint), GET /metrics (Prometheus), POST /reload,
GET /recent_inputs; OpenAPI docs at /docs and /redoc. In class mode, each learner's own `@production` under
/learners/{learner}/ (see `workbench.api.learners`: LRU of loaded models, per-learner limits, trust model).
Nothing received is ever unpickled: JSON and CSV only.

What it refuses, and why: non-finite numbers (NaN, Infinity, 1e999) and NUL bytes (422 naming the field or
line); registry models that could run code when loaded (see `workbench.core.safe_models`: the last good model
keeps serving, `/health` says `degraded`); admin calls (/reload, /recent_inputs) without the admin token when
one is set or the API is reachable from other machines, and from web pages; clients over their rate limit
(a batch costs one token per row). Limits, timeouts and trusted proxies: `workbench.api.server`.

Layout: `create_app` (here) wires the routers of `workbench.api.routes` (predictions, operations, admin)
around one `workbench.api.service.ApiState`; `workbench.api.batch_parsing` turns batch bodies (JSON, CSV) into
applications or located errors, without FastAPI.
"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from workbench.api import errors
from workbench.api.docs import mount_offline_docs
from workbench.api.lean import DirectRoutes, LeanJsonRoute
from workbench.api.learners import LearnerModels
from workbench.api.limits import GuardMiddleware, is_loopback
from workbench.api.models import ModelManager
from workbench.api.routes import admin, operations, predictions
from workbench.api.routes import learners as learner_routes
from workbench.api.service import ApiState
from workbench.core.settings import Settings, get_settings

#: FastAPI's native OpenTelemetry stays off: nothing leaves the machine, and it costs time on every request.
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings | None = None,
    manager: ModelManager | None = None,
    host: str | None = None,
    lean: bool = True,
) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: API settings (default: from the environment).
        manager: a `ModelManager` (tests pass their own); by default one on the settings' registry.
        host: the address the server listens on (default: `settings.api_host`); not loopback means the
            admin endpoints always need the admin token.
        lean: serve /predict and /predict_status through `workbench.api.lean` (`DirectRoutes` in front of
            Starlette's routing, `LeanJsonRoute`); False: through FastAPI's standard route, the reference
            `tests/api/test_lean.py` compares it with.
    """
    settings = settings or get_settings()
    state = ApiState.build(settings, manager or ModelManager(settings), not is_loopback(host or settings.api_host))
    learners = LearnerModels(settings) if settings.class_mode else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(state.manager.start)  # bounded by api_startup_seconds, then serves anyway
        state.served()
        yield
        state.manager.stop_watching()
        if learners is not None:
            learners.close()
        state.batcher.close()

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
        telemetry=NO_TELEMETRY,
    )
    app.state.api = state
    app.state.manager = state.manager
    app.state.metrics = state.metrics
    app.state.batcher = state.batcher
    prediction_routes = predictions.router(state, lean)
    if lean:  # innermost: the API's own middlewares below all run first
        direct = [route for route in prediction_routes.routes if isinstance(route, LeanJsonRoute)]
        app.add_middleware(DirectRoutes, routes=direct, exception_handlers=app.exception_handlers)
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.app_origins), allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    app.add_middleware(
        GuardMiddleware,
        metrics=state.metrics,
        limiter=state.limiter,
        max_body=settings.api_max_body_bytes,
        body_timeout=settings.api_body_timeout,
        learner_limiter=None if learners is None else learners.limiter,
    )
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(errors.Refused, errors.refused)
    app.include_router(operations.router(state))  # no POST there: DirectRoutes may answer /predict first
    app.include_router(prediction_routes)
    app.include_router(admin.router(state))
    app.include_router(operations.metrics_router(state))
    if learners is not None:  # class mode: each learner's own model under /learners/{learner}/
        app.state.learners = learners
        app.include_router(learner_routes.router(state, learners))
    mount_offline_docs(app)  # after the API's routes: a request is matched against routes in order
    return app
