"""Reading and writing the values of the dashboard's forms: times, filters, headers.

Times in forms are ``datetime-local`` values (``2024-05-01T12:30``) meant as UTC, which every
page says next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from hookwire.core.errors import ValidationError

#: What a header's value looks like in the form. Header values often carry a token for simple
#: receivers, so they are never rendered; a line left with this value keeps the stored one.
MASK = "**********"


def parse_time(value: str, name: str) -> datetime | None:
    """A ``datetime-local`` value (UTC) as an aware datetime; ``None`` for an empty field."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(f"{name}: use a date and time such as 2024-05-01T12:30") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def time_value(value: datetime | None) -> str:
    """A datetime as a ``datetime-local`` value in UTC, to the minute."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def parse_filter(text: str) -> list[str] | None:
    """One event type (or ``prefix.*``) per line or separated by commas; nothing means every type."""
    entries = [part.strip() for line in text.splitlines() for part in line.split(",")]
    kept = [entry for entry in entries if entry]
    return kept or None


def filter_text(filter_types: tuple[str, ...] | None) -> str:
    return "\n".join(filter_types or ())


def parse_headers(text: str, current: Mapping[str, str]) -> dict[str, str]:
    """``Name: value`` lines; a line whose value is still the mask keeps the stored value."""
    headers: dict[str, str] = {}
    stored = {name.lower(): value for name, value in current.items()}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValidationError(f"headers, line {number}: write it as 'Name: value'")
        name, value = name.strip(), value.strip()
        if value == MASK:
            if name.lower() not in stored:
                raise ValidationError(f"headers, line {number}: give {name} a value")
            value = stored[name.lower()]
        headers[name] = value
    return headers


def masked_headers(headers: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {MASK}" for name in headers)
