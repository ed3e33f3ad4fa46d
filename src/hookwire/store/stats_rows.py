"""Parameters and row mappers of the dashboard's figures and searches, shared by both backends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from hookwire.core import ids
from hookwire.core.clock import to_ms
from hookwire.core.stats import Backlog, EndpointActivity, MessageSearch, TimelineBucket, bucket_ms
from hookwire.core.types import DeliveryStatus
from hookwire.store.base import MessageFilter
from hookwire.store.rows import Row, message_window, time_or_none


def since_params(since: datetime, prefix: str) -> dict[str, Any]:
    """A time bound as milliseconds, and as the smallest id made then (to use an id index)."""
    return {"since": to_ms(since), "since_id": ids.lower_bound(prefix, to_ms(since))}


def timeline_params(app_id: str | None, since: datetime, bucket: timedelta) -> dict[str, Any]:
    return {**since_params(since, ids.ATTEMPT), "app_id": app_id, "bucket_ms": bucket_ms(bucket)}


def timeline_bucket(row: Row) -> TimelineBucket:
    succeeded = int(row["succeeded"] or 0)
    return TimelineBucket(time_or_none(row["bucket_start"]), succeeded, int(row["attempts"]) - succeeded)  # type: ignore[arg-type]


def endpoint_activity(row: Row) -> EndpointActivity:
    last_succeeded = row["last_succeeded"]
    return EndpointActivity(
        endpoint_id=row["endpoint_id"],
        attempts=int(row["attempts"] or 0),
        succeeded=int(row["succeeded"] or 0),
        last_attempt_at=time_or_none(row["last_attempt_at"]),
        last_succeeded=None if last_succeeded is None else bool(last_succeeded),
        last_status_code=row["last_status_code"],
    )


def backlog(row: Row) -> Backlog:
    return Backlog(pending=int(row["pending"]), oldest_pending_at=time_or_none(row["oldest_pending"]))


def search_params(where: MessageSearch, iterator: str | None, limit: int) -> dict[str, Any]:
    window = message_window(iterator, MessageFilter(before=where.before, after=where.after))
    return {
        **window,
        "app_id": where.app_id,
        "event_type": where.event_type,
        "status": None if where.status is None else where.status.value,
        "limit": limit + 1,
    }


def delivery_counts_by_message(
    message_ids: Iterable[str], found: Iterable[Row]
) -> dict[str, Mapping[DeliveryStatus, int]]:
    counts = {message_id: dict.fromkeys(DeliveryStatus, 0) for message_id in message_ids}
    for row in found:
        if row["message_id"] in counts:
            counts[row["message_id"]][DeliveryStatus(row["status"])] = int(row["n"])
    return dict(counts)
