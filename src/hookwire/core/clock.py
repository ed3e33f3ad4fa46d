"""Time: aware UTC datetimes everywhere, integer milliseconds in storage."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hookwire.core.errors import ValidationError


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond: the precision stored, so a value written and read back
    compares equal."""
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


def require_utc(value: datetime, name: str = "datetime") -> datetime:
    """Reject naive datetimes and normalise aware ones to UTC.

    A naive datetime is ambiguous; guessing its zone is how a signature ends up covering a
    different moment than the one intended.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
