"""Stats: figures about deliveries (the overview, endpoint health) and the message search.

Every method takes an application (id or uid) or ``None`` for all of them; callers that serve a
key scoped to one application pass that application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from hookwire.core.clock import require_utc
from hookwire.core.errors import ValidationError
from hookwire.core.filters import check_event_type
from hookwire.core.stats import Backlog, EndpointActivity, MessageSearch, TimelineBucket, fill_timeline
from hookwire.core.types import DeliveryStatus, Endpoint, Message, Page
from hookwire.service.context import Context, page_size

#: The longest timeline a caller may ask for, and its finest bucket: at most this many bars.
MAX_WINDOW = timedelta(days=31)
MAX_BUCKETS = 2000


class Stats:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def _app_id(self, app: str | None) -> str | None:
        return None if app is None else (await self._context.application(app)).id

    async def timeline(
        self, app: str | None = None, *, window: timedelta, bucket: timedelta
    ) -> list[TimelineBucket]:
        """Attempts per bucket over the last ``window``, oldest first, empty buckets included."""
        if not timedelta(0) < window <= MAX_WINDOW or window / bucket > MAX_BUCKETS:
            raise ValidationError(f"a timeline covers up to {MAX_WINDOW} in up to {MAX_BUCKETS} buckets")
        now = self._context.clock()
        since = now - window
        found = await self._context.store.attempt_timeline(
            app_id=await self._app_id(app), since=since, bucket=bucket
        )
        # The first bucket may begin before ``since``; its count then covers only part of it.
        return fill_timeline(found, since=since, until=now, bucket=bucket)

    async def backlog(self, app: str | None = None) -> Backlog:
        """Deliveries waiting or being sent, and when the oldest of them was created."""
        return await self._context.store.backlog(await self._app_id(app))

    async def troubled_endpoints(self, app: str | None = None, *, limit: int = 20) -> list[Endpoint]:
        """Disabled endpoints first, then those failing the longest."""
        return await self._context.store.troubled_endpoints(await self._app_id(app), limit=page_size(limit))

    async def endpoint_activity(
        self, app: str, endpoints: Sequence[str], *, window: timedelta = timedelta(hours=24)
    ) -> dict[str, EndpointActivity]:
        """By endpoint id: attempts over the last ``window`` and the last attempt, for the
        application's endpoints listed (by id)."""
        app_id = await self._app_id(app)
        assert app_id is not None
        since = self._context.clock() - window
        found = await self._context.store.endpoint_activity(app_id, list(endpoints), since=since)
        return {activity.endpoint_id: activity for activity in found}

    async def recoverable(self, app: str, endpoint: str, since: datetime) -> int:
        """How many deliveries ``endpoints.recover(app, endpoint, since)`` would resend now."""
        application = await self._context.application(app)
        found = await self._context.store.get_endpoint(application.id, endpoint)
        return await self._context.store.count_recoverable(
            application.id, found.id, since=require_utc(since, "since")
        )

    async def search_messages(
        self,
        app: str | None = None,
        *,
        event_type: str | None = None,
        status: DeliveryStatus | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
        limit: int = 50,
        iterator: str | None = None,
    ) -> Page[Message]:
        """Messages newest first; ``status`` keeps those with a delivery in that status."""
        where = MessageSearch(
            app_id=await self._app_id(app),
            event_type=None if event_type is None else check_event_type(event_type),
            status=status,
            before=None if before is None else require_utc(before, "before"),
            after=None if after is None else require_utc(after, "after"),
        )
        return await self._context.store.search_messages(where, limit=page_size(limit), iterator=iterator)

    async def delivery_counts(self, messages: Sequence[str]) -> Mapping[str, Mapping[DeliveryStatus, int]]:
        """For each message id listed, how many of its deliveries are in each status."""
        if len(messages) > 1000:
            raise ValidationError("ask for at most 1000 messages at once")
        return await self._context.store.message_delivery_counts(list(messages))
