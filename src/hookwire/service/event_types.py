"""Event types: the catalogue of names messages may carry, with descriptions and schemas.

Registering an event type is optional; messages may use any valid name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hookwire.core.errors import ValidationError
from hookwire.core.filters import check_event_type
from hookwire.core.types import EventType, Page
from hookwire.core.validate import check_json, check_text
from hookwire.service.context import Context, page_size


class EventTypes:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(
        self, name: str, *, description: str = "", schema: Mapping[str, Any] | None = None
    ) -> EventType:
        """Register (or replace) an event type."""
        now = self._context.clock()
        event_type = EventType(
            name=check_event_type(name),
            description=check_text(description, "description"),
            schema=_schema(schema),
            archived=False,
            created_at=now,
            updated_at=now,
        )
        return await self._context.store.save_event_type(event_type)

    async def get(self, name: str) -> EventType:
        return await self._context.store.get_event_type(check_event_type(name))

    async def list(
        self, *, limit: int = 50, iterator: str | None = None, include_archived: bool = False
    ) -> Page[EventType]:
        return await self._context.store.list_event_types(
            limit=page_size(limit), iterator=iterator, include_archived=include_archived
        )

    async def update(
        self, name: str, *, description: str | None = None, schema: Mapping[str, Any] | None = None
    ) -> EventType:
        current = await self.get(name)
        changed = dataclasses.replace(
            current,
            description=current.description
            if description is None
            else check_text(description, "description"),
            schema=current.schema if schema is None else _schema(schema),
            updated_at=self._context.clock(),
        )
        return await self._context.store.save_event_type(changed)

    async def archive(self, name: str) -> EventType:
        """Hide from lists; messages of this type are still accepted and delivered."""
        current = await self.get(name)
        changed = dataclasses.replace(current, archived=True, updated_at=self._context.clock())
        return await self._context.store.save_event_type(changed)


def _schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if schema is not None and not isinstance(schema, Mapping):
        raise ValidationError("an event type's schema is a JSON Schema object")
    return check_json(schema, "the schema")
