"""``Webhooks``: the facade. Embedded mode is one of these in your app; the CLI and the HTTP
service are adapters around one.

Quick start::

    async with Webhooks("sqlite:///hookwire.db") as hooks:
        endpoint = await hooks.add("order.created", "https://example.com/hooks")
        await hooks.trigger("order.created", {"id": 42})
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from hookwire.core.clock import utcnow
from hookwire.core.settings import Settings
from hookwire.core.types import Delivery, Endpoint, Message
from hookwire.delivery.attempt import DeliveryEvent
from hookwire.delivery.worker import Worker
from hookwire.service.applications import DEFAULT_APP_UID, Applications
from hookwire.service.attempts import Attempts
from hookwire.service.context import Context
from hookwire.service.endpoints import Endpoints
from hookwire.service.event_types import EventTypes
from hookwire.service.idempotency import Idempotency
from hookwire.service.keys import ApiKeys
from hookwire.service.messages import Messages
from hookwire.service.quick import QuickApi
from hookwire.service.stats import Stats
from hookwire.store.base import Store
from hookwire.store.factory import DEFAULT_DATABASE_URL, open_store

log = logging.getLogger("hookwire")

DeliveryCallback = Callable[[DeliveryEvent], Awaitable[None] | None]


class Webhooks:
    """Send webhooks: register endpoints, trigger events, inspect and replay deliveries.

    Args:
        database_url: ``sqlite:///hookwire.db`` by default.
        settings: retry schedule, timeouts, SSRF allow-list and limits.
        worker: run the delivery worker in this process (on this event loop). Turn it off when
            separate ``hookwire worker`` processes deliver.
        store: use this store instead of opening ``database_url``.

    Use it as ``async with Webhooks(...) as hooks:``, which migrates the database and starts
    the worker, or call ``open()`` and ``close()``.
    """

    def __init__(
        self,
        database_url: str = DEFAULT_DATABASE_URL,
        *,
        settings: Settings | None = None,
        worker: bool = True,
        store: Store | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.store = store or open_store(database_url, encryption_key=self.settings.encryption_key)
        self._run_worker = worker
        self._worker: Worker | None = None
        self._success: list[DeliveryCallback] = []
        self._failure: list[DeliveryCallback] = []
        context = Context(store=self.store, settings=self.settings, clock=utcnow, wake=self._wake)
        self.apps = Applications(context)
        self.endpoints = Endpoints(context)
        self.event_types = EventTypes(context)
        self.messages = Messages(context)
        self.attempts = Attempts(context)
        self.keys = ApiKeys(context)
        self.stats = Stats(context)
        self.idempotency = Idempotency(context)
        self._quick = QuickApi(self.apps, self.endpoints, self.messages)

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> Self:
        """Apply migrations, make sure the ``default`` application exists, start the worker."""
        await self.store.migrate()
        await self._quick.default_application()
        if self._run_worker:
            self._worker = Worker(self.store, self.settings, on_result=self._notify)
            await self._worker.start()
        return self

    async def close(self, *, grace: float = 10.0) -> None:
        """Stop the worker (letting requests in flight finish for up to ``grace`` s) and the store."""
        if self._worker is not None:
            await self._worker.stop(grace=grace)
            self._worker = None
        await self.store.close()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _wake(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    # -- replay --------------------------------------------------------------------------------

    async def resend(self, message: str, endpoint: str, *, app: str = DEFAULT_APP_UID) -> Delivery:
        """Send one message to one endpoint again, now."""
        return await self.messages.resend(app, message, endpoint)

    async def recover(self, endpoint: str, since: datetime, *, app: str = DEFAULT_APP_UID) -> int:
        """Resend every failed delivery of an endpoint since ``since``; returns how many."""
        return await self.endpoints.recover(app, endpoint, since)

    # -- the quick API (as users of node-webhooks know it), on the default application ----------

    async def add(self, event_type: str, url: str) -> Endpoint:
        """Subscribe ``url`` to ``event_type``; returns the endpoint, with its signing secret."""
        return await self._quick.add(event_type, url)

    async def remove(self, event_type: str, url: str | None = None) -> int:
        """Unsubscribe ``url`` (or every URL) from ``event_type``; returns how many were removed.

        An endpoint left with no event type is deleted.
        """
        return await self._quick.remove(event_type, url)

    async def trigger(
        self, event_type: str, payload: Any, headers: Mapping[str, str] | None = None
    ) -> Message:
        """Send an event to every URL subscribed to it. Returns once it is durably accepted."""
        return await self._quick.trigger(event_type, payload, headers)

    async def get_db(self) -> dict[str, list[str]]:
        """``{event_type: [urls]}`` for the default application."""
        return await self._quick.get_db()

    async def get_webhook(self, event_type: str) -> list[str]:
        """The URLs that receive ``event_type``."""
        return await self._quick.get_webhook(event_type)

    def on_success(self, callback: DeliveryCallback) -> DeliveryCallback:
        """Call ``callback(event)`` after each successful delivery (usable as a decorator)."""
        self._success.append(callback)
        return callback

    def on_failure(self, callback: DeliveryCallback) -> DeliveryCallback:
        """Call ``callback(event)`` after each failed attempt; ``event.next_attempt_at`` says
        whether and when it will be retried."""
        self._failure.append(callback)
        return callback

    async def _notify(self, event: DeliveryEvent) -> None:
        for callback in self._success if event.succeeded else self._failure:
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                log.exception("a delivery callback raised")

    # -- waiting (scripts and tests) -----------------------------------------------------------

    async def wait_until_idle(self, *, timeout: float = 30.0) -> None:
        """Wait until no delivery is pending or being sent (``TimeoutError`` after ``timeout``)."""
        async with asyncio.timeout(timeout):
            # Polling, because deliveries may be worked by other processes on the same database.
            while await self.store.next_due() is not None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
