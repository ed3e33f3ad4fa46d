"""The ``Store``: everything the service and the worker need from a database, in domain words.

``SQLiteStore`` and ``PostgresStore`` implement it; one contract suite tests both. Being an
ABC, a backend that misses a method fails when it is constructed, not when it is first used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from hookwire.core.errors import ValidationError
from hookwire.core.stats import Backlog, EndpointActivity, MessageSearch, TimelineBucket
from hookwire.core.types import (
    ApiKey,
    Application,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventType,
    HealthFigures,
    IdempotentResponse,
    Message,
    Page,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a worker holds under a lease, with all it needs to make the attempt.

    ``lease_token`` fences the result: it is written only while the token is still current.
    """

    delivery_id: str
    lease_token: int
    message_id: str
    app_id: str
    endpoint_id: str
    event_type: str
    payload: bytes
    message_headers: Mapping[str, str]
    url: str
    endpoint_headers: Mapping[str, str]
    secrets: tuple[str, ...] = field(repr=False)  # a logged claim must not carry them
    retry_schedule: tuple[float, ...] | None
    attempts: int  # made before this one, ever
    round_attempts: int  # made before this one, since the schedule (re)started
    manual: bool
    failing_since: datetime | None
    endpoint_disabled: bool


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """What a result says about its endpoint: it works, it fails, or it must be disabled."""

    succeeded: bool
    disable_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The outcome of one claim, to be written back if the claim's lease is still ours.

    ``attempt`` is ``None`` when no request was made (the endpoint had been disabled).
    """

    delivery_id: str
    lease_token: int
    endpoint_id: str
    status: DeliveryStatus
    next_attempt_at: datetime | None
    attempt: Attempt | None
    health: EndpointHealth | None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    event_types: tuple[str, ...] | None = None
    before: datetime | None = None
    after: datetime | None = None


#: The lease token of a delivery written leased (a hand-off): as if claimed once, since claims
#: bump it from 0.
FIRST_LEASE = 1


@dataclass(frozen=True, slots=True)
class HandedOff:
    """Deliveries written leased to a worker, committed: how many, and a function that makes
    their claims, on whichever thread calls it (the worker's own: the writing thread is the
    one that everything else waits for)."""

    count: int
    claims: Callable[[], list[Claim]]


class HandOff(Protocol):
    """A worker of this process that takes new deliveries as they are written, already leased
    to it, so that they need no claim: the store writes them ``sending`` under a first lease
    token, due when the lease ends, exactly as a claim would leave them.

    Both methods are called on the thread that writes, not on the worker's event loop:
    ``room`` while the transaction is open, ``take`` once it has committed (never for writes
    that were rolled back). A lease the worker never acts on expires, and any worker then
    claims the delivery, as after a crash.
    """

    @property
    def lease(self) -> timedelta: ...

    def room(self, endpoint_ids: Collection[str]) -> tuple[int, dict[str, int]]:
        """How many new deliveries the worker would take now: in all, and for each endpoint."""
        ...

    def take(self, handed: HandedOff) -> None:
        """Deliveries written leased to the worker have been committed."""
        ...


def split_by_room(
    hand_off: HandOff, deliveries: Sequence[T], endpoint_of: Callable[[T], str]
) -> tuple[list[T], list[T]]:
    """Those of the new ``deliveries`` that ``hand_off`` has room for, and the others, each in
    the order given."""
    total, rooms = hand_off.room({endpoint_of(delivery) for delivery in deliveries})
    taken: list[T] = []
    others: list[T] = []
    for delivery in deliveries:
        endpoint_id = endpoint_of(delivery)
        if total > 0 and rooms.get(endpoint_id, 0) > 0:
            total -= 1
            rooms[endpoint_id] -= 1
            taken.append(delivery)
        else:
            others.append(delivery)
    return taken, others


class Store(ABC):
    """Persistence for hookwire. All methods are coroutines and safe to call concurrently."""

    # -- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    async def migrate(self) -> None:
        """Apply every migration not applied yet."""

    @abstractmethod
    async def close(self) -> None: ...

    async def hand_off_to(self, hand_off: HandOff | None) -> None:
        """Give the deliveries of messages created from now on to ``hand_off`` as they are
        written, up to the room it has (``None``: to nobody). When this returns, every
        delivery handed off before has been taken. A backend that cannot hand off leaves its
        deliveries to be claimed (the default)."""
        return None

    async def watch(self, wake: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call ``wake`` whenever another process creates work; returns a coroutine function that
        stops watching. A backend that cannot be told leaves workers to poll (the default)."""

        async def stop() -> None:
            return None

        return stop

    # -- applications ----------------------------------------------------------------------

    @abstractmethod
    async def create_application(self, application: Application) -> Application:
        """Insert; ``Conflict`` if its uid is taken."""

    @abstractmethod
    async def get_application(self, key: str) -> Application:
        """By id or uid; ``NotFound`` if neither."""

    @abstractmethod
    async def list_applications(self, *, limit: int, iterator: str | None) -> Page[Application]: ...

    @abstractmethod
    async def update_application(self, application: Application) -> Application: ...

    @abstractmethod
    async def delete_application(self, app_id: str) -> None: ...

    # -- endpoints -------------------------------------------------------------------------

    @abstractmethod
    async def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """Insert; ``Conflict`` if its uid is taken in its application."""

    @abstractmethod
    async def get_endpoint(self, app_id: str, key: str) -> Endpoint:
        """By id or uid within the application; ``NotFound`` otherwise."""

    @abstractmethod
    async def list_endpoints(self, app_id: str, *, limit: int, iterator: str | None) -> Page[Endpoint]: ...

    @abstractmethod
    async def update_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """Replace every mutable field (url, filter, headers, secrets, ...) of an existing endpoint."""

    @abstractmethod
    async def set_endpoint_disabled(
        self, app_id: str, endpoint_id: str, *, disabled: bool, reason: str | None, now: datetime
    ) -> Endpoint:
        """Disable or enable, and record the change with its reason."""

    @abstractmethod
    async def delete_endpoint(self, app_id: str, endpoint_id: str) -> None: ...

    # -- event types -----------------------------------------------------------------------

    @abstractmethod
    async def save_event_type(self, event_type: EventType) -> EventType:
        """Insert or replace by name."""

    @abstractmethod
    async def get_event_type(self, name: str) -> EventType: ...

    @abstractmethod
    async def list_event_types(
        self, *, limit: int, iterator: str | None, include_archived: bool
    ) -> Page[EventType]: ...

    # -- messages --------------------------------------------------------------------------

    @abstractmethod
    async def create_message(self, message: Message, *, now: datetime) -> tuple[Message, bool]:
        """Insert a message and fan it out, in one transaction, to every enabled endpoint of its
        application whose filter matches.

        If the application already has a message with the same ``event_id``, nothing is
        written and that message is returned. Returns ``(message, created)``.
        """

    async def create_message_in(
        self, app: str, make: Callable[[Application], Message]
    ) -> tuple[Message, bool]:
        """``create_message`` for the application ``app`` (id or uid), ``NotFound`` if there is
        none. ``make`` builds the message for the application found, and may refuse it by
        raising, which writes nothing. The message is written as of its ``created_at``.

        This default looks the application up, then writes; a backend may save trips (SQLite
        looks up and writes in one transaction, PostgreSQL looks up the applications of
        concurrent messages with one query).
        """
        message = make(await self.get_application(app))
        return await self.create_message(message, now=message.created_at)

    async def create_message_within(
        self, connection: object, message: Message, *, now: datetime
    ) -> tuple[Message, bool]:
        """``create_message`` on the caller's own connection, inside the caller's transaction
        (the transactional outbox): the message exists if and only if that transaction commits.
        """
        return self.create_message_within_sync(connection, message, now=now)

    def create_message_within_sync(
        self, connection: object, message: Message, *, now: datetime
    ) -> tuple[Message, bool]:
        """``create_message_within`` for a blocking connection, run in the caller's thread."""
        raise ValidationError(f"{type(self).__name__} cannot write on a {type(connection).__name__}")

    @abstractmethod
    async def get_message(self, app_id: str, message_id: str) -> Message: ...

    @abstractmethod
    async def list_messages(
        self, app_id: str, *, limit: int, iterator: str | None, where: MessageFilter
    ) -> Page[Message]: ...

    @abstractmethod
    async def list_deliveries(self, app_id: str, message_id: str) -> list[Delivery]: ...

    @abstractmethod
    async def list_attempts(
        self,
        app_id: str,
        *,
        message_id: str | None = None,
        endpoint_id: str | None = None,
        limit: int,
        iterator: str | None,
    ) -> Page[Attempt]:
        """Newest first, for one message and/or one endpoint."""

    # -- delivery work ---------------------------------------------------------------------

    @abstractmethod
    async def claim_due(
        self,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        per_endpoint: int,
        room: Mapping[str, int],
        blocked: Mapping[str, datetime] | None = None,
    ) -> list[Claim]:
        """Take up to ``limit`` deliveries that are due (or whose lease expired), oldest first:
        at most ``room[endpoint_id]`` for an endpoint listed there, ``per_endpoint`` for others.

        The look-ahead is bounded, so the cost does not grow with the backlog; deliveries of
        endpoints without room are skipped, not waited for. Pending deliveries within the
        look-ahead of an endpoint in ``blocked`` (one the caller cannot take more of) are made
        due at the time given for it: left at the head of the queue, a busy endpoint's backlog
        would fill every look-ahead and hide the deliveries of the others behind it."""

    @abstractmethod
    async def record_results(self, results: Sequence[AttemptResult], *, now: datetime) -> set[str]:
        """Write results whose lease token is still current, in one transaction.

        Returns the delivery ids written; the others were fenced off (another worker took over).
        """

    @abstractmethod
    async def release(self, claims: Sequence[Claim], *, now: datetime) -> None:
        """Hand back claims that were never attempted, due at once."""

    @abstractmethod
    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery (or lease) falls due, if any."""

    @abstractmethod
    async def requeue(self, app_id: str, message_id: str, endpoint_id: str, *, now: datetime) -> Delivery:
        """Resend: make the delivery due now with a fresh schedule, creating it if needed."""

    @abstractmethod
    async def recover(self, app_id: str, endpoint_id: str, *, since: datetime, now: datetime) -> int:
        """Requeue every failed delivery of the endpoint whose message was created since ``since``."""

    @abstractmethod
    async def count_deliveries(self, app_id: str | None = None) -> Mapping[DeliveryStatus, int]: ...

    @abstractmethod
    async def endpoint_delivery_counts(self, endpoint_id: str) -> Mapping[DeliveryStatus, int]: ...

    @abstractmethod
    async def health_figures(self) -> HealthFigures: ...

    # -- API keys ----------------------------------------------------------------------------

    @abstractmethod
    async def create_api_key(self, key: ApiKey, *, key_hash: str) -> ApiKey: ...

    @abstractmethod
    async def find_api_key(self, key_hash: str) -> ApiKey | None: ...

    @abstractmethod
    async def list_api_keys(self) -> list[ApiKey]: ...

    @abstractmethod
    async def delete_api_key(self, key_id: str) -> None: ...

    # -- idempotency -------------------------------------------------------------------------

    @abstractmethod
    async def start_idempotent(
        self, scope: str, *, fingerprint: str, now: datetime, expires_at: datetime
    ) -> IdempotentResponse | None:
        """Claim ``scope`` for a request; ``None`` if claimed now, else the earlier record.

        The claim is an insert on a unique key, so of concurrent requests exactly one wins.
        """

    @abstractmethod
    async def finish_idempotent(self, scope: str, *, status: int, body: bytes) -> None: ...

    @abstractmethod
    async def forget_idempotent(self, scope: str) -> None:
        """Drop an unfinished claim (the request failed): a retry may run it again."""

    # -- figures and searches for the dashboard --------------------------------------------

    @abstractmethod
    async def attempt_timeline(
        self, *, app_id: str | None, since: datetime, bucket: timedelta
    ) -> list[TimelineBucket]:
        """Attempts started since ``since`` (of one application, or all), counted per bucket of
        ``bucket`` aligned on the Unix epoch, oldest first; empty buckets are left out."""

    @abstractmethod
    async def endpoint_activity(
        self, app_id: str, endpoint_ids: Sequence[str], *, since: datetime
    ) -> list[EndpointActivity]:
        """For each of the application's endpoints listed: its attempts since ``since`` and its
        last attempt ever. Ids of other applications' endpoints are ignored."""

    @abstractmethod
    async def troubled_endpoints(self, app_id: str | None, *, limit: int) -> list[Endpoint]:
        """Endpoints that are disabled or failing (of one application, or all): disabled first,
        then the longest failing."""

    @abstractmethod
    async def backlog(self, app_id: str | None) -> Backlog:
        """Deliveries pending or being sent, of one application or all."""

    @abstractmethod
    async def count_recoverable(self, app_id: str, endpoint_id: str, *, since: datetime) -> int:
        """How many deliveries ``recover`` with the same arguments would requeue now."""

    @abstractmethod
    async def search_messages(
        self, where: MessageSearch, *, limit: int, iterator: str | None
    ) -> Page[Message]:
        """Messages matching ``where``, newest first, across applications unless it names one."""

    @abstractmethod
    async def message_delivery_counts(
        self, message_ids: Sequence[str]
    ) -> Mapping[str, Mapping[DeliveryStatus, int]]:
        """For each message listed, how many of its deliveries are in each status."""

    @abstractmethod
    async def create_message_for_endpoint(
        self, message: Message, endpoint_id: str, *, now: datetime
    ) -> Message:
        """Insert a message with one delivery, to this endpoint only, whatever the filters of the
        application's endpoints (a test event). The endpoint must be the message's application's."""
