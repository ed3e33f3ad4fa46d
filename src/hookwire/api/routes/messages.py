"""``/api/v1/app/{app_id}/msg`` and ``/attempt``: messages, their attempts, resending."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status

from hookwire.api.context import Caller, Forbidden, Hooks, application
from hookwire.api.routes.common import ERRORS, Iterator, Limit, refuse
from hookwire.api.schemas import (
    ApplicationIn,
    DeliveryOut,
    Empty,
    ListResponse,
    MessageAttemptOut,
    MessageIn,
    MessageOut,
    page_of,
)
from hookwire.core.errors import NotFound
from hookwire.core.types import ApiKey, Application, Message
from hookwire.service.webhooks import Webhooks

router = APIRouter(prefix="/api/v1/app/{app_id}", tags=["Message"], responses=ERRORS)

App = Annotated[Application, Depends(application)]
EventTypes = Annotated[
    str | None, Query(max_length=4096, description="Comma-separated event types to include.")
]


def _event_types(value: str | None) -> list[str] | None:
    return None if value is None else [part for part in value.split(",") if part]


@router.get("/msg", response_model=ListResponse[MessageOut])
async def list_messages(
    app: App,
    hooks: Hooks,
    limit: Limit = 50,
    iterator: Iterator = None,
    event_types: EventTypes = None,
    before: datetime | None = None,
    after: datetime | None = None,
) -> ListResponse[MessageOut]:
    page = await hooks.messages.list(
        app.id,
        limit=limit,
        iterator=iterator,
        event_types=_event_types(event_types),
        before=before,
        after=after,
    )
    return page_of(page, [MessageOut.of(m) for m in page.items])


@router.post("/msg", status_code=status.HTTP_202_ACCEPTED, response_model=MessageOut)
async def create_message(
    app_id: str, body: MessageIn, key: Caller, hooks: Hooks, request: Request
) -> Response:
    # Requests of the usual shape are answered by hookwire.api.ingest before they get here, with
    # the same accept_message; this route answers the others and documents the operation (a
    # docstring here would become its description in the OpenAPI document).
    refuse(channels=body.channels, tags=body.tags, deliverAt=body.deliver_at)
    refuse(transformationsParams=body.transformations_params)
    message = await accept_message(
        hooks,
        key,
        app_id,
        body.event_type,
        body.payload,
        event_id=body.event_id,
        application=body.application,
    )
    request.app.state.metrics.message_accepted()
    # The stored payload bytes go out as they are, not re-validated and re-serialised through
    # the response model (which documents this shape).
    return Response(
        message_json(message), status_code=status.HTTP_202_ACCEPTED, media_type="application/json"
    )


async def accept_message(
    hooks: Webhooks,
    key: ApiKey,
    app_id: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: str | None,
    application: ApplicationIn | None = None,
) -> Message:
    """Store a message for the path's application, which ``key`` must be allowed to see."""
    if application is None:
        return await hooks.messages.accept(app_id, event_type, payload, event_id=event_id, scope=key.app_id)
    target = await _application_or_create(app_id, application, key.app_id, hooks)
    # create_in, not create: the application was just looked up (or made), by id or uid.
    return await hooks.messages.create_in(target.id, event_type, payload, event_id=event_id)


def message_json(message: Message) -> bytes:
    """The 202 answer's body (``MessageOut``), built around the stored payload bytes."""
    head = orjson.dumps(
        {
            "id": message.id,
            "eventType": message.event_type,
            "eventId": message.event_id,
            "timestamp": message.created_at.isoformat().replace("+00:00", "Z"),
            "channels": None,
            "tags": None,
        }
    )
    return head[:-1] + b',"payload":' + message.payload + b"}"


@router.get("/msg/{msg_id}", response_model=MessageOut)
async def get_message(app: App, msg_id: str, hooks: Hooks) -> MessageOut:
    return MessageOut.of(await hooks.messages.get(app.id, msg_id))


@router.get("/msg/{msg_id}/delivery", response_model=list[DeliveryOut])
async def list_message_deliveries(app: App, msg_id: str, hooks: Hooks) -> list[DeliveryOut]:
    """Where the message stands with each endpoint (hookwire)."""
    return [DeliveryOut.of(d) for d in await hooks.messages.deliveries(app.id, msg_id)]


@router.post(
    "/msg/{msg_id}/endpoint/{endpoint_id}/resend", status_code=status.HTTP_202_ACCEPTED, response_model=Empty
)
async def resend_message(app: App, msg_id: str, endpoint_id: str, hooks: Hooks) -> Empty:
    await hooks.messages.resend(app.id, msg_id, endpoint_id)
    return Empty()


@router.get("/attempt/msg/{msg_id}", response_model=ListResponse[MessageAttemptOut])
async def list_attempts_by_message(
    app: App, msg_id: str, hooks: Hooks, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[MessageAttemptOut]:
    page = await hooks.attempts.by_message(app.id, msg_id, limit=limit, iterator=iterator)
    return page_of(page, [MessageAttemptOut.of(a) for a in page.items])


@router.get("/attempt/endpoint/{endpoint_id}", response_model=ListResponse[MessageAttemptOut])
async def list_attempts_by_endpoint(
    app: App, endpoint_id: str, hooks: Hooks, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[MessageAttemptOut]:
    page = await hooks.attempts.by_endpoint(app.id, endpoint_id, limit=limit, iterator=iterator)
    return page_of(page, [MessageAttemptOut.of(a) for a in page.items])


async def _application_or_create(
    app_id: str, spec: ApplicationIn | None, scope: str | None, hooks: Webhooks
) -> Application:
    """The path's application; with ``application`` in the body, created if it does not exist."""
    try:
        found = await hooks.apps.get(app_id)
    except NotFound:
        if spec is None:
            raise
        if scope is not None:
            raise Forbidden("an application-scoped key cannot create applications") from None
        refuse(throttleRate=spec.throttle_rate)
        return await hooks.apps.create(spec.name, uid=spec.uid or app_id, metadata=spec.metadata)
    if scope is not None and scope != found.id:
        raise NotFound(f"application {app_id!r} not found")
    return found
