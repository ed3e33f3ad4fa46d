"""Request and response bodies of the HTTP API, in the Svix v1 shapes (camelCase JSON), so that
the official Svix SDKs work against hookwire unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from hookwire.core.types import (
    Application,
    Attempt,
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventType,
    Message,
    Page,
)

T = TypeVar("T")

# Svix's MessageStatus: an integer on attempts and per-endpoint statuses.
STATUS_CODES = {
    DeliveryStatus.SUCCEEDED: 0,
    DeliveryStatus.PENDING: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.SENDING: 3,
}
STATUS_TEXT = {
    DeliveryStatus.SUCCEEDED: "success",
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.FAILED: "fail",
    DeliveryStatus.SENDING: "sending",
}

Metadata = dict[str, str]
Uid = str


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class In(Model):
    """A request body: unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ListResponse(Model, Generic[T]):
    data: list[T]
    iterator: str | None
    prev_iterator: str | None = None
    done: bool


def page_of(page: Page[Any], items: list[T]) -> ListResponse[T]:
    return ListResponse[T](data=items, iterator=page.iterator, prev_iterator=None, done=page.done)


class Empty(Model):
    """An empty JSON object, as Svix answers where there is nothing to say."""


class HttpErrorOut(Model):
    code: str
    detail: str


# -- applications ------------------------------------------------------------------------------


class ApplicationIn(In):
    name: str = Field(min_length=1, max_length=256)
    uid: Uid | None = Field(default=None, min_length=1, max_length=256)
    metadata: Metadata | None = None
    throttle_rate: int | None = Field(default=None, description="Not supported; must be left out.")


class ApplicationPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    uid: Uid | None = Field(default=None, min_length=1, max_length=256)
    metadata: Metadata | None = None


class ApplicationOut(Model):
    id: str
    uid: str | None
    name: str
    metadata: Metadata
    throttle_rate: int | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, app: Application) -> ApplicationOut:
        return cls(
            id=app.id,
            uid=app.uid,
            name=app.name,
            metadata=dict(app.metadata),
            created_at=app.created_at,
            updated_at=app.updated_at,
        )


# -- endpoints ---------------------------------------------------------------------------------


class EndpointIn(In):
    url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=4096)
    uid: Uid | None = Field(default=None, min_length=1, max_length=256)
    disabled: bool = False
    event_types: list[str] | None = Field(default=None, max_length=256)
    filter_types: list[str] | None = Field(
        default=None, max_length=256, description="Older name of eventTypes."
    )
    channels: list[str] | None = Field(default=None, description="Not supported; must be left out or empty.")
    secret: str | None = Field(default=None, max_length=256)
    metadata: Metadata | None = None
    headers: dict[str, str] | None = None
    throttle_rate: int | None = Field(default=None, description="Not supported; must be left out.")
    version: int | None = Field(default=None, description="Accepted for compatibility; ignored.")
    rate_limit: int | None = Field(default=None, description="Not supported; must be left out.")


class EndpointUpdate(In):
    url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=4096)
    uid: Uid | None = Field(default=None, min_length=1, max_length=256)
    disabled: bool = False
    event_types: list[str] | None = Field(default=None, max_length=256)
    filter_types: list[str] | None = Field(default=None, max_length=256)
    channels: list[str] | None = None
    metadata: Metadata | None = None
    throttle_rate: int | None = None
    version: int | None = None
    rate_limit: int | None = None


class EndpointPatch(In):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=4096)
    uid: Uid | None = Field(default=None, min_length=1, max_length=256)
    disabled: bool | None = None
    event_types: list[str] | None = Field(default=None, max_length=256)
    filter_types: list[str] | None = Field(default=None, max_length=256)
    channels: list[str] | None = None
    metadata: Metadata | None = None
    throttle_rate: int | None = None
    version: int | None = None
    rate_limit: int | None = None


class EndpointOut(Model):
    id: str
    url: str
    description: str
    uid: str | None
    disabled: bool
    event_types: list[str] | None
    filter_types: list[str] | None
    channels: list[str] | None = None
    metadata: Metadata
    throttle_rate: int | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointOut:
        types = None if endpoint.filter_types is None else list(endpoint.filter_types)
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            uid=endpoint.uid,
            disabled=endpoint.disabled,
            event_types=types,
            filter_types=types,
            metadata=dict(endpoint.metadata),
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class EndpointSecretOut(Model):
    key: str


class EndpointSecretRotateIn(In):
    key: str | None = Field(default=None, max_length=256)


class EndpointHeadersIn(In):
    headers: dict[str, str]


class EndpointHeadersPatchIn(In):
    headers: dict[str, str]
    delete_headers: list[str] | None = None


class EndpointHeadersOut(Model):
    headers: dict[str, str]
    sensitive: list[str] = []


class EndpointStats(Model):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int = 0


class RecoverIn(In):
    since: datetime
    until: datetime | None = None


class RecoverOut(Model):
    id: str
    status: str = "finished"
    task: str = "endpoint.recover"
    updated_at: datetime
    recovered: int = Field(description="How many failed deliveries were queued again (hookwire).")


# -- messages and attempts ---------------------------------------------------------------------


class MessageIn(In):
    event_type: str = Field(min_length=1, max_length=256)
    payload: dict[str, Any]
    event_id: str | None = Field(default=None, min_length=1, max_length=256)
    application: ApplicationIn | None = Field(
        default=None, description="Creates the application (by uid) if it does not exist yet."
    )
    channels: list[str] | None = Field(default=None, description="Not supported; must be left out or empty.")
    tags: list[str] | None = Field(default=None, description="Not supported; must be left out or empty.")
    payload_retention_period: int | None = Field(default=None, description="Accepted; payloads are kept.")
    payload_retention_hours: int | None = Field(default=None, description="Accepted; payloads are kept.")
    deliver_at: datetime | None = Field(default=None, description="Not supported; must be left out.")
    transformations_params: dict[str, Any] | None = Field(default=None, description="Not supported.")


class MessageOut(Model):
    id: str
    event_type: str
    event_id: str | None
    payload: Any = Field(description="The JSON payload; an object for messages created over HTTP.")
    timestamp: datetime
    channels: list[str] | None = None
    tags: list[str] | None = None

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            event_type=message.event_type,
            event_id=message.event_id,
            payload=message.data(),
            timestamp=message.created_at,
        )


class MessageAttemptOut(Model):
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int = Field(description="0 when no response arrived (see errorKind).")
    response_duration_ms: int
    status: int
    status_text: str
    trigger_type: int
    timestamp: datetime
    error_kind: str | None = Field(
        default=None, description="timeout, connect, tls, dns, blocked, ... (hookwire)"
    )
    error_detail: str | None = None

    @classmethod
    def of(cls, attempt: Attempt) -> MessageAttemptOut:
        status = DeliveryStatus.SUCCEEDED if attempt.succeeded else DeliveryStatus.FAILED
        return cls(
            id=attempt.id,
            msg_id=attempt.message_id,
            endpoint_id=attempt.endpoint_id,
            url=attempt.url,
            response=attempt.response_body.decode("utf-8", "replace"),
            response_status_code=attempt.status_code or 0,
            response_duration_ms=attempt.duration_ms,
            status=STATUS_CODES[status],
            status_text=STATUS_TEXT[status],
            trigger_type=1 if attempt.trigger is AttemptTrigger.MANUAL else 0,
            timestamp=attempt.started_at,
            error_kind=None if attempt.error is None else attempt.error.value,
            error_detail=attempt.error_detail,
        )


class DeliveryOut(Model):
    """Where a message stands with one endpoint (hookwire)."""

    endpoint_id: str
    status: int
    status_text: str
    attempts: int
    next_attempt: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            endpoint_id=delivery.endpoint_id,
            status=STATUS_CODES[delivery.status],
            status_text=STATUS_TEXT[delivery.status],
            attempts=delivery.attempts,
            next_attempt=delivery.next_attempt_at,
        )


# -- event types -------------------------------------------------------------------------------


class EventTypeIn(In):
    name: str = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=4096)
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, Any] | None = None
    group_name: str | None = None
    feature_flags: list[str] | None = None
    feature_flag: str | None = None


class EventTypeUpdate(In):
    description: str = Field(default="", max_length=4096)
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, Any] | None = None
    group_name: str | None = None
    feature_flags: list[str] | None = None
    feature_flag: str | None = None


class EventTypePatch(In):
    description: str | None = Field(default=None, max_length=4096)
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, Any] | None = None
    group_name: str | None = None
    feature_flags: list[str] | None = None
    feature_flag: str | None = None


class EventTypeOut(Model):
    name: str
    description: str
    archived: bool
    deprecated: bool = False
    schemas: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, event_type: EventType) -> EventTypeOut:
        return cls(
            name=event_type.name,
            description=event_type.description,
            archived=event_type.archived,
            schemas=None if event_type.schema is None else dict(event_type.schema),
            created_at=event_type.created_at,
            updated_at=event_type.updated_at,
        )


class HealthOut(Model):
    status: str
    database: str
