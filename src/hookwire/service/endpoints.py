"""Endpoints: the URLs an application registered, with their secrets, filters and health."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hookwire.core import ids
from hookwire.core.clock import require_utc
from hookwire.core.filters import check_event_type, check_filter
from hookwire.core.settings import check_schedule
from hookwire.core.signing import decode_secret, generate_secret
from hookwire.core.types import DeliveryStatus, Endpoint, Message, Page
from hookwire.core.validate import (
    check_headers,
    check_metadata,
    check_text,
    check_uid,
    check_url,
    encode_payload,
)
from hookwire.service.context import Context, page_size


class _Unset(enum.Enum):
    """Marks an argument left out, where ``None`` is a meaningful value."""

    UNSET = enum.auto()


UNSET = _Unset.UNSET

TEST_EVENT_TYPE = "hookwire.test"
TEST_PAYLOAD = {"type": "hookwire.test", "message": "A test event: your endpoint is reachable."}


class Endpoints:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(
        self,
        app: str,
        url: str,
        *,
        uid: str | None = None,
        description: str = "",
        filter_types: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
        secret: str | None = None,
        disabled: bool = False,
        retry_schedule: Sequence[float] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """Register ``url`` to receive the application's messages.

        Args:
            app: the application's id or uid.
            url: an absolute http(s) URL without credentials.
            filter_types: event types (or ``prefix.*``) to receive; ``None`` for every type.
            headers: sent with every request (e.g. a static token for simple receivers).
            secret: a ``whsec_...`` signing secret; one is generated when omitted.
            retry_schedule: delays in seconds before each attempt, replacing the application's.
        """
        application = await self._context.application(app)
        now = self._context.clock()
        if secret is not None:
            decode_secret(secret)
        endpoint = Endpoint(
            id=ids.new_id(ids.ENDPOINT),
            app_id=application.id,
            uid=check_uid(uid, "uid"),
            url=check_url(url),
            description=check_text(description, "description"),
            filter_types=check_filter(filter_types),
            headers=check_headers(headers),
            disabled=disabled,
            disabled_reason="disabled when created" if disabled else None,
            retry_schedule=None if retry_schedule is None else check_schedule(retry_schedule),
            metadata=check_metadata(metadata),
            failing_since=None,
            created_at=now,
            updated_at=now,
            secret=secret or generate_secret(),
        )
        return await self._context.store.create_endpoint(endpoint)

    async def get(self, app: str, endpoint: str) -> Endpoint:
        application = await self._context.application(app)
        return await self._context.store.get_endpoint(application.id, endpoint)

    async def list(self, app: str, *, limit: int = 50, iterator: str | None = None) -> Page[Endpoint]:
        application = await self._context.application(app)
        return await self._context.store.list_endpoints(
            application.id, limit=page_size(limit), iterator=iterator
        )

    async def update(
        self,
        app: str,
        endpoint: str,
        *,
        url: str | None = None,
        uid: str | None = None,
        description: str | None = None,
        filter_types: Iterable[str] | _Unset | None = UNSET,
        headers: Mapping[str, str] | None = None,
        retry_schedule: Sequence[float] | _Unset | None = UNSET,
        metadata: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """Change the given fields. ``filter_types=None`` subscribes to every event type."""
        current = await self.get(app, endpoint)
        changes: dict[str, object] = {"updated_at": self._context.clock()}
        if url is not None:
            changes["url"] = check_url(url)
        if uid is not None:
            changes["uid"] = check_uid(uid, "uid")
        if description is not None:
            changes["description"] = check_text(description, "description")
        if not isinstance(filter_types, _Unset):
            changes["filter_types"] = check_filter(filter_types)
        if headers is not None:
            changes["headers"] = check_headers(headers)
        if not isinstance(retry_schedule, _Unset):
            changes["retry_schedule"] = None if retry_schedule is None else check_schedule(retry_schedule)
        if metadata is not None:
            changes["metadata"] = check_metadata(metadata)
        return await self._context.store.update_endpoint(dataclasses.replace(current, **changes))  # type: ignore[arg-type]

    async def delete(self, app: str, endpoint: str) -> None:
        """Delete the endpoint with its pending deliveries and its attempts."""
        current = await self.get(app, endpoint)
        await self._context.store.delete_endpoint(current.app_id, current.id)

    async def get_secret(self, app: str, endpoint: str) -> str:
        return (await self.get(app, endpoint)).secret

    async def rotate_secret(self, app: str, endpoint: str, secret: str | None = None) -> str:
        """Replace the signing secret; the old one keeps signing beside it for the overlap period
        (24 h by default) so receivers can switch without losing a request. Returns the new one."""
        current = await self.get(app, endpoint)
        if secret is not None:
            decode_secret(secret)
        now = self._context.clock()
        rotated = dataclasses.replace(
            current,
            secret=secret or generate_secret(),
            previous_secret=current.secret,
            previous_secret_expires_at=now + self._context.settings.secret_rotation_overlap,
            updated_at=now,
        )
        await self._context.store.update_endpoint(rotated)
        return rotated.secret

    async def disable(self, app: str, endpoint: str, reason: str | None = None) -> Endpoint:
        """Stop sending to the endpoint. Deliveries due meanwhile fail; ``recover`` resends them."""
        current = await self.get(app, endpoint)
        return await self._context.store.set_endpoint_disabled(
            current.app_id,
            current.id,
            disabled=True,
            reason=check_text(reason or "disabled by request", "reason", limit=512),
            now=self._context.clock(),
        )

    async def enable(self, app: str, endpoint: str) -> Endpoint:
        current = await self.get(app, endpoint)
        return await self._context.store.set_endpoint_disabled(
            current.app_id, current.id, disabled=False, reason=None, now=self._context.clock()
        )

    async def delivery_counts(self, app: str, endpoint: str) -> Mapping[DeliveryStatus, int]:
        """How many of the endpoint's deliveries are in each status."""
        current = await self.get(app, endpoint)
        return await self._context.store.endpoint_delivery_counts(current.id)

    async def recover(self, app: str, endpoint: str, since: datetime) -> int:
        """Resend every failed delivery of the endpoint for messages created since ``since``."""
        current = await self.get(app, endpoint)
        count = await self._context.store.recover(
            current.app_id, current.id, since=require_utc(since, "since"), now=self._context.clock()
        )
        if count:
            self._context.wake()
        return count

    async def send_test(
        self, app: str, endpoint: str, *, event_type: str = TEST_EVENT_TYPE, payload: Any = None
    ) -> Message:
        """Send an event to this endpoint only, whatever its filter, to check that it receives.

        The message is stored and retried like any other, so its attempts show with the
        endpoint's; ``payload`` defaults to a small JSON object saying it is a test.
        """
        current = await self.get(app, endpoint)
        now = self._context.clock()
        message = Message(
            id=ids.new_id(ids.MESSAGE),
            app_id=current.app_id,
            event_type=check_event_type(event_type),
            event_id=None,
            payload=encode_payload(
                TEST_PAYLOAD if payload is None else payload, self._context.settings.max_payload_bytes
            ),
            headers={},
            created_at=now,
        )
        stored = await self._context.store.create_message_for_endpoint(message, current.id, now=now)
        self._context.wake()
        return stored
