"""Attempts: every request made, with its status code, timing and the start of the response."""

from __future__ import annotations

from hookwire.core.types import Attempt, Page
from hookwire.service.context import Context, page_size


class Attempts:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def by_message(
        self, app: str, message: str, *, limit: int = 50, iterator: str | None = None
    ) -> Page[Attempt]:
        """Newest first. ``NotFound`` if the message is not the application's."""
        application = await self._context.application(app)
        found = await self._context.store.get_message(application.id, message)
        return await self._context.store.list_attempts(
            application.id, message_id=found.id, limit=page_size(limit), iterator=iterator
        )

    async def by_endpoint(
        self, app: str, endpoint: str, *, limit: int = 50, iterator: str | None = None
    ) -> Page[Attempt]:
        """Newest first. ``NotFound`` if the endpoint is not the application's."""
        application = await self._context.application(app)
        found = await self._context.store.get_endpoint(application.id, endpoint)
        return await self._context.store.list_attempts(
            application.id, endpoint_id=found.id, limit=page_size(limit), iterator=iterator
        )
