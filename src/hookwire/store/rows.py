"""Rows to domain values and back, shared by every backend.

Both backends store times as integer milliseconds since the epoch (UTC) and JSON as text
(SQLite) or jsonb (PostgreSQL); readers here accept JSON either as text or already decoded.
Booleans are written as ``bool``, which SQLite stores as 0/1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

import orjson

from hookwire.core import ids
from hookwire.core.clock import from_ms, to_ms
from hookwire.core.secretbox import SecretBox, seal, unseal
from hookwire.core.types import (
    ApiKey,
    Application,
    Attempt,
    AttemptError,
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventType,
    HealthFigures,
    IdempotentResponse,
    Message,
    Page,
)
from hookwire.store.base import Claim, MessageFilter

T = TypeVar("T")


class Row(Protocol):
    """A database row read by column name (``sqlite3.Row``, a psycopg dict row)."""

    def __getitem__(self, key: str, /) -> Any: ...


def claim_from_row(row: Row, lease_token: int, now: datetime, box: SecretBox | None) -> Claim:
    previous_expires = row["previous_secret_expires_at"]
    endpoint_id = row["endpoint_id"]
    secrets: tuple[str, ...] = (unseal(box, row["secret"], endpoint_id) or "",)
    if row["previous_secret"] is not None and previous_expires is not None and to_ms(now) < previous_expires:
        secrets = (secrets[0], unseal(box, row["previous_secret"], endpoint_id) or "")
    return Claim(
        delivery_id=row["delivery_id"],
        lease_token=lease_token,
        message_id=row["message_id"],
        app_id=row["app_id"],
        endpoint_id=row["endpoint_id"],
        event_type=row["event_type"],
        payload=row["payload"],
        message_headers=json_value(row["message_headers"]),
        url=row["url"],
        endpoint_headers=json_value(row["endpoint_headers"]),
        secrets=secrets,
        retry_schedule=json_tuple(row["retry_schedule"]),
        attempts=row["attempts"],
        round_attempts=row["round_attempts"],
        manual=bool(row["manual"]),
        failing_since=time_or_none(row["failing_since"]),
        endpoint_disabled=bool(row["disabled"]),
    )


def json_or_none(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def json_value(value: Any) -> Any:
    """JSON from a column: text (SQLite) is parsed, jsonb (PostgreSQL) arrives parsed."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def json_tuple(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(json_value(value))


def time_or_none(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def ms_or_none(value: datetime | None) -> int | None:
    return None if value is None else to_ms(value)


def page(items: list[T], limit: int, key: Callable[[T], str]) -> Page[T]:
    done = len(items) <= limit
    items = items[:limit]
    return Page(tuple(items), key(items[-1]) if items else None, done)


def application_params(a: Application) -> dict[str, Any]:
    return {
        "id": a.id,
        "uid": a.uid,
        "name": a.name,
        "retry_schedule": json_or_none(a.retry_schedule),
        "metadata": orjson.dumps(dict(a.metadata)).decode(),
        "created_at": to_ms(a.created_at),
        "updated_at": to_ms(a.updated_at),
    }


def application(row: Row) -> Application:
    return Application(
        id=row["id"],
        uid=row["uid"],
        name=row["name"],
        retry_schedule=json_tuple(row["retry_schedule"]),
        metadata=json_value(row["metadata"]),
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
    )


def endpoint_params(e: Endpoint, box: SecretBox | None) -> dict[str, Any]:
    return {
        "id": e.id,
        "app_id": e.app_id,
        "uid": e.uid,
        "url": e.url,
        "description": e.description,
        "filter_types": json_or_none(e.filter_types),
        "headers": orjson.dumps(dict(e.headers)).decode(),
        "disabled": e.disabled,
        "disabled_reason": e.disabled_reason,
        "retry_schedule": json_or_none(e.retry_schedule),
        "metadata": orjson.dumps(dict(e.metadata)).decode(),
        "failing_since": ms_or_none(e.failing_since),
        "secret": seal(box, e.secret, e.id),
        "previous_secret": seal(box, e.previous_secret, e.id),
        "previous_secret_expires_at": ms_or_none(e.previous_secret_expires_at),
        "created_at": to_ms(e.created_at),
        "updated_at": to_ms(e.updated_at),
    }


def endpoint(row: Row, box: SecretBox | None) -> Endpoint:
    return Endpoint(
        id=row["id"],
        app_id=row["app_id"],
        uid=row["uid"],
        url=row["url"],
        description=row["description"],
        filter_types=json_tuple(row["filter_types"]),
        headers=json_value(row["headers"]),
        disabled=bool(row["disabled"]),
        disabled_reason=row["disabled_reason"],
        retry_schedule=json_tuple(row["retry_schedule"]),
        metadata=json_value(row["metadata"]),
        failing_since=time_or_none(row["failing_since"]),
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
        secret=unseal(box, row["secret"], row["id"]) or "",
        previous_secret=unseal(box, row["previous_secret"], row["id"]),
        previous_secret_expires_at=time_or_none(row["previous_secret_expires_at"]),
    )


def event_type(row: Row) -> EventType:
    return EventType(
        name=row["name"],
        description=row["description"],
        schema=None if row["schema"] is None else json_value(row["schema"]),
        archived=bool(row["archived"]),
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
    )


def message(row: Row) -> Message:
    return Message(
        id=row["id"],
        app_id=row["app_id"],
        event_type=row["event_type"],
        event_id=row["event_id"],
        payload=row["payload"],
        headers=json_value(row["headers"]),
        created_at=from_ms(row["created_at"]),
    )


def delivery(row: Row) -> Delivery:
    status = DeliveryStatus(row["status"])
    live = status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
    return Delivery(
        id=row["id"],
        message_id=row["message_id"],
        endpoint_id=row["endpoint_id"],
        app_id=row["app_id"],
        status=status,
        attempts=row["attempts"],
        next_attempt_at=time_or_none(row["due_at"]) if live else None,
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
    )


def attempt_params(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "delivery_id": a.delivery_id,
        "message_id": a.message_id,
        "endpoint_id": a.endpoint_id,
        "app_id": a.app_id,
        "number": a.number,
        "url": a.url,
        "started_at": to_ms(a.started_at),
        "duration_ms": a.duration_ms,
        "status_code": a.status_code,
        "response_body": a.response_body,
        "error": None if a.error is None else a.error.value,
        "error_detail": a.error_detail,
        "succeeded": a.succeeded,
        "trigger": a.trigger.value,
    }


def attempt(row: Row) -> Attempt:
    return Attempt(
        id=row["id"],
        delivery_id=row["delivery_id"],
        message_id=row["message_id"],
        endpoint_id=row["endpoint_id"],
        app_id=row["app_id"],
        number=row["number"],
        url=row["url"],
        started_at=from_ms(row["started_at"]),
        duration_ms=row["duration_ms"],
        status_code=row["status_code"],
        response_body=row["response_body"],
        error=None if row["error"] is None else AttemptError(row["error"]),
        error_detail=row["error_detail"],
        succeeded=bool(row["succeeded"]),
        trigger=AttemptTrigger(row["trigger"]),
    )


def event_type_params(e: EventType) -> dict[str, Any]:
    return {
        "name": e.name,
        "description": e.description,
        "schema": json_or_none(e.schema),
        "archived": e.archived,
        "created_at": to_ms(e.created_at),
        "updated_at": to_ms(e.updated_at),
    }


def message_window(iterator: str | None, where: MessageFilter) -> dict[str, str]:
    """Bounds on message ids for a newest-first page: below the iterator, inside the time range.

    Ids begin with their creation time, so a time range is an id range and uses the index.
    """
    before_id = iterator or "~"  # '~' sorts after every id
    if where.before is not None:
        before_id = min(before_id, ids.lower_bound(ids.MESSAGE, to_ms(where.before)))
    after_id = ids.lower_bound(ids.MESSAGE, to_ms(where.after)) if where.after is not None else ""
    return {"before_id": before_id, "after_id": after_id}


def api_key_params(key: ApiKey, key_hash: str) -> dict[str, Any]:
    return {
        "id": key.id,
        "app_id": key.app_id,
        "name": key.name,
        "key_hash": key_hash,
        "prefix": key.prefix,
        "created_at": to_ms(key.created_at),
    }


def api_key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        app_id=row["app_id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=from_ms(row["created_at"]),
    )


def idempotent_response(row: Row) -> IdempotentResponse:
    body = row["body"]
    return IdempotentResponse(
        finished=row["state"] == "done",
        fingerprint=row["fingerprint"],
        status=row["status"],
        body=None if body is None else bytes(body),
    )


def status_counts(found: Iterable[Row]) -> dict[DeliveryStatus, int]:
    counts = dict.fromkeys(DeliveryStatus, 0)
    counts.update({DeliveryStatus(r["status"]): r["n"] for r in found})
    return counts


def health_figures(row: Row) -> HealthFigures:
    return HealthFigures(
        pending_deliveries=row["pending"],
        oldest_pending_at=time_or_none(row["oldest_pending"]),
        disabled_endpoints=row["disabled_endpoints"],
    )


def message_params(message: Message) -> dict[str, Any]:
    """The columns of a message row."""
    return {
        "id": message.id,
        "app_id": message.app_id,
        "event_type": message.event_type,
        "event_id": message.event_id,
        "payload": message.payload,
        "headers": orjson.dumps(dict(message.headers)).decode(),
        "created_at": to_ms(message.created_at),
    }


def claim_params(
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    per_endpoint: int,
    room: Mapping[str, int],
    scan_factor: int,
    blocked: Mapping[str, datetime] | None = None,
) -> dict[str, Any]:
    """Parameters of the ``claim_due`` and ``defer_blocked`` queries, the same in every dialect."""
    return {
        "now": to_ms(now),
        "lease_until": to_ms(lease_until),
        "limit": limit,
        "scan": limit * scan_factor,
        "per_endpoint": per_endpoint,
        "room": orjson.dumps(dict(room)).decode(),
        "blocked": orjson.dumps({e: to_ms(at) for e, at in (blocked or {}).items()}).decode(),
    }
