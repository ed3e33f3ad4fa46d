"""The worker's writes on SQLite, in a few statements per batch: claims, results, and new
deliveries written leased to the worker of this process (hand-offs).

For the reason given in :mod:`hookwire.store.sqlite_batch` (the writer thread waits for the
interpreter's lock at every row), a batch of claims or results moves through a handful of
statements of one row each: ids and keys go in as JSON arrays (``json_each``), what comes back
comes out as one JSON array, and attempts go in as multi-row ``INSERT``s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from hookwire.core.clock import from_ms, to_ms
from hookwire.core.secretbox import SecretBox
from hookwire.store import rows
from hookwire.store.base import FIRST_LEASE, AttemptResult, Claim, HandedOff, HandOff, split_by_room
from hookwire.store.sql import queries
from hookwire.store.sqlite_batch import DELIVERY_COLUMNS, DeliveryRow, insert_rows
from hookwire.store.sqlite_writer import Writer

Q = queries("sqlite")

ATTEMPT_COLUMNS = (
    "id", "delivery_id", "message_id", "endpoint_id", "app_id", "number", "url", "started_at",
    "duration_ms", "status_code", "response_body", "error", "error_detail", "succeeded", "trigger",
)  # fmt: skip


def claim(
    c: sqlite3.Connection, params: Mapping[str, Any], now: datetime, box: SecretBox | None
) -> list[Claim]:
    """Lease the deliveries that ``params`` choose (see the ``choose_due`` query)."""
    chosen = c.execute(Q["choose_due"], params).fetchone()[0]
    if params["blocked"] != "{}":
        # What was just chosen belongs to endpoints with room, never to blocked ones.
        c.execute(Q["defer_blocked"], params)
    if chosen == "[]":
        return []
    c.execute(Q["claim_chosen"], {"ids": chosen, "lease_until": params["lease_until"], "now": params["now"]})
    return _claims(c, chosen, now, box)


def _claims(c: sqlite3.Connection, ids: str, now: datetime, box: SecretBox | None) -> list[Claim]:
    """The claims of the leased deliveries ``ids`` (a JSON array), with all an attempt needs."""
    return _claims_from(c.execute(Q["claim_details"], {"ids": ids}).fetchone()[0], now, box)


def _claims_from(details: str, now: datetime, box: SecretBox | None) -> list[Claim]:
    claims = []
    for row in orjson.loads(details):
        row["payload"] = bytes.fromhex(row["payload"])
        claims.append(rows.claim_from_row(row, row["lease_token"], now, box))
    claims.sort(key=lambda claim: claim.delivery_id)
    return claims


class HandOffs:
    """Writes new deliveries leased to the worker of this process (``Store.hand_off_to``), as
    many as it has room for, and gives it their claims once the transaction commits.

    A message created where its worker runs would otherwise be written, then claimed in a
    second transaction (a look for what is due, an update, a read of what the attempt needs).
    Written leased, the claim is the write itself, and the worker starts at once: no claim
    query, one commit fewer before the request goes out. Nothing else changes: the delivery is
    ``sending`` under lease token 1, due when the lease ends, as if claimed, so if the worker
    never sends it (it crashed) any worker claims it once the lease expires.
    """

    def __init__(self, writer: Writer, box: SecretBox | None) -> None:
        self._writer = writer
        self._box = box
        #: Set and read on the writer thread only, between transactions (``SQLiteStore``).
        self.target: HandOff | None = None

    def write(self, c: sqlite3.Connection, deliveries: list[DeliveryRow]) -> list[DeliveryRow]:
        """Write, leased, the deliveries the target has room for; return the others."""
        target = self.target
        if target is None:
            return deliveries
        taken, others = split_by_room(target, deliveries, lambda row: row.endpoint_id)
        if not taken:
            return others
        lease_ms = int(target.lease.total_seconds() * 1000)
        leased = [row._replace(status="sending", due_at=row.created_at + lease_ms) for row in taken]
        insert_rows(
            c, "delivery", (*DELIVERY_COLUMNS, "lease_token"), [(*row, FIRST_LEASE) for row in leased]
        )
        ids = orjson.dumps([row.id for row in leased]).decode()
        details: str = c.execute(Q["claim_details"], {"ids": ids}).fetchone()[0]
        now, box = from_ms(leased[0].created_at), self._box
        handed = HandedOff(len(leased), lambda: _claims_from(details, now, box))
        self._writer.after_commit(lambda: target.take(handed))
        return others


def record(c: sqlite3.Connection, results: Sequence[AttemptResult], now_ms: int) -> set[str]:
    """Write the results whose lease is still current; returns their delivery ids."""
    updates = [
        (
            result.delivery_id,
            result.lease_token,
            result.status.value,
            None if result.next_attempt_at is None else to_ms(result.next_attempt_at),
            0 if result.attempt is None else 1,
        )
        for result in results
    ]
    params = {"rows": orjson.dumps(updates).decode(), "now": now_ms}
    if c.execute(Q["record_deliveries"], params).rowcount == len(results):
        mine = list(results)
    else:  # some were fenced off: find out which were written
        written = set(orjson.loads(c.execute(Q["recorded_deliveries"], params).fetchone()[0]))
        mine = [result for result in results if result.delivery_id in written]
    attempts = [rows.attempt_params(r.attempt) for r in mine if r.attempt is not None]
    insert_rows(c, "attempt", ATTEMPT_COLUMNS, [tuple(params.values()) for params in attempts])
    _record_health(c, mine, now_ms)
    return {result.delivery_id for result in mine}


def _record_health(c: sqlite3.Connection, results: Sequence[AttemptResult], now_ms: int) -> None:
    succeeded: set[str] = set()
    failing_since: dict[str, int] = {}
    for result in results:
        health = result.health
        if health is None:
            continue
        if health.disable_reason is not None:
            _auto_disable(c, result.endpoint_id, health.disable_reason, now_ms)
        elif health.succeeded:
            succeeded.add(result.endpoint_id)
        elif result.attempt is not None:
            since = to_ms(result.attempt.started_at)
            failing_since[result.endpoint_id] = min(since, failing_since.get(result.endpoint_id, since))
    if succeeded:
        c.execute(Q["endpoints_succeeded"], {"ids": orjson.dumps(sorted(succeeded)).decode()})
    c.executemany(Q["endpoint_failed"], [{"id": e, "since": since} for e, since in failing_since.items()])


def _auto_disable(c: sqlite3.Connection, endpoint_id: str, reason: str, now_ms: int) -> None:
    if c.execute(Q["endpoint_auto_disable"], {"id": endpoint_id, "reason": reason, "now": now_ms}).rowcount:
        c.execute(
            Q["insert_endpoint_event"],
            {"endpoint_id": endpoint_id, "kind": "disabled", "reason": reason, "at": now_ms},
        )
