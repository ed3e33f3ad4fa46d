"""Creating a message on a PostgreSQL connection: the pool's, or the caller's own.

The same statements serve ``PostgresStore.create_message`` and the transactional outbox,
where the caller passes the psycopg connection of its own transaction: the message and its
deliveries then commit or roll back with the caller's business change, and the ``NOTIFY``
that wakes the workers is only delivered if it commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hookwire.core import ids
from hookwire.core.clock import to_ms
from hookwire.core.filters import matches
from hookwire.core.types import Message
from hookwire.store import rows
from hookwire.store.postgres_messages import Leasing, create_messages_async
from hookwire.store.sql import queries

Q = queries("postgres")


def _deliveries_params(
    message: Message, targets: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    endpoint_ids = [
        t["id"] for t in targets if matches(rows.json_tuple(t["filter_types"]), message.event_type)
    ]
    return {
        "ids": [ids.new_id(ids.DELIVERY) for _ in endpoint_ids],
        "endpoint_ids": endpoint_ids,
        "message_id": message.id,
        "app_id": message.app_id,
        "now": to_ms(now),
    }


async def create_message_async(
    connection: psycopg.AsyncConnection[Any],
    message: Message,
    *,
    now: datetime,
    leasing: Leasing | None = None,
) -> tuple[Message, bool]:
    """Insert and fan out on ``connection``, inside whatever transaction it is in: a group of
    one for the statements that write groups (see :mod:`hookwire.store.postgres_messages`)."""
    [result] = await create_messages_async(connection, [(message, now)], leasing)
    return result


def create_message_sync(
    connection: psycopg.Connection[Any], message: Message, *, now: datetime
) -> tuple[Message, bool]:
    """Insert and fan out on a blocking psycopg connection (Django, SQLAlchemy, scripts), inside
    whatever transaction it is in."""
    with connection.cursor(row_factory=dict_row) as c:
        c.execute(Q["insert_message"], rows.message_params(message))
        if c.fetchone() is None:
            c.execute(Q["get_message_by_event_id"], {"app_id": message.app_id, "event_id": message.event_id})
            existing = c.fetchone()
            assert existing is not None
            return rows.message(existing), False
        c.execute(Q["fan_out_targets"], {"app_id": message.app_id})
        targets = c.fetchall()
        c.execute(Q["insert_deliveries"], _deliveries_params(message, targets, now))
        c.execute(Q["notify"])
    return message, True
