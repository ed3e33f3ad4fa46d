"""Event-type names and the filters endpoints subscribe with.

A filter entry is an exact event-type name (``invoice.paid``) or a prefix pattern
(``invoice.*``, matching ``invoice.paid`` and ``invoice.line.added`` but not ``invoice``).
An endpoint with no filter receives every event type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hookwire.core.errors import InvalidEventType

MAX_EVENT_TYPE_LENGTH = 256
MAX_FILTER_ENTRIES = 256

# Svix's rule for event-type names: letters, digits, '-', '_' and '.'.
_NAME = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")


def check_event_type(name: str) -> str:
    """Return ``name`` if it is a valid event-type name, else raise ``InvalidEventType``."""
    if not isinstance(name, str) or not name:
        raise InvalidEventType("an event type needs a name")
    if len(name) > MAX_EVENT_TYPE_LENGTH:
        raise InvalidEventType(f"event type names are at most {MAX_EVENT_TYPE_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise InvalidEventType(
            f"invalid event type {name!r}: use letters, digits, '-', '_' and dots between parts"
        )
    return name


def check_filter(entries: Iterable[str] | None) -> tuple[str, ...] | None:
    """Validate an endpoint's filter: names and ``prefix.*`` patterns, deduplicated, order kept."""
    if entries is None:
        return None
    if isinstance(entries, str | bytes) or not isinstance(entries, Iterable):
        raise InvalidEventType("a filter is a list of event types")
    checked: dict[str, None] = {}
    for entry in entries:
        if isinstance(entry, str) and entry.endswith(".*"):
            check_event_type(entry[:-2])
        else:
            check_event_type(entry)
        checked[entry] = None
    if len(checked) > MAX_FILTER_ENTRIES:
        raise InvalidEventType(f"a filter holds at most {MAX_FILTER_ENTRIES} event types")
    return tuple(checked)


def matches(filter_types: Iterable[str] | None, event_type: str) -> bool:
    """Whether an endpoint with this filter receives ``event_type``."""
    if filter_types is None:
        return True
    for entry in filter_types:
        if entry == event_type:
            return True
        if entry.endswith(".*") and event_type.startswith(entry[:-1]):
            return True
    return False
