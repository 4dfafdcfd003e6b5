"""GET /health, /model and /metrics: what serves, how well, and the Prometheus metrics."""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at run time.

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workbench.api.schemas import Health, ModelInfo
from workbench.api.service import ApiState


def router(state: ApiState) -> APIRouter:
    """The operations endpoints anyone may read."""
    routes = APIRouter(tags=["operations"])
    manager = state.manager

    @routes.get("/health", response_model=Health)
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

    @routes.get("/model", response_model=ModelInfo)
    async def model_info() -> dict:
        """Which model is served: name, version, alias, run, source, training metrics, input schema, and how
        it is served (`serving`: `compiled`, `batched` or `plain`, with the reason and, when the compiler
        could not compile it, the step that stopped it)."""
        return state.model_info(manager, manager.model)

    return routes


def metrics_router(state: ApiState) -> APIRouter:
    """GET /metrics (Prometheus text format)."""
    routes = APIRouter(tags=["operations"])

    @routes.get("/metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus metrics: requests, latency histogram, predictions by class, model info, recent inputs."""
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return routes
