"""``/api/v1/event-type``: the catalogue of event types."""

from __future__ import annotations

from fastapi import APIRouter, status

from hookwire.api.context import Admin, Caller, Hooks
from hookwire.api.routes.common import ERRORS, Iterator, Limit
from hookwire.api.schemas import (
    EventTypeIn,
    EventTypeOut,
    EventTypePatch,
    EventTypeUpdate,
    ListResponse,
    page_of,
)
from hookwire.core.errors import NotFound

router = APIRouter(prefix="/api/v1/event-type", tags=["Event Type"], responses=ERRORS)


@router.get("", response_model=ListResponse[EventTypeOut])
async def list_event_types(
    _: Caller, hooks: Hooks, limit: Limit = 50, iterator: Iterator = None, include_archived: bool = False
) -> ListResponse[EventTypeOut]:
    page = await hooks.event_types.list(limit=limit, iterator=iterator, include_archived=include_archived)
    return page_of(page, [EventTypeOut.of(e) for e in page.items])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventTypeOut)
async def create_event_type(body: EventTypeIn, _: Admin, hooks: Hooks) -> EventTypeOut:
    created = await hooks.event_types.create(body.name, description=body.description, schema=body.schemas)
    if body.archived:
        created = await hooks.event_types.archive(body.name)
    return EventTypeOut.of(created)


@router.get("/{event_type_name}", response_model=EventTypeOut)
async def get_event_type(event_type_name: str, _: Caller, hooks: Hooks) -> EventTypeOut:
    return EventTypeOut.of(await hooks.event_types.get(event_type_name))


@router.put("/{event_type_name}", response_model=EventTypeOut)
async def update_event_type(
    event_type_name: str, body: EventTypeUpdate, _: Admin, hooks: Hooks
) -> EventTypeOut:
    try:
        await hooks.event_types.get(event_type_name)
    except NotFound:
        await hooks.event_types.create(event_type_name, description=body.description, schema=body.schemas)
    updated = await hooks.event_types.update(
        event_type_name, description=body.description, schema=body.schemas
    )
    if body.archived and not updated.archived:
        updated = await hooks.event_types.archive(event_type_name)
    return EventTypeOut.of(updated)


@router.patch("/{event_type_name}", response_model=EventTypeOut)
async def patch_event_type(
    event_type_name: str, body: EventTypePatch, _: Admin, hooks: Hooks
) -> EventTypeOut:
    updated = await hooks.event_types.update(
        event_type_name, description=body.description, schema=body.schemas
    )
    if body.archived and not updated.archived:
        updated = await hooks.event_types.archive(event_type_name)
    return EventTypeOut.of(updated)


@router.delete("/{event_type_name}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_event_type(event_type_name: str, _: Admin, hooks: Hooks) -> None:
    """Archive: hidden from lists; messages of this type are still accepted."""
    await hooks.event_types.archive(event_type_name)
