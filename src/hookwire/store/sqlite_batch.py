"""Many rows in one statement on SQLite.

Python's sqlite3 module lets go of the interpreter's lock at every step of a statement (every
row written or read), and the writer thread then waits to get it back from the busy event loop
thread: per row, that wait costs more than SQLite's work. So rows that arrive together are
written together, with multi-row ``INSERT``s, and read back as one JSON value.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import orjson

from hookwire.core import ids
from hookwire.core.clock import to_ms
from hookwire.core.errors import NotFound
from hookwire.core.filters import matches
from hookwire.core.types import Application, Message
from hookwire.store import rows
from hookwire.store.sql import queries

Q = queries("sqlite")

#: Bound parameters in one statement at most (999 before SQLite 3.32).
MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999

MESSAGE_COLUMNS = ("id", "app_id", "event_type", "event_id", "payload", "headers", "created_at")


class DeliveryRow(NamedTuple):
    """A new delivery's columns, in the order of ``DELIVERY_COLUMNS``."""

    id: str
    message_id: str
    endpoint_id: str
    app_id: str
    status: str
    due_at: int
    created_at: int
    updated_at: int


DELIVERY_COLUMNS = DeliveryRow._fields

#: Writes, leased to a worker, those of the new deliveries it takes, and returns the others
#: (``HandOffs.write``); the others are written pending.
Lease = Callable[[sqlite3.Connection, list[DeliveryRow]], list[DeliveryRow]]


def insert_rows(
    c: sqlite3.Connection, table: str, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """``INSERT INTO table (columns)`` every row of ``values``, as few statements as can be."""
    per_statement = MAX_PARAMETERS // len(columns)
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        c.execute(_insert_sql(table, tuple(columns), len(chunk)), [value for row in chunk for value in row])


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], count: int) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    # Only our own table and column names and placeholders go into the text; values are bound.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"  # noqa: S608


def create_messages(
    c: sqlite3.Connection, group: Sequence[tuple[Message, int]], lease: Lease | None = None
) -> list[tuple[Message, bool]]:
    """Insert messages without an event id (so none can be a duplicate) and fan them out to
    their applications' endpoints: three statements, however many messages."""
    try:
        insert_rows(c, "message", MESSAGE_COLUMNS, [tuple(rows.message_params(m).values()) for m, _ in group])
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" not in str(exc) or len(group) > 1:
            raise  # the writer tries each message alone, and only that one fails
        raise NotFound(f"application {group[0][0].app_id!r} not found") from exc
    fan_out(c, group, lease)
    return [(message, True) for message, _ in group]


def create_messages_in(
    c: sqlite3.Connection,
    group: Sequence[tuple[str, Callable[[Application], Message]]],
    lease: Lease | None = None,
) -> list[tuple[Message, bool]]:
    """Messages for applications named by id or uid, each made by its ``make`` from the
    application found: one lookup per application named, then the messages without an event
    id written together and those with one each on its own (it may be a duplicate). An
    application not found fails the group, and the writer then runs each message alone."""
    found: dict[str, Application] = {}
    for key in dict.fromkeys(app for app, _ in group):
        row = c.execute(Q["get_application"], {"key": key}).fetchone()
        if row is None:
            raise NotFound(f"application {key!r} not found")
        found[key] = rows.application(row)
    messages = [make(found[app]) for app, make in group]
    plain = [(message, to_ms(message.created_at)) for message in messages if message.event_id is None]
    if plain:
        create_messages(c, plain, lease)
    return [
        (message, True)
        if message.event_id is None
        else create_message(c, message, to_ms(message.created_at), lease)
        for message in messages
    ]


def create_message(
    connection: sqlite3.Connection, message: Message, now_ms: int, lease: Lease | None = None
) -> tuple[Message, bool]:
    """Insert one message, or find the one its event id was already given to (``False``)."""
    # Our own cursor reads rows by name, whatever row factory a caller's connection has.
    c = connection.cursor()
    c.row_factory = sqlite3.Row
    try:
        cursor = c.execute(Q["insert_message"], rows.message_params(message))
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" not in str(exc):
            raise
        raise NotFound(f"application {message.app_id!r} not found") from exc
    if cursor.rowcount == 0:
        existing = c.execute(
            Q["get_message_by_event_id"], {"app_id": message.app_id, "event_id": message.event_id}
        ).fetchone()
        return rows.message(existing), False
    fan_out(connection, [(message, now_ms)], lease)
    return message, True


def fan_out(
    c: sqlite3.Connection, created: Sequence[tuple[Message, int]], lease: Lease | None = None
) -> None:
    """Write one delivery per message and enabled endpoint of its application that receives
    its event type, due at the message's time: two statements for all of them, and those that
    ``lease`` takes written leased instead of pending."""
    # Our own cursor reads plain tuples, whatever row factory a caller's connection has.
    cursor = c.cursor()
    cursor.row_factory = None
    app_ids = orjson.dumps(sorted({message.app_id for message, _ in created})).decode()
    found = orjson.loads(cursor.execute(Q["fan_out_targets_of_apps"], {"app_ids": app_ids}).fetchone()[0])
    targets: dict[str, list[tuple[str, tuple[Any, ...] | None]]] = {}
    for app_id, endpoint_id, filter_types in found:
        targets.setdefault(app_id, []).append((endpoint_id, rows.json_tuple(filter_types)))
    deliveries = [
        DeliveryRow(
            ids.new_id(ids.DELIVERY),
            message.id,
            endpoint_id,
            message.app_id,
            "pending",
            now_ms,
            now_ms,
            now_ms,
        )
        for message, now_ms in created
        for endpoint_id, filter_types in targets.get(message.app_id, ())
        if matches(filter_types, message.event_type)
    ]
    if lease is not None and deliveries:
        deliveries = lease(c, deliveries)
    insert_rows(c, "delivery", DELIVERY_COLUMNS, deliveries)
