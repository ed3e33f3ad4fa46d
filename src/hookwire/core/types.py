"""The domain: applications, endpoints, event types, messages, deliveries and attempts.

All values are immutable. Datetimes are aware and in UTC (see ``core.clock``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")


class DeliveryStatus(enum.StrEnum):
    """Where one message stands with one endpoint."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker under a lease
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: attempts exhausted, endpoint disabled, or refused


class AttemptError(enum.StrEnum):
    """Why an attempt got no HTTP status code, or why its response was unusable."""

    TIMEOUT = "timeout"
    CONNECT = "connect"
    TLS = "tls"
    DNS = "dns"
    BLOCKED = "blocked"  # the SSRF guard refused the destination
    TOO_LARGE = "too_large"  # response headers beyond what we accept
    INVALID_RESPONSE = "invalid_response"
    CONNECTION_RESET = "connection_reset"
    ENDPOINT_DISABLED = "endpoint_disabled"


class AttemptTrigger(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"  # resend or recover


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    uid: str | None
    name: str
    retry_schedule: tuple[float, ...] | None
    metadata: Mapping[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A URL an application registered.

    ``filter_types`` of ``None`` means every event type; otherwise exact names or ``prefix.*``.
    ``secret`` is the current signing secret (``whsec_...``); it never appears in a repr.
    """

    id: str
    app_id: str
    uid: str | None
    url: str
    description: str
    filter_types: tuple[str, ...] | None
    headers: Mapping[str, str]
    disabled: bool
    disabled_reason: str | None
    retry_schedule: tuple[float, ...] | None
    metadata: Mapping[str, str]
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    secret: str = field(repr=False)
    previous_secret: str | None = field(default=None, repr=False)
    previous_secret_expires_at: datetime | None = None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a request sent at ``now``: the new one, and the old during overlap."""
        if (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and now < self.previous_secret_expires_at
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    schema: Mapping[str, Any] | None
    archived: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    """One event sent to one application. ``payload`` holds the exact bytes every attempt sends."""

    id: str
    app_id: str
    event_type: str
    event_id: str | None
    payload: bytes = field(repr=False)
    headers: Mapping[str, str]
    created_at: datetime

    def data(self) -> Any:
        """The payload, parsed."""
        return orjson.loads(self.payload)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    message_id: str
    endpoint_id: str
    app_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP request made for a delivery, successful or not."""

    id: str
    delivery_id: str
    message_id: str
    endpoint_id: str
    app_id: str
    number: int
    url: str
    started_at: datetime
    duration_ms: int
    status_code: int | None
    response_body: bytes = field(repr=False)
    error: AttemptError | None
    error_detail: str | None
    succeeded: bool
    trigger: AttemptTrigger


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. ``iterator`` continues it; ``done`` says there is nothing after."""

    items: tuple[T, ...]
    iterator: str | None
    done: bool


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key for the HTTP API. Only a hash of the token is stored; ``prefix`` helps recognise it.

    ``app_id`` of ``None`` makes an admin key; otherwise the key sees only that application.
    """

    id: str
    app_id: str | None
    name: str
    prefix: str
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.app_id is None


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    """What an earlier request with the same ``Idempotency-Key`` produced, or is producing."""

    finished: bool
    fingerprint: str
    status: int | None
    body: bytes | None


@dataclass(frozen=True, slots=True)
class HealthFigures:
    """Figures for metrics and the overview: live deliveries, the oldest, disabled endpoints."""

    pending_deliveries: int
    oldest_pending_at: datetime | None
    disabled_endpoints: int
