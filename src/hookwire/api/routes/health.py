"""``/api/v1/health`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hookwire.api.context import Hooks
from hookwire.api.schemas import HealthOut
from hookwire.core.errors import StoreError

router = APIRouter(tags=["Health"])


@router.get("/api/v1/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def health(hooks: Hooks) -> Response:
    """200 while the database answers, 503 when it does not (for load balancers)."""
    try:
        await hooks.store.next_due()
    except StoreError:
        body = HealthOut(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(by_alias=True), status_code=503)
    return JSONResponse(HealthOut(status="ok", database="ok").model_dump(by_alias=True))


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, hooks: Hooks) -> Response:
    """Prometheus text format."""
    body = await request.app.state.metrics.render(hooks)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
