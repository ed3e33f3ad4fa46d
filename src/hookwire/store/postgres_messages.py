"""Group commit for new messages on PostgreSQL.

A message is written with a ``NOTIFY`` (for the workers elsewhere), and PostgreSQL
serialises the commits of transactions that notify: one message per transaction would cost
one commit (and one WAL flush) after another, a few hundred messages a second however many
connections there are.
So concurrent ``create_message`` calls join a group: while one group commits, the next one
gathers, and each is written with a handful of set-based statements, one ``NOTIFY`` and one
commit. When idle, a group is one message and it is written at once.

A group whose transaction fails on its data (a missing application, a broken row) is written
again one message at a time, so that the failure is that message's alone; when the database
is unavailable, every message of the group fails at once.

Messages for an application named by id or uid (the HTTP API's) join groups too: the
applications a group names are looked up with one query, each message is made for the one
found, and the group is written as any other. A name not found fails that message alone.

When a worker runs in this process (``Store.hand_off_to``), the deliveries it has room for are
written leased to it (``Leasing``) and given to it once the transaction has committed; only a
group that leaves some deliveries pending notifies the other workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg.rows import dict_row

from hookwire.core import ids
from hookwire.core.clock import from_ms, to_ms
from hookwire.core.errors import NotFound, StoreError
from hookwire.core.filters import matches
from hookwire.core.secretbox import SecretBox
from hookwire.core.types import Application, Message
from hookwire.store import rows
from hookwire.store.base import FIRST_LEASE, Claim, HandedOff, HandOff, split_by_room
from hookwire.store.sql import queries

Q = queries("postgres")

#: Messages written by one transaction at most.
MAX_MESSAGES_PER_COMMIT = 500

Created = tuple[Message, bool]
Pending = tuple[Message, datetime, "asyncio.Future[Created]"]
WriteGroup = Callable[[Sequence[tuple[Message, datetime]]], Awaitable[list[Created]]]
WriteOne = Callable[[Message, datetime], Awaitable[Created]]
#: The applications found for names (ids or uids), by name; names not found are left out.
FindApplications = Callable[[Sequence[str]], Awaitable[dict[str, Application]]]


class NewDelivery(NamedTuple):
    """A delivery about to be written, in the column order of ``insert_deliveries_of_messages``."""

    id: str
    message_id: str
    endpoint_id: str
    app_id: str
    now: int


@dataclass(slots=True)
class Leasing:
    """Deliveries of one transaction written leased to the worker ``target``, whose claims it
    is given once the transaction has committed (``hand_over``), and never if it rolled back."""

    target: HandOff
    box: SecretBox | None
    claims: list[Claim] = field(default_factory=list)

    def hand_over(self) -> None:
        if self.claims:
            claims = sorted(self.claims, key=lambda claim: claim.delivery_id)
            self.target.take(HandedOff(len(claims), lambda: claims))


@dataclass(frozen=True, slots=True)
class InApplication:
    """A message to make for the application a name (id or uid) finds."""

    app: str
    make: Callable[[Application], Message]
    future: asyncio.Future[Created]


class MessageGroups:
    """Gathers concurrent message writes into groups and commits one group at a time.

    Args:
        write_group: writes a group in one transaction; the results in the group's order.
        write_one: writes one message in its own transaction (the fallback of a failed group).
        find_applications: looks applications up by id or uid, for messages made in one.
    """

    def __init__(
        self, write_group: WriteGroup, write_one: WriteOne, find_applications: FindApplications
    ) -> None:
        self._write_group = write_group
        self._write_one = write_one
        self._find_applications = find_applications
        self._pending: list[Pending | InApplication] = []
        self._writer: asyncio.Task[None] | None = None

    async def create(self, message: Message, now: datetime) -> Created:
        future: asyncio.Future[Created] = asyncio.get_running_loop().create_future()
        self._enqueue((message, now, future))
        return await future

    async def create_in(self, app: str, make: Callable[[Application], Message]) -> Created:
        """``create`` for the application named ``app``, the message made by ``make`` for it."""
        future: asyncio.Future[Created] = asyncio.get_running_loop().create_future()
        self._enqueue(InApplication(app, make, future))
        return await future

    def _enqueue(self, pending: Pending | InApplication) -> None:
        self._pending.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="hookwire-message-groups")

    async def _write_pending(self) -> None:
        while self._pending:
            taken = self._pending[:MAX_MESSAGES_PER_COMMIT]
            del self._pending[:MAX_MESSAGES_PER_COMMIT]
            group = await self._made(taken)
            if not group:
                continue
            if len(group) == 1:
                await self._write_alone(group)
                continue
            try:
                results = await self._write_group([(message, now) for message, now, _ in group])
            except StoreError as exc:  # unavailable: one at a time would only wait longer
                for _, _, future in group:
                    _fail(future, exc)
                continue
            except Exception:
                await self._write_alone(group)
                continue
            for (_, _, future), result in zip(group, results, strict=True):
                if not future.done():  # its caller may have been cancelled; the write stands
                    future.set_result(result)

    async def _made(self, taken: list[Pending | InApplication]) -> list[Pending]:
        """The messages of ``taken``, those for a named application made for the one found;
        a message that cannot be made fails alone, here."""
        names = list(dict.fromkeys(item.app for item in taken if isinstance(item, InApplication)))
        found: dict[str, Application] = {}
        unavailable: Exception | None = None
        if names:
            try:
                found = await self._find_applications(names)
            except Exception as exc:  # the database: every message that needs a lookup fails
                unavailable = exc
        group: list[Pending] = []
        for item in taken:
            if not isinstance(item, InApplication):
                group.append(item)
                continue
            if unavailable is not None:
                _fail(item.future, unavailable)  # the lookup's failure, shared by all of them
                continue
            application = found.get(item.app)
            if application is None:
                _fail(item.future, NotFound(f"application {item.app!r} not found"))
                continue
            try:
                message = item.make(application)
            except Exception as exc:  # refused: not the caller's application, say
                _fail(item.future, exc)
                continue
            group.append((message, message.created_at, item.future))
        return group

    async def _write_alone(self, group: list[Pending]) -> None:
        for message, now, future in group:
            try:
                result = await self._write_one(message, now)
            except Exception as exc:
                _fail(future, exc)
            else:
                if not future.done():
                    future.set_result(result)


def _fail(future: asyncio.Future[Created], exc: Exception) -> None:
    if not future.done():  # its caller may have been cancelled meanwhile
        future.set_exception(exc)


async def create_messages_async(
    connection: psycopg.AsyncConnection[Any],
    group: Sequence[tuple[Message, datetime]],
    leasing: Leasing | None = None,
) -> list[tuple[Message, bool]]:
    """Insert and fan out a group of messages on ``connection``, inside its transaction; with
    ``leasing``, the deliveries its worker has room for are written leased to it.

    Returns, for each message in order, the stored message and whether it was created (an
    event id already taken returns the message that took it).
    """
    messages = [message for message, _ in group]
    async with connection.cursor(row_factory=dict_row) as c:
        await c.execute(
            Q["insert_messages"],
            {
                "ids": [m.id for m in messages],
                "app_ids": [m.app_id for m in messages],
                "event_types": [m.event_type for m in messages],
                "event_ids": [m.event_id for m in messages],
                "payloads": [m.payload for m in messages],
                "headers": [orjson.dumps(dict(m.headers)).decode() for m in messages],
                "created_ats": [to_ms(m.created_at) for m in messages],
            },
        )
        created = {row["id"] for row in await c.fetchall()}
        results: list[tuple[Message, bool]] = []
        for message in messages:
            if message.id in created:
                results.append((message, True))
                continue
            await c.execute(
                Q["get_message_by_event_id"], {"app_id": message.app_id, "event_id": message.event_id}
            )
            existing = await c.fetchone()
            assert existing is not None  # skipped only for an event id already taken
            results.append((rows.message(existing), False))
        if not created:
            return results
        app_ids = sorted({message.app_id for message in messages if message.id in created})
        await c.execute(Q["fan_out_targets_of_apps"], {"app_ids": app_ids})
        targets: dict[str, list[tuple[str, tuple[Any, ...] | None]]] = {}
        for row in await c.fetchall():
            targets.setdefault(row["app_id"], []).append((row["id"], rows.json_tuple(row["filter_types"])))
        new = [
            NewDelivery(ids.new_id(ids.DELIVERY), message.id, endpoint_id, message.app_id, to_ms(now))
            for (message, now), (_, was_created) in zip(group, results, strict=True)
            if was_created
            for endpoint_id, filter_types in targets.get(message.app_id, ())
            if matches(filter_types, message.event_type)
        ]
        if leasing is not None and new:
            new = await _write_leased(c, new, leasing)
        if new:
            ids_, message_ids, endpoint_ids, app_ids, nows = (
                list(column) for column in zip(*new, strict=True)
            )
            params = {
                "ids": ids_,
                "message_ids": message_ids,
                "endpoint_ids": endpoint_ids,
                "app_ids": app_ids,
                "nows": nows,
            }
            await c.execute(Q["insert_deliveries_of_messages"], params)
            await c.execute(Q["notify"])  # only pending deliveries are work for other workers
    return results


async def _write_leased(
    c: psycopg.AsyncCursor[Any], new: list[NewDelivery], leasing: Leasing
) -> list[NewDelivery]:
    """Write leased the deliveries ``leasing``'s worker has room for; return the others."""
    leased, others = split_by_room(leasing.target, new, lambda delivery: delivery.endpoint_id)
    if leased:
        params = {
            "rows": orjson.dumps([delivery._asdict() for delivery in leased]).decode(),
            "lease_ms": int(leasing.target.lease.total_seconds() * 1000),
            "lease_token": FIRST_LEASE,
        }
        await c.execute(Q["insert_leased_deliveries"], params)
        await c.execute(Q["claim_details"], {"ids": [delivery.id for delivery in leased]})
        now = from_ms(leased[0].now)
        found = await c.fetchall()
        leasing.claims += [rows.claim_from_row(row, FIRST_LEASE, now, leasing.box) for row in found]
    return others
