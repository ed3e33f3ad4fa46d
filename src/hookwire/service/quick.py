"""The quick API that users of the npm package ``node-webhooks`` know, on the default application.

``add(event_type, url)`` keeps one endpoint per URL and widens its filter, so a URL added for
three event types is one endpoint with one secret, as a receiver would expect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from hookwire.core.filters import check_event_type, matches
from hookwire.core.types import Application, Endpoint, Message
from hookwire.core.validate import check_url
from hookwire.service.applications import DEFAULT_APP_UID, Applications
from hookwire.service.endpoints import Endpoints
from hookwire.service.messages import Messages

ALL_EVENTS = "*"


class QuickApi:
    def __init__(self, apps: Applications, endpoints: Endpoints, messages: Messages) -> None:
        self._apps = apps
        self._endpoints = endpoints
        self._messages = messages
        self._default: Application | None = None

    async def default_application(self) -> Application:
        if self._default is None:
            self._default = await self._apps.get_or_create(DEFAULT_APP_UID)
        return self._default

    async def _all_endpoints(self) -> AsyncIterator[Endpoint]:
        app = await self.default_application()
        iterator = None
        while True:
            page = await self._endpoints.list(app.id, limit=250, iterator=iterator)
            for endpoint in page.items:
                yield endpoint
            if page.done:
                return
            iterator = page.iterator

    async def add(self, event_type: str, url: str) -> Endpoint:
        check_event_type(event_type)
        check_url(url)
        app = await self.default_application()
        async for endpoint in self._all_endpoints():
            if endpoint.url != url:
                continue
            if endpoint.filter_types is None or event_type in endpoint.filter_types:
                return endpoint
            return await self._endpoints.update(
                app.id, endpoint.id, filter_types=(*endpoint.filter_types, event_type)
            )
        return await self._endpoints.create(app.id, url, filter_types=[event_type])

    async def remove(self, event_type: str, url: str | None) -> int:
        check_event_type(event_type)
        app = await self.default_application()
        removed = 0
        async for endpoint in self._all_endpoints():
            if (url is not None and endpoint.url != url) or endpoint.filter_types is None:
                continue
            if event_type not in endpoint.filter_types:
                continue
            remaining = tuple(t for t in endpoint.filter_types if t != event_type)
            if remaining:
                await self._endpoints.update(app.id, endpoint.id, filter_types=remaining)
            else:
                await self._endpoints.delete(app.id, endpoint.id)
            removed += 1
        return removed

    async def trigger(self, event_type: str, payload: Any, headers: Mapping[str, str] | None) -> Message:
        app = await self.default_application()
        return await self._messages.create_in(app.id, event_type, payload, headers=headers)

    async def get_db(self) -> dict[str, list[str]]:
        """Event type -> URLs; endpoints that take every event type are listed under ``"*"``."""
        db: dict[str, list[str]] = {}
        async for endpoint in self._all_endpoints():
            for event_type in endpoint.filter_types or (ALL_EVENTS,):
                db.setdefault(event_type, []).append(endpoint.url)
        return db

    async def get_webhook(self, event_type: str) -> list[str]:
        """URLs of enabled endpoints that receive ``event_type`` (exact, ``prefix.*`` or all)."""
        check_event_type(event_type)
        return [
            endpoint.url
            async for endpoint in self._all_endpoints()
            if not endpoint.disabled and matches(endpoint.filter_types, event_type)
        ]
