"""``/api/v1/app/{app_id}/endpoint``: endpoints, their secrets, headers, stats and recovery."""

from __future__ import annotations

from fastapi import APIRouter, status

from hookwire.api.context import App, Hooks
from hookwire.api.routes.common import ERRORS, Iterator, Limit, refuse
from hookwire.api.schemas import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointStats,
    EndpointUpdate,
    ListResponse,
    RecoverIn,
    RecoverOut,
    page_of,
)
from hookwire.core import ids
from hookwire.core.clock import utcnow
from hookwire.core.types import DeliveryStatus, Endpoint
from hookwire.service.webhooks import Webhooks

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"], responses=ERRORS)


@router.get("", response_model=ListResponse[EndpointOut])
async def list_endpoints(
    app: App, hooks: Hooks, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[EndpointOut]:
    page = await hooks.endpoints.list(app.id, limit=limit, iterator=iterator)
    return page_of(page, [EndpointOut.of(e) for e in page.items])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EndpointOut)
async def create_endpoint(app: App, body: EndpointIn, hooks: Hooks) -> EndpointOut:
    refuse(channels=body.channels, throttleRate=body.throttle_rate, rateLimit=body.rate_limit)
    created = await hooks.endpoints.create(
        app.id,
        body.url,
        uid=body.uid,
        description=body.description,
        filter_types=body.event_types if body.event_types is not None else body.filter_types,
        headers=body.headers,
        secret=body.secret,
        disabled=body.disabled,
        metadata=body.metadata,
    )
    return EndpointOut.of(created)


@router.get("/{endpoint_id}", response_model=EndpointOut)
async def get_endpoint(app: App, endpoint_id: str, hooks: Hooks) -> EndpointOut:
    return EndpointOut.of(await hooks.endpoints.get(app.id, endpoint_id))


@router.put("/{endpoint_id}", response_model=EndpointOut)
async def update_endpoint(app: App, endpoint_id: str, body: EndpointUpdate, hooks: Hooks) -> EndpointOut:
    refuse(channels=body.channels, throttleRate=body.throttle_rate, rateLimit=body.rate_limit)
    await hooks.endpoints.update(
        app.id,
        endpoint_id,
        url=body.url,
        uid=body.uid,
        description=body.description,
        filter_types=body.event_types if body.event_types is not None else body.filter_types,
        metadata=body.metadata or {},
    )
    return EndpointOut.of(await _set_disabled(hooks, app.id, endpoint_id, body.disabled))


@router.patch("/{endpoint_id}", response_model=EndpointOut)
async def patch_endpoint(app: App, endpoint_id: str, body: EndpointPatch, hooks: Hooks) -> EndpointOut:
    refuse(channels=body.channels, throttleRate=body.throttle_rate, rateLimit=body.rate_limit)
    given = body.model_fields_set
    types = body.event_types if "event_types" in given else body.filter_types
    changes: dict[str, object] = {}
    if "event_types" in given or "filter_types" in given:
        changes["filter_types"] = types
    await hooks.endpoints.update(
        app.id,
        endpoint_id,
        url=body.url,
        uid=body.uid,
        description=body.description,
        metadata=body.metadata,
        **changes,  # type: ignore[arg-type]
    )
    if body.disabled is None:
        return EndpointOut.of(await hooks.endpoints.get(app.id, endpoint_id))
    return EndpointOut.of(await _set_disabled(hooks, app.id, endpoint_id, body.disabled))


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_endpoint(app: App, endpoint_id: str, hooks: Hooks) -> None:
    await hooks.endpoints.delete(app.id, endpoint_id)


@router.get("/{endpoint_id}/secret", response_model=EndpointSecretOut)
async def get_endpoint_secret(app: App, endpoint_id: str, hooks: Hooks) -> EndpointSecretOut:
    return EndpointSecretOut(key=await hooks.endpoints.get_secret(app.id, endpoint_id))


@router.post("/{endpoint_id}/secret/rotate", response_model=EndpointSecretOut)
async def rotate_endpoint_secret(
    app: App, endpoint_id: str, body: EndpointSecretRotateIn, hooks: Hooks
) -> EndpointSecretOut:
    """The previous secret keeps signing beside the new one for 24 hours."""
    return EndpointSecretOut(key=await hooks.endpoints.rotate_secret(app.id, endpoint_id, body.key))


@router.get("/{endpoint_id}/headers", response_model=EndpointHeadersOut)
async def get_endpoint_headers(app: App, endpoint_id: str, hooks: Hooks) -> EndpointHeadersOut:
    endpoint = await hooks.endpoints.get(app.id, endpoint_id)
    return EndpointHeadersOut(headers=dict(endpoint.headers))


@router.put("/{endpoint_id}/headers", status_code=status.HTTP_204_NO_CONTENT)
async def update_endpoint_headers(app: App, endpoint_id: str, body: EndpointHeadersIn, hooks: Hooks) -> None:
    await hooks.endpoints.update(app.id, endpoint_id, headers=body.headers)


@router.patch("/{endpoint_id}/headers", status_code=status.HTTP_204_NO_CONTENT)
async def patch_endpoint_headers(
    app: App, endpoint_id: str, body: EndpointHeadersPatchIn, hooks: Hooks
) -> None:
    current = await hooks.endpoints.get(app.id, endpoint_id)
    dropped = {name.lower() for name in body.delete_headers or ()}
    merged = {k: v for k, v in current.headers.items() if k.lower() not in dropped and k not in body.headers}
    await hooks.endpoints.update(app.id, endpoint_id, headers={**merged, **body.headers})


@router.get("/{endpoint_id}/stats", response_model=EndpointStats)
async def get_endpoint_stats(app: App, endpoint_id: str, hooks: Hooks) -> EndpointStats:
    counts = await hooks.endpoints.delivery_counts(app.id, endpoint_id)
    return EndpointStats(
        success=counts[DeliveryStatus.SUCCEEDED],
        pending=counts[DeliveryStatus.PENDING],
        sending=counts[DeliveryStatus.SENDING],
        fail=counts[DeliveryStatus.FAILED],
    )


@router.post("/{endpoint_id}/recover", status_code=status.HTTP_202_ACCEPTED, response_model=RecoverOut)
async def recover_endpoint(app: App, endpoint_id: str, body: RecoverIn, hooks: Hooks) -> RecoverOut:
    refuse(until=body.until)
    recovered = await hooks.endpoints.recover(app.id, endpoint_id, body.since)
    return RecoverOut(id=ids.new_id("qtask"), updated_at=utcnow(), recovered=recovered)


async def _set_disabled(hooks: Webhooks, app_id: str, endpoint_id: str, disabled: bool) -> Endpoint:
    current = await hooks.endpoints.get(app_id, endpoint_id)
    if disabled and not current.disabled:
        return await hooks.endpoints.disable(app_id, endpoint_id, "disabled over the API")
    if not disabled and current.disabled:
        return await hooks.endpoints.enable(app_id, endpoint_id)
    return current
