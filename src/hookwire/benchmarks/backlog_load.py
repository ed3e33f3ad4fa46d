"""Bulk loading of a pending backlog for the backlog scenario, and the claim's query plan.

This is benchmark fixture code, not product code: the SQL below writes rows straight into the
``message`` and ``delivery`` tables (the product writes them only through the ``Store``),
because a million ``create_message`` calls, one transaction each, would take far longer than
the measurement. The rows are what ``create_message`` would write for a message with one
matching endpoint: ids made by ``hookwire.core.ids``, status ``pending``, due in the past in
creation order. The claim query itself is read from the store's own ``queries.sql``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from hookwire.core import ids
from hookwire.store.sql import queries

#: A small payload keeps a million rows quick to load; the claim never reads payloads, and
#: the worker holds at most a batch of them.
PAYLOAD = orjson.dumps({"type": "invoice.paid", "data": {"id": "in_123"}})
EVENT_TYPE = "invoice.paid"
BATCH = 50_000

SQLITE_MESSAGE = "INSERT INTO message (id, app_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)"
SQLITE_DELIVERY = (
    "INSERT INTO delivery (id, message_id, endpoint_id, app_id, status, due_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)"
)
POSTGRES_MESSAGE = "COPY message (id, app_id, event_type, payload, created_at) FROM STDIN"
POSTGRES_DELIVERY = (
    "COPY delivery (id, message_id, endpoint_id, app_id, status, due_at, created_at, updated_at) FROM STDIN"
)

Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _batches(app_id: str, endpoint_ids: Sequence[str], size: int) -> Iterator[Rows]:
    """Messages and their deliveries, oldest first, in batches of ``BATCH``."""
    now_ms = time.time_ns() // 1_000_000
    first = now_ms - size  # one millisecond apart, all already due
    for start in range(0, size, BATCH):
        messages, deliveries = [], []
        for n in range(start, min(start + BATCH, size)):
            message_id = ids.new_id(ids.MESSAGE)
            at = first + n
            messages.append((message_id, app_id, EVENT_TYPE, PAYLOAD, at))
            endpoint_id = endpoint_ids[n % len(endpoint_ids)]
            deliveries.append((ids.new_id(ids.DELIVERY), message_id, endpoint_id, app_id, at, at, at))
        yield messages, deliveries


def load_sqlite(path: str, app_id: str, endpoint_ids: Sequence[str], size: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # Durability of a benchmark fixture does not matter; the store measured afterwards
        # opens its own connections with synchronous=FULL.
        connection.execute("PRAGMA synchronous = OFF")
        for messages, deliveries in _batches(app_id, endpoint_ids, size):
            connection.execute("BEGIN")
            connection.executemany(SQLITE_MESSAGE, messages)
            connection.executemany(SQLITE_DELIVERY, deliveries)
            connection.execute("COMMIT")
    finally:
        connection.close()


def load_postgres(url: str, app_id: str, endpoint_ids: Sequence[str], size: int) -> None:
    import psycopg

    with psycopg.connect(url) as connection:
        with connection.cursor() as cursor:
            for messages, deliveries in _batches(app_id, endpoint_ids, size):
                with cursor.copy(POSTGRES_MESSAGE) as copy:
                    for row in messages:
                        copy.write_row(row)
                with cursor.copy(POSTGRES_DELIVERY) as copy:
                    for d in deliveries:
                        copy.write_row((*d[:4], "pending", *d[4:]))
        connection.commit()
    analyze_postgres(url)


def analyze_postgres(url: str) -> None:
    """Bring the planner's statistics of the message and delivery tables up to date, as
    autovacuum does within a minute of a bulk change. A table filled since its last ``ANALYZE``
    is planned from a guess: the claim then sorts every due row instead of reading the first
    few in due order, until autovacuum comes round, at a moment no benchmark run controls."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE message")
        connection.execute("ANALYZE delivery")


def _claim_params(limit: int, per_endpoint: int, now_ms: int) -> dict[str, Any]:
    scan = limit * 2  # the stores' CLAIM_SCAN_FACTOR
    return {
        "now": now_ms,
        "lease_until": now_ms + 90_000,
        "limit": limit,
        "scan": scan,
        "per_endpoint": per_endpoint,
        "room": "{}",
    }


def plan_sqlite(path: str, limit: int, per_endpoint: int, now_ms: int) -> str:
    """``EXPLAIN QUERY PLAN`` of the store's ``claim_due``, drawn as a tree: on SQLite, the
    query that chooses the deliveries (leasing them and reading them are lookups by id)."""
    connection = sqlite3.connect(path)
    try:
        query = queries("sqlite")["choose_due"]
        rows = connection.execute(
            f"EXPLAIN QUERY PLAN {query}", _claim_params(limit, per_endpoint, now_ms)
        ).fetchall()
    finally:
        connection.close()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return "\n".join(lines)


def plan_postgres(url: str, limit: int, per_endpoint: int, now_ms: int) -> str:
    """``EXPLAIN`` of the store's ``claim_due`` (planned, not run). Without costs, and for the
    same ``now_ms`` at every size: cost figures follow the table's size, the plan's shape is
    what has to stay the same."""
    import psycopg

    with psycopg.connect(url) as connection, psycopg.ClientCursor(connection) as cursor:
        query = queries("postgres")["claim_due"]
        cursor.execute(f"EXPLAIN (COSTS OFF) {query}", _claim_params(limit, per_endpoint, now_ms))
        return "\n".join(str(row[0]) for row in cursor.fetchall())
