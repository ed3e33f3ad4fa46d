"""Figures about deliveries for the overview and the dashboard, and the message search.

All values are immutable; datetimes are aware and in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookwire.core.clock import from_ms, to_ms
from hookwire.core.types import DeliveryStatus


@dataclass(frozen=True, slots=True)
class TimelineBucket:
    """The attempts that started in ``[start, start + bucket)``."""

    start: datetime
    succeeded: int
    failed: int

    @property
    def attempts(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_ratio(self) -> float | None:
        """Succeeded attempts over all attempts; ``None`` when there were none."""
        return self.succeeded / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class EndpointActivity:
    """How an endpoint has been doing: attempts in a recent window, and its very last attempt."""

    endpoint_id: str
    attempts: int
    succeeded: int
    last_attempt_at: datetime | None
    last_succeeded: bool | None
    last_status_code: int | None

    @property
    def success_ratio(self) -> float | None:
        """Succeeded attempts over all attempts in the window; ``None`` when there were none."""
        return self.succeeded / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class Backlog:
    """Deliveries waiting for an attempt or being sent, and when the oldest of them was created."""

    pending: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageSearch:
    """Which messages a search returns, newest first. ``None`` fields do not filter.

    ``status`` keeps messages with at least one delivery in that status.
    """

    app_id: str | None = None
    event_type: str | None = None
    status: DeliveryStatus | None = None
    before: datetime | None = None
    after: datetime | None = None


def bucket_floor(moment: datetime, bucket: timedelta) -> datetime:
    """The start of the bucket ``moment`` falls in; buckets are aligned on the Unix epoch."""
    size = bucket_ms(bucket)
    return from_ms(to_ms(moment) // size * size)


def bucket_ms(bucket: timedelta) -> int:
    size = int(bucket.total_seconds() * 1000)
    if size < 1000:
        raise ValueError("a timeline bucket is at least one second long")
    return size


def fill_timeline(
    found: Iterable[TimelineBucket], *, since: datetime, until: datetime, bucket: timedelta
) -> list[TimelineBucket]:
    """Every bucket from the one holding ``since`` to the one holding ``until``, oldest first,
    with zeros where ``found`` (the non-empty buckets a store returns) has nothing."""
    by_start = {b.start: b for b in found}
    filled = []
    start = bucket_floor(since, bucket)
    while start <= until:
        filled.append(by_start.get(start, TimelineBucket(start, 0, 0)))
        start += bucket
    return filled
