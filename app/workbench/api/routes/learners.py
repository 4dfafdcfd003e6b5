"""Class mode: `/learners/{learner}/…`, each learner's own model (see `workbench.api.learners`)."""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at run time.

import asyncio
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from workbench.api.errors import Refused
from workbench.api.learners import LearnerModels, LearnerServing, learner_refusal
from workbench.api.limits import RateLimiter, learner_bucket
from workbench.api.models import LoadedModel, NoModel
from workbench.api.routes.admin import BEARER
from workbench.api.routes.predictions import batch_openapi, charge_rows, label, read_batch, score_batch
from workbench.api.schemas import BatchPrediction, LoanApplication, ModelInfo, Prediction, Status
from workbench.api.service import RELOAD_BURST, RELOAD_RATE, ApiState

Learner = Annotated[
    str, Path(min_length=1, max_length=200, description="The learner's name, as the workbench knows it")
]


def router(state: ApiState, learners: LearnerModels) -> APIRouter:
    """The learner routes (class mode only)."""

    def allowed(
        request: Request,
        learner: Learner,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    ) -> None:
        """The workbench's token, or this learner's own (see the trust model in `workbench.api.learners`)."""
        refusal = learner_refusal(request.headers, learner, state.settings.api_admin_token, state.exposed)
        if refusal is not None:
            raise Refused(*refusal)

    routes = APIRouter(prefix="/learners/{learner}", tags=["learners"], dependencies=[Depends(allowed)])
    reload_limiter = RateLimiter(RELOAD_RATE, RELOAD_BURST)

    async def served(learner: str) -> tuple[LearnerServing, LoadedModel]:
        try:
            return await learners.model(learner)
        except NoModel as exc:
            name = learners.model_name(learner)
            raise Refused(
                404,
                f"learner {learner!r} has no model to serve: {exc}. Register a version of {name!r} and give it "
                f"the alias @{state.settings.api_alias}",
            ) from None

    async def one(learner: str, application: LoanApplication, response: Response) -> dict[str, Any]:
        _, model = await served(learner)
        (answer,) = await state.score(model, [application.features()], learners.recent(learner))
        label(response, model)
        return answer

    @routes.post("/predict", response_model=Prediction)
    async def predict(learner: Learner, application: LoanApplication, response: Response) -> dict:
        """Score one application with this learner's `@production` (same answer as /predict)."""
        return {**await one(learner, application, response), "Loan_ID": application.Loan_ID}

    @routes.post("/predict_status", response_model=Status)
    async def predict_status(learner: Learner, application: LoanApplication, response: Response) -> dict:
        """This learner's model, the course's historical answer format (`{"status": ...}`)."""
        return {"status": (await one(learner, application, response))["label"]}

    @routes.post(
        "/predict/batch", response_model=BatchPrediction, openapi_extra=batch_openapi(state.settings.api_max_batch)
    )
    async def predict_batch(learner: Learner, request: Request, response: Response) -> Any:
        """Score a batch (JSON list or CSV) with this learner's model; each row costs one request of their
        rate limit."""
        applications = await read_batch(request, state.settings.api_max_batch)
        if isinstance(applications, JSONResponse):
            return applications
        refusal = charge_rows(state, learners.limiter, learner_bucket(learner), len(applications))
        if refusal is not None:
            return refusal
        _, model = await served(learner)
        answer = await score_batch(state, model, applications, learners.recent(learner))
        label(response, model)
        return answer

    @routes.get("/model", response_model=ModelInfo)
    async def model_info(learner: Learner) -> dict:
        """Which of this learner's versions serves, and how (as /model)."""
        serving, model = await served(learner)
        return state.model_info(serving.manager, model)

    @routes.post("/reload", response_model=ModelInfo)
    async def reload(learner: Learner) -> dict:
        """Load the version this learner's alias points to now (rate limited per learner)."""
        wait = reload_limiter.acquire(learner_bucket(learner))
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            raise Refused(429, f"reload rate limit: retry in {retry} s", {"retry-after": retry})
        serving = learners.serving(learner)
        if serving.manager.loaded is not None:
            await asyncio.to_thread(serving.manager.refresh, True)
        serving, model = await served(learner)
        return state.model_info(serving.manager, model)

    @routes.get("/recent_inputs")
    async def recent_inputs(learner: Learner, limit: int = Query(1000, ge=1, le=1000)) -> dict:
        """This learner's most recent scored applications (their own window), for drift monitoring."""
        rows = learners.recent(learner).snapshot(limit)
        return {"count": len(rows), "inputs": rows}

    return routes
