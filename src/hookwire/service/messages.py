"""Messages: events sent to an application, fanned out to its endpoints when written."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hookwire.core import ids
from hookwire.core.clock import require_utc
from hookwire.core.errors import NotFound
from hookwire.core.filters import check_event_type
from hookwire.core.types import Application, Delivery, Message, Page
from hookwire.core.validate import check_headers, check_text, check_uid, encode_payload
from hookwire.service.context import Context, page_size
from hookwire.store.base import MessageFilter


class Messages:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(
        self,
        app: str,
        event_type: str,
        payload: Any,
        *,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        connection: object | None = None,
    ) -> Message:
        """Accept a message: when this returns, it and its deliveries are durably stored.

        Args:
            app: the application's id or uid.
            event_type: a dotted name such as ``invoice.paid``.
            payload: anything JSON-serialisable, or JSON text as ``str``/``bytes`` (sent unchanged).
            event_id: an idempotency key: a second message with the same key in the same
                application is not created; the first one is returned.
            headers: extra request headers for this message's deliveries.
            connection: your own open database connection (psycopg ``AsyncConnection`` or
                ``Connection`` on PostgreSQL, ``sqlite3.Connection`` on the same SQLite file):
                the message is written inside your current transaction and exists only if it
                commits (the transactional outbox). Without it, hookwire commits on its own.
        """
        application = await self._context.application(app)
        message = self.build(application.id, event_type, payload, event_id=event_id, headers=headers)
        store = self._context.store
        if connection is None:
            stored, created = await store.create_message(message, now=message.created_at)
        else:
            stored, created = await store.create_message_within(connection, message, now=message.created_at)
        if created:
            self._context.wake()
        return stored

    async def create_in(
        self,
        app_id: str,
        event_type: str,
        payload: Any,
        *,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Message:
        """``create`` for an application id already looked up (the hot path of ``trigger``)."""
        message = self.build(app_id, event_type, payload, event_id=event_id, headers=headers)
        stored, created = await self._context.store.create_message(message, now=message.created_at)
        if created:
            self._context.wake()
        return stored

    async def accept(
        self,
        app: str,
        event_type: str,
        payload: Any,
        *,
        event_id: str | None = None,
        scope: str | None = None,
    ) -> Message:
        """``create`` as the HTTP API needs it, with the application looked up in the write's
        transaction (one trip to the database), and checked against the caller's scope.

        Args:
            scope: the id of the only application the caller may see (an application-scoped
                API key), or ``None``. Another application answers ``NotFound``, exactly as one
                that does not exist, so that a scoped caller cannot learn which ones exist.
        """
        check_text(app, "application id", limit=256)

        def make(application: Application) -> Message:
            if scope is not None and scope != application.id:
                raise NotFound(f"application {app!r} not found")
            return self.build(application.id, event_type, payload, event_id=event_id)

        stored, created = await self._context.store.create_message_in(app, make)
        if created:
            self._context.wake()
        return stored

    def create_within_sync(
        self,
        app_id: str,
        event_type: str,
        payload: Any,
        *,
        connection: object,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Message:
        """The transactional outbox for blocking code: runs in the caller's thread, on the
        caller's connection (see ``create``)."""
        message = self.build(app_id, event_type, payload, event_id=event_id, headers=headers)
        stored, created = self._context.store.create_message_within_sync(
            connection, message, now=message.created_at
        )
        if created:
            self._context.wake()
        return stored

    def build(
        self,
        app_id: str,
        event_type: str,
        payload: Any,
        *,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Message:
        """Validate and make a message, writing nothing."""
        return Message(
            id=ids.new_id(ids.MESSAGE),
            app_id=app_id,
            event_type=check_event_type(event_type),
            event_id=check_uid(event_id, "event_id"),
            payload=encode_payload(payload, self._context.settings.max_payload_bytes),
            headers=check_headers(headers),
            created_at=self._context.clock(),
        )

    async def get(self, app: str, message: str) -> Message:
        application = await self._context.application(app)
        return await self._context.store.get_message(application.id, message)

    async def list(
        self,
        app: str,
        *,
        limit: int = 50,
        iterator: str | None = None,
        event_types: Iterable[str] | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
    ) -> Page[Message]:
        """Newest first."""
        application = await self._context.application(app)
        where = MessageFilter(
            event_types=None if event_types is None else tuple(check_event_type(t) for t in event_types),
            before=None if before is None else require_utc(before, "before"),
            after=None if after is None else require_utc(after, "after"),
        )
        return await self._context.store.list_messages(
            application.id, limit=page_size(limit), iterator=iterator, where=where
        )

    async def deliveries(self, app: str, message: str) -> builtins.list[Delivery]:
        """Where the message stands with each endpoint it was sent to."""
        found = await self.get(app, message)
        return await self._context.store.list_deliveries(found.app_id, found.id)

    async def resend(self, app: str, message: str, endpoint: str) -> Delivery:
        """Send the message to the endpoint again now, with a fresh retry schedule."""
        found = await self.get(app, message)
        target = await self._context.store.get_endpoint(found.app_id, endpoint)
        delivery = await self._context.store.requeue(
            found.app_id, found.id, target.id, now=self._context.clock()
        )
        self._context.wake()
        return delivery
