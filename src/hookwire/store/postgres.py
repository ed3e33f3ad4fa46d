"""``PostgresStore``: PostgreSQL through psycopg 3 and an async connection pool.

For scale-out: any number of API processes and workers share one database. Claims use
``FOR UPDATE SKIP LOCKED`` so workers never wait on each other, a batch of results is one
statement (one round trip), and creating a message sends a ``NOTIFY`` in its transaction so
that idle workers anywhere wake up as soon as it commits.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from hookwire.core import ids
from hookwire.core.clock import from_ms, to_ms, utcnow
from hookwire.core.errors import Conflict, NotFound, StoreError, ValidationError
from hookwire.core.secretbox import SecretBox
from hookwire.core.stats import Backlog, EndpointActivity, MessageSearch, TimelineBucket
from hookwire.core.types import (
    ApiKey,
    Application,
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventType,
    HealthFigures,
    IdempotentResponse,
    Message,
    Page,
)
from hookwire.store import rows, stats_rows
from hookwire.store.base import AttemptResult, Claim, HandOff, MessageFilter, Store
from hookwire.store.postgres_messages import Leasing, MessageGroups, create_messages_async
from hookwire.store.postgres_outbox import create_message_async, create_message_sync
from hookwire.store.sql import migrations, queries

log = logging.getLogger("hookwire.store.postgres")
Q = queries("postgres")
CHANNEL = "hookwire_deliveries"
CLAIM_SCAN_FACTOR = 2
# Any constant works; it only has to be the same for every process migrating this database.
MIGRATION_LOCK = 0x686F6F6B77697265
#: Seconds unused after which a pooled connection is checked before it is handed out.
IDLE_BEFORE_CHECK = 1.0

Connection = psycopg.AsyncConnection[dict[str, Any]]


def is_postgres_url(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


class PostgresStore(Store):
    """A ``Store`` on PostgreSQL.

    Args:
        database_url: a libpq URL, ``postgresql://user:pass@host:5432/db``.
        min_size, max_size: bounds of the connection pool.
        wait_timeout: seconds to wait for a connection before raising ``StoreError``.
    """

    def __init__(
        self,
        database_url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        wait_timeout: float = 5.0,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._url = database_url
        self._box = secret_box
        # How long a caller waits for a connection before hearing that the database is down:
        # long enough to ride out a failover, short enough to answer 503 in time.
        self._wait_timeout = wait_timeout
        self._last_used: weakref.WeakKeyDictionary[Connection, float] = weakref.WeakKeyDictionary()
        self._message_groups = MessageGroups(
            self._create_message_group, self._create_message_alone, self._find_applications
        )
        # The worker of this process that new deliveries are handed off to, and the group
        # writes leasing to it that have not handed over yet (``hand_off_to`` waits for them).
        self._hand_off: HandOff | None = None
        self._leasing_writes = 0
        self._no_leasing_writes = asyncio.Event()
        self._no_leasing_writes.set()
        self._pool = AsyncConnectionPool(
            database_url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            # Transactions are opened where they are needed (``_connection``); a lone statement
            # runs on its own, without the two round trips of BEGIN and COMMIT around it.
            kwargs={"row_factory": dict_row, "autocommit": True},
            check=self._check_if_idle,
            name="hookwire",
        )
        self._opened = False
        self._open_lock = asyncio.Lock()

    async def _check_if_idle(self, connection: Connection) -> None:
        """The pool's check before it hands a connection out. One that sat unused may have
        outlived its server (a restart, a failover): a round trip finds out, and the pool then
        hands out another, so that the first request after a restart does not fail on it. A
        connection in steady use is not checked: that would cost a round trip per use."""
        if time.monotonic() - self._last_used.get(connection, 0.0) > IDLE_BEFORE_CHECK:
            await AsyncConnectionPool.check_connection(connection)

    @contextlib.asynccontextmanager
    async def _connection(self, *, transaction: bool = True) -> AsyncIterator[Connection]:
        """A pooled connection, inside a transaction unless ``transaction`` is false (then each
        statement commits on its own), with database errors translated."""
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    await self._pool.open(wait=False)
                    self._opened = True
        try:
            async with self._pool.connection(timeout=self._wait_timeout) as connection:
                try:
                    if transaction:
                        async with connection.transaction():
                            yield connection
                    else:
                        yield connection
                finally:
                    self._last_used[connection] = time.monotonic()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreError(f"the database is unavailable: {exc}") from exc
        except TimeoutError as exc:  # the pool found no connection in time
            raise StoreError("the database is unavailable: no connection could be made") from exc

    async def _fetch(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with self._connection(transaction=False) as c:
            cursor = await c.execute(Q[name], params)
            return await cursor.fetchall()

    async def _one(self, name: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
        found = await self._fetch(name, params)
        if not found:
            raise NotFound(f"{what} not found")
        return found[0]

    async def _execute(self, name: str, params: Mapping[str, Any]) -> int:
        async with self._connection(transaction=False) as c:
            cursor = await c.execute(Q[name], params)
            return cursor.rowcount

    # -- lifecycle ---------------------------------------------------------------------------

    async def migrate(self) -> None:
        async with self._connection() as c:
            # Two processes starting at once must not both apply a migration.
            await c.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration"
                " (version integer PRIMARY KEY, name text, at bigint)"
            )
            cursor = await c.execute("SELECT version FROM schema_migration")
            applied = {row["version"] for row in await cursor.fetchall()}
            for version, name, sql in migrations("postgres"):
                if version not in applied:
                    await c.execute(sql.encode())
                    await c.execute(
                        "INSERT INTO schema_migration (version, name, at) VALUES (%s, %s, %s)",
                        (version, name, to_ms(utcnow())),
                    )

    async def close(self) -> None:
        await self._pool.close()

    async def watch(self, wake: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """LISTEN for new work on a dedicated connection, reconnecting when it drops."""
        task = asyncio.create_task(self._listen(wake), name="hookwire-postgres-listen")

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return stop

    async def _listen(self, wake: Callable[[], None]) -> None:
        delay = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    delay = 0.1
                    wake()  # anything created while we were not listening
                    async for _ in connection.notifies():
                        wake()
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("lost the notification connection (%s); reconnecting in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    # -- applications ------------------------------------------------------------------------

    async def create_application(self, application: Application) -> Application:
        try:
            await self._execute("insert_application", rows.application_params(application))
        except pg_errors.UniqueViolation as exc:
            raise Conflict(f"an application with uid {application.uid!r} already exists") from exc
        return application

    async def get_application(self, key: str) -> Application:
        return rows.application(await self._one("get_application", {"key": key}, f"application {key!r}"))

    async def list_applications(self, *, limit: int, iterator: str | None) -> Page[Application]:
        found = await self._fetch("list_applications", {"after": iterator or "", "limit": limit + 1})
        return rows.page([rows.application(r) for r in found], limit, lambda a: a.id)

    async def update_application(self, application: Application) -> Application:
        try:
            changed = await self._execute("update_application", rows.application_params(application))
        except pg_errors.UniqueViolation as exc:
            raise Conflict(f"an application with uid {application.uid!r} already exists") from exc
        if changed == 0:
            raise NotFound(f"application {application.id!r} not found")
        return application

    async def delete_application(self, app_id: str) -> None:
        if await self._execute("delete_application", {"id": app_id}) == 0:
            raise NotFound(f"application {app_id!r} not found")

    # -- endpoints ---------------------------------------------------------------------------

    async def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        try:
            await self._execute("insert_endpoint", rows.endpoint_params(endpoint, self._box))
        except pg_errors.UniqueViolation as exc:
            raise Conflict(f"an endpoint with uid {endpoint.uid!r} already exists") from exc
        except pg_errors.ForeignKeyViolation as exc:
            raise NotFound(f"application {endpoint.app_id!r} not found") from exc
        return endpoint

    async def get_endpoint(self, app_id: str, key: str) -> Endpoint:
        found = await self._one("get_endpoint", {"app_id": app_id, "key": key}, f"endpoint {key!r}")
        return rows.endpoint(found, self._box)

    async def list_endpoints(self, app_id: str, *, limit: int, iterator: str | None) -> Page[Endpoint]:
        found = await self._fetch(
            "list_endpoints", {"app_id": app_id, "after": iterator or "", "limit": limit + 1}
        )
        return rows.page([rows.endpoint(r, self._box) for r in found], limit, lambda e: e.id)

    async def update_endpoint(self, endpoint: Endpoint) -> Endpoint:
        try:
            changed = await self._execute("update_endpoint", rows.endpoint_params(endpoint, self._box))
        except pg_errors.UniqueViolation as exc:
            raise Conflict(f"an endpoint with uid {endpoint.uid!r} already exists") from exc
        if changed == 0:
            raise NotFound(f"endpoint {endpoint.id!r} not found")
        return endpoint

    async def set_endpoint_disabled(
        self, app_id: str, endpoint_id: str, *, disabled: bool, reason: str | None, now: datetime
    ) -> Endpoint:
        params = {
            "app_id": app_id,
            "id": endpoint_id,
            "disabled": disabled,
            "reason": reason,
            "now": to_ms(now),
        }
        async with self._connection() as c:
            cursor = await c.execute(Q["set_endpoint_disabled"], params)
            if cursor.rowcount == 0:
                raise NotFound(f"endpoint {endpoint_id!r} not found")
            event = {
                "endpoint_id": endpoint_id,
                "kind": "disabled" if disabled else "enabled",
                "reason": reason,
            }
            await c.execute(Q["insert_endpoint_event"], {**event, "at": to_ms(now)})
        return await self.get_endpoint(app_id, endpoint_id)

    async def delete_endpoint(self, app_id: str, endpoint_id: str) -> None:
        if await self._execute("delete_endpoint", {"app_id": app_id, "id": endpoint_id}) == 0:
            raise NotFound(f"endpoint {endpoint_id!r} not found")

    # -- event types -------------------------------------------------------------------------

    async def save_event_type(self, event_type: EventType) -> EventType:
        await self._execute("save_event_type", rows.event_type_params(event_type))
        return await self.get_event_type(event_type.name)

    async def get_event_type(self, name: str) -> EventType:
        return rows.event_type(await self._one("get_event_type", {"name": name}, f"event type {name!r}"))

    async def list_event_types(
        self, *, limit: int, iterator: str | None, include_archived: bool
    ) -> Page[EventType]:
        params = {"after": iterator or "", "limit": limit + 1, "include_archived": include_archived}
        found = await self._fetch("list_event_types", params)
        return rows.page([rows.event_type(r) for r in found], limit, lambda e: e.name)

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message, *, now: datetime) -> tuple[Message, bool]:
        return await self._message_groups.create(message, now)

    async def create_message_in(
        self, app: str, make: Callable[[Application], Message]
    ) -> tuple[Message, bool]:
        # Concurrent requests share one lookup of their applications, then one group commit.
        return await self._message_groups.create_in(app, make)

    async def _find_applications(self, keys: Sequence[str]) -> dict[str, Application]:
        found: dict[str, Application] = {}
        for row in await self._fetch("find_applications", {"keys": list(keys)}):
            application = rows.application(row)
            for key in (application.id, application.uid):
                if key is not None and key in keys:
                    found[key] = application
        return found

    async def _create_message_alone(self, message: Message, now: datetime) -> tuple[Message, bool]:
        async with self._leasing() as leasing, self._connection() as c:
            return await _translated(create_message_async(c, message, now=now, leasing=leasing), message)

    async def _create_message_group(
        self, group: Sequence[tuple[Message, datetime]]
    ) -> list[tuple[Message, bool]]:
        async with self._leasing() as leasing, self._connection() as c:
            return await create_messages_async(c, group, leasing)

    @contextlib.asynccontextmanager
    async def _leasing(self) -> AsyncIterator[Leasing | None]:
        """For one write of new messages: their deliveries leased to this process's worker, if
        it has one, and handed over to it once the write (inside this block) has committed."""
        if self._hand_off is None:
            yield None
            return
        leasing = Leasing(self._hand_off, self._box)
        self._leasing_writes += 1
        self._no_leasing_writes.clear()
        try:
            yield leasing
            leasing.hand_over()  # reached only when the block, and so the transaction, succeeded
        finally:
            self._leasing_writes -= 1
            if not self._leasing_writes:
                self._no_leasing_writes.set()

    async def hand_off_to(self, hand_off: HandOff | None) -> None:
        self._hand_off = hand_off
        await self._no_leasing_writes.wait()

    async def create_message_within(
        self, connection: object, message: Message, *, now: datetime
    ) -> tuple[Message, bool]:
        if isinstance(connection, psycopg.AsyncConnection):
            return await _translated(create_message_async(connection, message, now=now), message)
        return await super().create_message_within(connection, message, now=now)

    def create_message_within_sync(
        self, connection: object, message: Message, *, now: datetime
    ) -> tuple[Message, bool]:
        if not isinstance(connection, psycopg.Connection):
            raise ValidationError(
                f"the transactional outbox takes a psycopg connection, not a {type(connection).__name__}"
            )
        try:
            return create_message_sync(connection, message, now=now)
        except pg_errors.ForeignKeyViolation as exc:
            raise NotFound(f"application {message.app_id!r} not found") from exc
        except psycopg.Error as exc:
            raise StoreError(f"creating the message failed: {exc}") from exc

    async def get_message(self, app_id: str, message_id: str) -> Message:
        row = await self._one("get_message", {"app_id": app_id, "id": message_id}, f"message {message_id!r}")
        return rows.message(row)

    async def list_messages(
        self, app_id: str, *, limit: int, iterator: str | None, where: MessageFilter
    ) -> Page[Message]:
        params = {**rows.message_window(iterator, where), "app_id": app_id, "limit": limit + 1}
        params["event_types"] = None if where.event_types is None else list(where.event_types)
        found = await self._fetch("list_messages", params)
        return rows.page([rows.message(r) for r in found], limit, lambda m: m.id)

    async def list_deliveries(self, app_id: str, message_id: str) -> list[Delivery]:
        found = await self._fetch("list_deliveries", {"app_id": app_id, "message_id": message_id})
        return [rows.delivery(r) for r in found]

    async def list_attempts(
        self,
        app_id: str,
        *,
        message_id: str | None = None,
        endpoint_id: str | None = None,
        limit: int,
        iterator: str | None,
    ) -> Page[Attempt]:
        params = {
            "app_id": app_id,
            "message_id": message_id,
            "endpoint_id": endpoint_id,
            "before_id": iterator or "~",
            "limit": limit + 1,
        }
        found = await self._fetch("list_attempts", params)
        return rows.page([rows.attempt(r) for r in found], limit, lambda a: a.id)

    # -- delivery work -----------------------------------------------------------------------

    async def claim_due(
        self,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        per_endpoint: int,
        room: Mapping[str, int],
        blocked: Mapping[str, datetime] | None = None,
    ) -> list[Claim]:
        params = rows.claim_params(
            now=now,
            lease_until=lease_until,
            limit=limit,
            per_endpoint=per_endpoint,
            room=room,
            scan_factor=CLAIM_SCAN_FACTOR,
            blocked=blocked,
        )
        # No transaction: each statement stands on its own. Leased deliveries whose details are
        # never read (the worker dies in between, or the read fails) come back when their
        # leases expire, as they do when a worker dies while sending.
        # The claim and the read are not one statement: that bigger statement is planned anew
        # on every call once the table has grown (while its generic plan is reused on a small
        # one), which made the claim cost a seventh more at 100 k pending than at 10 k.
        async with self._connection(transaction=False) as c:
            cursor = await c.execute(Q["claim_due"], params)
            tokens = {row["id"]: row["lease_token"] for row in await cursor.fetchall()}
            if blocked:
                await c.execute(Q["defer_blocked"], params)
            if not tokens:
                return []
            cursor = await c.execute(Q["claim_details"], {"ids": list(tokens)})
            found = await cursor.fetchall()
        box = self._box
        claims = [rows.claim_from_row(row, tokens[row["delivery_id"]], now, box) for row in found]
        claims.sort(key=lambda claim: claim.delivery_id)
        return claims

    async def record_results(self, results: Sequence[AttemptResult], *, now: datetime) -> set[str]:
        if not results:
            return set()
        now_ms = to_ms(now)
        attempts = [_attempt_row(r.attempt) for r in results if r.attempt is not None]
        params = {
            "results": orjson.dumps([_result_row(r) for r in results]).decode(),
            "attempts": orjson.dumps(attempts).decode(),
            "succeeded": [r.delivery_id for r in results if r.health is not None and r.health.succeeded],
            "now": now_ms,
        }
        # Only a failure has more to write (the endpoint's failing mark, perhaps disabling it),
        # and then in the same transaction; otherwise the one statement is the whole write.
        failed = [r for r in results if r.health is not None and not r.health.succeeded]
        async with self._connection(transaction=bool(failed)) as c:
            cursor = await c.execute(Q["record_deliveries"], params)
            written = {row["id"] for row in await cursor.fetchall()}
            await _record_failures(c, [r for r in failed if r.delivery_id in written], now_ms)
        return written

    async def release(self, claims: Sequence[Claim], *, now: datetime) -> None:
        if claims:
            params = {
                "ids": [c.delivery_id for c in claims],
                "tokens": [c.lease_token for c in claims],
                "now": to_ms(now),
            }
            await self._execute("release", params)

    async def next_due(self) -> datetime | None:
        found = await self._fetch("next_due", {})
        return from_ms(found[0]["due_at"]) if found else None

    async def requeue(self, app_id: str, message_id: str, endpoint_id: str, *, now: datetime) -> Delivery:
        params = {
            "id": ids.new_id(ids.DELIVERY),
            "message_id": message_id,
            "endpoint_id": endpoint_id,
            "app_id": app_id,
            "now": to_ms(now),
        }
        async with self._connection() as c:
            cursor = await c.execute(Q["requeue"], params)
            row = await cursor.fetchone()
            if row is None:  # already being sent right now: that attempt is the resend
                cursor = await c.execute(Q["get_delivery"], params)
                row = await cursor.fetchone()
            await c.execute(Q["notify"])
        assert row is not None
        return rows.delivery(row)

    async def recover(self, app_id: str, endpoint_id: str, *, since: datetime, now: datetime) -> int:
        params = {
            "app_id": app_id,
            "endpoint_id": endpoint_id,
            "since_id": ids.lower_bound(ids.MESSAGE, to_ms(since)),
            "now": to_ms(now),
        }
        async with self._connection() as c:
            cursor = await c.execute(Q["recover"], params)
            if cursor.rowcount:
                await c.execute(Q["notify"])
            return cursor.rowcount

    async def count_deliveries(self, app_id: str | None = None) -> Mapping[DeliveryStatus, int]:
        return rows.status_counts(await self._fetch("count_deliveries", {"app_id": app_id}))

    async def endpoint_delivery_counts(self, endpoint_id: str) -> Mapping[DeliveryStatus, int]:
        return rows.status_counts(await self._fetch("endpoint_delivery_counts", {"endpoint_id": endpoint_id}))

    async def health_figures(self) -> HealthFigures:
        return rows.health_figures((await self._fetch("health_figures", {}))[0])

    # -- API keys ----------------------------------------------------------------------------

    async def create_api_key(self, key: ApiKey, *, key_hash: str) -> ApiKey:
        await self._execute("insert_api_key", rows.api_key_params(key, key_hash))
        return key

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        found = await self._fetch("get_api_key_by_hash", {"key_hash": key_hash})
        return rows.api_key(found[0]) if found else None

    async def list_api_keys(self) -> list[ApiKey]:
        return [rows.api_key(r) for r in await self._fetch("list_api_keys", {})]

    async def delete_api_key(self, key_id: str) -> None:
        if await self._execute("delete_api_key", {"id": key_id}) == 0:
            raise NotFound(f"API key {key_id!r} not found")

    # -- idempotency -------------------------------------------------------------------------

    async def start_idempotent(
        self, scope: str, *, fingerprint: str, now: datetime, expires_at: datetime
    ) -> IdempotentResponse | None:
        params = {
            "scope": scope,
            "fingerprint": fingerprint,
            "expires_at": to_ms(expires_at),
            "now": to_ms(now),
        }
        async with self._connection() as c:
            await c.execute(Q["idempotency_purge"], params)
            cursor = await c.execute(Q["idempotency_start"], params)
            if cursor.rowcount == 1:
                return None
            cursor = await c.execute(Q["idempotency_get"], params)
            row = await cursor.fetchone()
        assert row is not None
        return rows.idempotent_response(row)

    async def finish_idempotent(self, scope: str, *, status: int, body: bytes) -> None:
        await self._execute("idempotency_finish", {"scope": scope, "status": status, "body": body})

    async def forget_idempotent(self, scope: str) -> None:
        await self._execute("idempotency_forget", {"scope": scope})

    # -- figures and searches for the dashboard ----------------------------------------------

    async def attempt_timeline(
        self, *, app_id: str | None, since: datetime, bucket: timedelta
    ) -> list[TimelineBucket]:
        found = await self._fetch("attempt_timeline", stats_rows.timeline_params(app_id, since, bucket))
        return [stats_rows.timeline_bucket(r) for r in found]

    async def endpoint_activity(
        self, app_id: str, endpoint_ids: Sequence[str], *, since: datetime
    ) -> list[EndpointActivity]:
        params = {
            **stats_rows.since_params(since, ids.ATTEMPT),
            "app_id": app_id,
            "endpoint_ids": list(endpoint_ids),
        }
        return [stats_rows.endpoint_activity(r) for r in await self._fetch("endpoint_activity", params)]

    async def troubled_endpoints(self, app_id: str | None, *, limit: int) -> list[Endpoint]:
        found = await self._fetch("troubled_endpoints", {"app_id": app_id, "limit": limit})
        return [rows.endpoint(r, self._box) for r in found]

    async def backlog(self, app_id: str | None) -> Backlog:
        return stats_rows.backlog((await self._fetch("backlog", {"app_id": app_id}))[0])

    async def count_recoverable(self, app_id: str, endpoint_id: str, *, since: datetime) -> int:
        params = {**stats_rows.since_params(since, ids.MESSAGE), "app_id": app_id, "endpoint_id": endpoint_id}
        return int((await self._fetch("count_recoverable", params))[0]["n"])

    async def search_messages(
        self, where: MessageSearch, *, limit: int, iterator: str | None
    ) -> Page[Message]:
        found = await self._fetch("search_messages", stats_rows.search_params(where, iterator, limit))
        return rows.page([rows.message(r) for r in found], limit, lambda m: m.id)

    async def message_delivery_counts(
        self, message_ids: Sequence[str]
    ) -> Mapping[str, Mapping[DeliveryStatus, int]]:
        found = await self._fetch("message_delivery_counts", {"message_ids": list(message_ids)})
        return stats_rows.delivery_counts_by_message(message_ids, found)

    async def create_message_for_endpoint(
        self, message: Message, endpoint_id: str, *, now: datetime
    ) -> Message:
        deliveries = {
            "ids": [ids.new_id(ids.DELIVERY)],
            "endpoint_ids": [endpoint_id],
            "message_id": message.id,
            "app_id": message.app_id,
            "now": to_ms(now),
        }
        async with self._connection() as c:
            cursor = await c.execute(Q["get_endpoint"], {"app_id": message.app_id, "key": endpoint_id})
            if await cursor.fetchone() is None:
                raise NotFound(f"endpoint {endpoint_id!r} not found")
            await c.execute(Q["insert_message"], rows.message_params(message))
            await c.execute(Q["insert_deliveries"], deliveries)
            await c.execute(Q["notify"])
        return message


async def _translated(creating: Awaitable[tuple[Message, bool]], message: Message) -> tuple[Message, bool]:
    try:
        return await creating
    except pg_errors.ForeignKeyViolation as exc:
        raise NotFound(f"application {message.app_id!r} not found") from exc
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise  # _connection() reports these as an unavailable database
    except psycopg.Error as exc:
        raise StoreError(f"creating the message failed: {exc}") from exc


def _result_row(result: AttemptResult) -> dict[str, Any]:
    due_at = result.next_attempt_at
    return {
        "id": result.delivery_id,
        "lease_token": result.lease_token,
        "status": result.status.value,
        "due_at": None if due_at is None else to_ms(due_at),
        "counted": 0 if result.attempt is None else 1,
    }


def _attempt_row(attempt: Attempt) -> dict[str, Any]:
    row = rows.attempt_params(attempt)
    row["response_body"] = base64.b64encode(attempt.response_body).decode()
    return row


async def _record_failures(c: Connection, failed: list[AttemptResult], now_ms: int) -> None:
    """Mark the endpoints of ``failed`` results as failing, or disable them where their health
    says so (``record_deliveries`` has already cleared those that succeeded)."""
    for result in failed:
        health = result.health
        assert health is not None
        if health.disable_reason is not None:
            params = {"id": result.endpoint_id, "reason": health.disable_reason, "now": now_ms}
            cursor = await c.execute(Q["endpoint_auto_disable"], params)
            if cursor.rowcount:
                event = {
                    "endpoint_id": result.endpoint_id,
                    "kind": "disabled",
                    "reason": health.disable_reason,
                }
                await c.execute(Q["insert_endpoint_event"], {**event, "at": now_ms})
        elif result.attempt is not None:
            since = to_ms(result.attempt.started_at)
            await c.execute(Q["endpoint_failed"], {"id": result.endpoint_id, "since": since})
