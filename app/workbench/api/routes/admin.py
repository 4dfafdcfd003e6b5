"""POST /reload and GET /recent_inputs: admin only (the token, or loopback and never from a web page)."""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at run time.

import asyncio
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workbench.api.errors import Refused
from workbench.api.limits import admin_refusal
from workbench.api.schemas import ModelInfo
from workbench.api.service import ApiState

BEARER = HTTPBearer(auto_error=False, description="WORKBENCH_API_ADMIN_TOKEN")


def require_admin(state: ApiState):
    """A dependency refusing non-admin calls (see `workbench.api.limits.admin_refusal`)."""

    def check(
        request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None
    ) -> None:
        """Admin endpoints: the token when set or when reachable from other machines; never from web pages."""
        refusal = admin_refusal(
            request.headers, request.scope.get("server"), state.settings.api_admin_token, state.exposed
        )
        if refusal is not None:
            raise Refused(*refusal)

    return check


def router(state: ApiState) -> APIRouter:
    """The admin endpoints."""
    routes = APIRouter(tags=["operations"], dependencies=[Depends(require_admin(state))])

    @routes.post("/reload", response_model=ModelInfo)
    async def reload() -> dict:
        """Reload the model the alias points to now (the API also notices alias moves by itself).

        Admin: `Authorization: Bearer <WORKBENCH_API_ADMIN_TOKEN>` when that is set or the API is reachable
        from other machines; never from a web page. Rate limited; concurrent calls share one reload.
        """
        wait = state.reload_limiter.acquire("reload")
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            raise Refused(429, f"reload rate limit: retry in {retry} s", {"retry-after": retry})
        await asyncio.to_thread(state.manager.refresh, True)  # off the event loop: predictions keep flowing
        return state.model_info(state.manager, state.served())

    @routes.get("/recent_inputs")
    async def recent_inputs(limit: int = Query(1000, ge=1, le=1000)) -> dict:
        """The most recent scored applications (a bounded window), for drift monitoring. Admin, like /reload:
        these are the applicants' data."""
        rows = state.metrics.recent.snapshot(limit)
        return {"count": len(rows), "inputs": rows}

    return routes
