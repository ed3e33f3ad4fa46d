"""``SQLiteStore``: the embedded default.

WAL with ``synchronous=FULL`` (an accepted message survives power loss, not only a crash),
one writer thread with group commit (``sqlite_writer``), and one reader thread whose reads
never wait for the writer (WAL readers see the last commit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson

from hookwire.core import ids
from hookwire.core.clock import from_ms, to_ms
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
from hookwire.store.sql import migrations, queries
from hookwire.store.sqlite_batch import create_message, create_messages, create_messages_in
from hookwire.store.sqlite_delivery import HandOffs, claim, record
from hookwire.store.sqlite_writer import Writer

T = TypeVar("T")
Q = queries("sqlite")

# How far past the batch size a claim looks, so that the per-endpoint cap can skip a busy
# endpoint's deliveries and still fill the batch with others.
CLAIM_SCAN_FACTOR = 2


def sqlite_path(database_url: str) -> str:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``sqlite://:memory:`` -> a path."""
    for prefix in ("sqlite:///", "sqlite://"):
        if database_url.startswith(prefix):
            path = database_url[len(prefix) :]
            if not path:
                raise ValidationError("the SQLite URL names no file: use sqlite:///hookwire.db")
            return path
    raise ValidationError(f"not a SQLite URL: {database_url!r}")


class SQLiteStore(Store):
    """A ``Store`` on one SQLite file."""

    def __init__(
        self, path: str | Path, *, busy_timeout_ms: int = 10_000, secret_box: SecretBox | None = None
    ) -> None:
        self._path = str(path)
        self._box = secret_box
        if self._path == ":memory:":
            raise ValidationError("hookwire needs a database file; ':memory:' cannot be shared by threads")
        self._busy_timeout_ms = busy_timeout_ms
        try:
            self._writer = Writer(self._connect)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self._path!r}: {exc}") from exc
        self._hand_offs = HandOffs(self._writer, secret_box)
        # Bound once: the writer groups the jobs of one group function, by its identity.
        self._create_messages = functools.partial(create_messages, lease=self._hand_offs.write)
        self._create_messages_in = functools.partial(create_messages_in, lease=self._hand_offs.write)
        self._reader = concurrent.futures.ThreadPoolExecutor(1, "hookwire-sqlite-reader", self._open_reader)
        self._reader_connection: sqlite3.Connection | None = None

    @classmethod
    def from_url(cls, database_url: str, *, secret_box: SecretBox | None = None) -> SQLiteStore:
        return cls(sqlite_path(database_url), secret_box=secret_box)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _open_reader(self) -> None:
        self._reader_connection = self._connect()

    async def _read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            assert self._reader_connection is not None
            try:
                return job(self._reader_connection)
            except sqlite3.Error as exc:
                raise StoreError(f"the database read failed: {exc}") from exc

        return await asyncio.wrap_future(self._reader.submit(run))

    async def _one(self, name: str, params: Mapping[str, Any], what: str) -> sqlite3.Row:
        row = await self._read(lambda c: c.execute(Q[name], params).fetchone())
        if row is None:
            raise NotFound(f"{what} not found")
        return row  # type: ignore[no-any-return]

    # -- lifecycle ---------------------------------------------------------------------------

    async def migrate(self) -> None:
        await self._writer.submit(_migrate)

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.close)
        if self._reader_connection is not None:
            connection = self._reader_connection
            await asyncio.wrap_future(self._reader.submit(connection.close))
        self._reader.shutdown(wait=True)

    # -- applications ------------------------------------------------------------------------

    async def create_application(self, application: Application) -> Application:
        def write(c: sqlite3.Connection) -> None:
            try:
                c.execute(Q["insert_application"], rows.application_params(application))
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"an application with uid {application.uid!r} already exists") from exc

        await self._writer.submit(write)
        return application

    async def get_application(self, key: str) -> Application:
        return rows.application(await self._one("get_application", {"key": key}, f"application {key!r}"))

    async def list_applications(self, *, limit: int, iterator: str | None) -> Page[Application]:
        found = await self._read(
            lambda c: c.execute(
                Q["list_applications"], {"after": iterator or "", "limit": limit + 1}
            ).fetchall()
        )
        return rows.page([rows.application(r) for r in found], limit, lambda a: a.id)

    async def update_application(self, application: Application) -> Application:
        def write(c: sqlite3.Connection) -> None:
            try:
                cursor = c.execute(Q["update_application"], rows.application_params(application))
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"an application with uid {application.uid!r} already exists") from exc
            if cursor.rowcount == 0:
                raise NotFound(f"application {application.id!r} not found")

        await self._writer.submit(write)
        return application

    async def delete_application(self, app_id: str) -> None:
        await self._writer.submit(
            _expect_one(Q["delete_application"], {"id": app_id}, f"application {app_id!r}")
        )

    # -- endpoints ---------------------------------------------------------------------------

    async def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        def write(c: sqlite3.Connection) -> None:
            try:
                c.execute(Q["insert_endpoint"], rows.endpoint_params(endpoint, self._box))
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"an endpoint with uid {endpoint.uid!r} already exists") from exc

        await self._writer.submit(write)
        return endpoint

    async def get_endpoint(self, app_id: str, key: str) -> Endpoint:
        row = await self._one("get_endpoint", {"app_id": app_id, "key": key}, f"endpoint {key!r}")
        return rows.endpoint(row, self._box)

    async def list_endpoints(self, app_id: str, *, limit: int, iterator: str | None) -> Page[Endpoint]:
        params = {"app_id": app_id, "after": iterator or "", "limit": limit + 1}
        found = await self._read(lambda c: c.execute(Q["list_endpoints"], params).fetchall())
        return rows.page([rows.endpoint(r, self._box) for r in found], limit, lambda e: e.id)

    async def update_endpoint(self, endpoint: Endpoint) -> Endpoint:
        def write(c: sqlite3.Connection) -> None:
            try:
                cursor = c.execute(Q["update_endpoint"], rows.endpoint_params(endpoint, self._box))
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"an endpoint with uid {endpoint.uid!r} already exists") from exc
            if cursor.rowcount == 0:
                raise NotFound(f"endpoint {endpoint.id!r} not found")

        await self._writer.submit(write)
        return endpoint

    async def set_endpoint_disabled(
        self, app_id: str, endpoint_id: str, *, disabled: bool, reason: str | None, now: datetime
    ) -> Endpoint:
        def write(c: sqlite3.Connection) -> None:
            params = {"app_id": app_id, "id": endpoint_id, "disabled": int(disabled), "reason": reason}
            if c.execute(Q["set_endpoint_disabled"], {**params, "now": to_ms(now)}).rowcount == 0:
                raise NotFound(f"endpoint {endpoint_id!r} not found")
            kind = "disabled" if disabled else "enabled"
            c.execute(
                Q["insert_endpoint_event"],
                {"endpoint_id": endpoint_id, "kind": kind, "reason": reason, "at": to_ms(now)},
            )

        await self._writer.submit(write)
        return await self.get_endpoint(app_id, endpoint_id)

    async def delete_endpoint(self, app_id: str, endpoint_id: str) -> None:
        params = {"app_id": app_id, "id": endpoint_id}
        await self._writer.submit(_expect_one(Q["delete_endpoint"], params, f"endpoint {endpoint_id!r}"))

    # -- event types -------------------------------------------------------------------------

    async def save_event_type(self, event_type: EventType) -> EventType:
        params = rows.event_type_params(event_type)
        await self._writer.submit(lambda c: c.execute(Q["save_event_type"], params))
        return await self.get_event_type(event_type.name)

    async def get_event_type(self, name: str) -> EventType:
        return rows.event_type(await self._one("get_event_type", {"name": name}, f"event type {name!r}"))

    async def list_event_types(
        self, *, limit: int, iterator: str | None, include_archived: bool
    ) -> Page[EventType]:
        params = {"after": iterator or "", "limit": limit + 1, "include_archived": int(include_archived)}
        found = await self._read(lambda c: c.execute(Q["list_event_types"], params).fetchall())
        return rows.page([rows.event_type(r) for r in found], limit, lambda e: e.name)

    # -- messages ----------------------------------------------------------------------------

    async def create_message(self, message: Message, *, now: datetime) -> tuple[Message, bool]:
        if message.event_id is None:  # cannot be a duplicate: written with the others of its commit
            result: tuple[Message, bool] = await self._writer.submit_grouped(
                self._create_messages, (message, to_ms(now))
            )
            return result
        lease = self._hand_offs.write
        return await self._writer.submit(lambda c: create_message(c, message, to_ms(now), lease))

    async def create_message_in(
        self, app: str, make: Callable[[Application], Message]
    ) -> tuple[Message, bool]:
        # The lookup rides on the write: one hand-over to the writer thread instead of a read
        # and then a write, and no application deleted between the two. Concurrent requests
        # are written together.
        result: tuple[Message, bool] = await self._writer.submit_grouped(
            self._create_messages_in, (app, make)
        )
        return result

    def create_message_within_sync(
        self, connection: object, message: Message, *, now: datetime
    ) -> tuple[Message, bool]:
        if not isinstance(connection, sqlite3.Connection):
            raise ValidationError(
                f"the transactional outbox takes a sqlite3 connection, not a {type(connection).__name__}"
            )
        if not self._same_file(connection):
            raise ValidationError("the connection is not to hookwire's database file")
        try:
            return create_message(connection, message, to_ms(now))
        except sqlite3.Error as exc:
            raise StoreError(f"creating the message failed: {exc}") from exc

    def _same_file(self, connection: sqlite3.Connection) -> bool:
        files = [row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main"]
        return bool(files) and Path(files[0]).resolve() == Path(self._path).resolve()

    async def get_message(self, app_id: str, message_id: str) -> Message:
        row = await self._one("get_message", {"app_id": app_id, "id": message_id}, f"message {message_id!r}")
        return rows.message(row)

    async def list_messages(
        self, app_id: str, *, limit: int, iterator: str | None, where: MessageFilter
    ) -> Page[Message]:
        params = {
            **rows.message_window(iterator, where),
            "app_id": app_id,
            "event_types": rows.json_or_none(where.event_types),
            "limit": limit + 1,
        }
        found = await self._read(lambda c: c.execute(Q["list_messages"], params).fetchall())
        return rows.page([rows.message(r) for r in found], limit, lambda m: m.id)

    async def list_deliveries(self, app_id: str, message_id: str) -> list[Delivery]:
        params = {"app_id": app_id, "message_id": message_id}
        found = await self._read(lambda c: c.execute(Q["list_deliveries"], params).fetchall())
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
        found = await self._read(lambda c: c.execute(Q["list_attempts"], params).fetchall())
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
        return await self._writer.submit(lambda c: claim(c, params, now, self._box))

    async def record_results(self, results: Sequence[AttemptResult], *, now: datetime) -> set[str]:
        if not results:
            return set()
        return await self._writer.submit(lambda c: record(c, results, to_ms(now)))

    async def release(self, claims: Sequence[Claim], *, now: datetime) -> None:
        if not claims:
            return
        params = [{"id": c.delivery_id, "lease_token": c.lease_token, "now": to_ms(now)} for c in claims]
        await self._writer.submit(lambda c: c.executemany(Q["release"], params))

    async def hand_off_to(self, hand_off: HandOff | None) -> None:
        # Set on the writer thread, between transactions, so that no write starts with one
        # target and ends with another, and every earlier hand-off has been given to its
        # worker (call_soon_threadsafe, in order) before this returns.
        def set_target(c: sqlite3.Connection) -> None:
            self._hand_offs.target = hand_off

        await self._writer.submit(set_target)

    async def next_due(self) -> datetime | None:
        row = await self._read(lambda c: c.execute(Q["next_due"]).fetchone())  # via the partial index
        return None if row is None or row["due_at"] is None else from_ms(row["due_at"])

    async def requeue(self, app_id: str, message_id: str, endpoint_id: str, *, now: datetime) -> Delivery:
        def write(c: sqlite3.Connection) -> sqlite3.Row:
            params = {
                "id": ids.new_id(ids.DELIVERY),
                "message_id": message_id,
                "endpoint_id": endpoint_id,
                "app_id": app_id,
                "now": to_ms(now),
            }
            row = c.execute(Q["requeue"], params).fetchone()
            if row is None:  # already being sent right now: that attempt is the resend
                row = c.execute(Q["get_delivery"], params).fetchone()
            return row  # type: ignore[no-any-return]

        return rows.delivery(await self._writer.submit(write))

    async def recover(self, app_id: str, endpoint_id: str, *, since: datetime, now: datetime) -> int:
        params = {
            "app_id": app_id,
            "endpoint_id": endpoint_id,
            "since_id": ids.lower_bound(ids.MESSAGE, to_ms(since)),
            "now": to_ms(now),
        }
        return await self._writer.submit(lambda c: c.execute(Q["recover"], params).rowcount)

    async def count_deliveries(self, app_id: str | None = None) -> Mapping[DeliveryStatus, int]:
        found = await self._read(lambda c: c.execute(Q["count_deliveries"], {"app_id": app_id}).fetchall())
        return rows.status_counts(found)

    async def endpoint_delivery_counts(self, endpoint_id: str) -> Mapping[DeliveryStatus, int]:
        params = {"endpoint_id": endpoint_id}
        found = await self._read(lambda c: c.execute(Q["endpoint_delivery_counts"], params).fetchall())
        return rows.status_counts(found)

    async def health_figures(self) -> HealthFigures:
        return rows.health_figures(await self._read(lambda c: c.execute(Q["health_figures"]).fetchone()))

    # -- API keys ----------------------------------------------------------------------------

    async def create_api_key(self, key: ApiKey, *, key_hash: str) -> ApiKey:
        params = rows.api_key_params(key, key_hash)
        await self._writer.submit(lambda c: c.execute(Q["insert_api_key"], params))
        return key

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        row = await self._read(
            lambda c: c.execute(Q["get_api_key_by_hash"], {"key_hash": key_hash}).fetchone()
        )
        return None if row is None else rows.api_key(row)

    async def list_api_keys(self) -> list[ApiKey]:
        return [rows.api_key(r) for r in await self._read(lambda c: c.execute(Q["list_api_keys"]).fetchall())]

    async def delete_api_key(self, key_id: str) -> None:
        await self._writer.submit(_expect_one(Q["delete_api_key"], {"id": key_id}, f"API key {key_id!r}"))

    # -- idempotency -------------------------------------------------------------------------

    async def start_idempotent(
        self, scope: str, *, fingerprint: str, now: datetime, expires_at: datetime
    ) -> IdempotentResponse | None:
        def write(c: sqlite3.Connection) -> IdempotentResponse | None:
            c.execute(Q["idempotency_purge"], {"now": to_ms(now)})
            params = {"scope": scope, "fingerprint": fingerprint, "expires_at": to_ms(expires_at)}
            if c.execute(Q["idempotency_start"], params).rowcount == 1:
                return None
            return rows.idempotent_response(c.execute(Q["idempotency_get"], {"scope": scope}).fetchone())

        return await self._writer.submit(write)

    async def finish_idempotent(self, scope: str, *, status: int, body: bytes) -> None:
        params = {"scope": scope, "status": status, "body": body}
        await self._writer.submit(lambda c: c.execute(Q["idempotency_finish"], params))

    async def forget_idempotent(self, scope: str) -> None:
        await self._writer.submit(lambda c: c.execute(Q["idempotency_forget"], {"scope": scope}))

    # -- figures and searches for the dashboard ----------------------------------------------

    async def attempt_timeline(
        self, *, app_id: str | None, since: datetime, bucket: timedelta
    ) -> list[TimelineBucket]:
        params = stats_rows.timeline_params(app_id, since, bucket)
        found = await self._read(lambda c: c.execute(Q["attempt_timeline"], params).fetchall())
        return [stats_rows.timeline_bucket(r) for r in found]

    async def endpoint_activity(
        self, app_id: str, endpoint_ids: Sequence[str], *, since: datetime
    ) -> list[EndpointActivity]:
        params = {
            **stats_rows.since_params(since, ids.ATTEMPT),
            "app_id": app_id,
            "endpoint_ids": orjson.dumps(list(endpoint_ids)).decode(),
        }
        found = await self._read(lambda c: c.execute(Q["endpoint_activity"], params).fetchall())
        return [stats_rows.endpoint_activity(r) for r in found]

    async def troubled_endpoints(self, app_id: str | None, *, limit: int) -> list[Endpoint]:
        params = {"app_id": app_id, "limit": limit}
        found = await self._read(lambda c: c.execute(Q["troubled_endpoints"], params).fetchall())
        return [rows.endpoint(r, self._box) for r in found]

    async def backlog(self, app_id: str | None) -> Backlog:
        row = await self._read(lambda c: c.execute(Q["backlog"], {"app_id": app_id}).fetchone())
        return stats_rows.backlog(row)

    async def count_recoverable(self, app_id: str, endpoint_id: str, *, since: datetime) -> int:
        params = {**stats_rows.since_params(since, ids.MESSAGE), "app_id": app_id, "endpoint_id": endpoint_id}
        row = await self._read(lambda c: c.execute(Q["count_recoverable"], params).fetchone())
        return int(row["n"])

    async def search_messages(
        self, where: MessageSearch, *, limit: int, iterator: str | None
    ) -> Page[Message]:
        params = stats_rows.search_params(where, iterator, limit)
        found = await self._read(lambda c: c.execute(Q["search_messages"], params).fetchall())
        return rows.page([rows.message(r) for r in found], limit, lambda m: m.id)

    async def message_delivery_counts(
        self, message_ids: Sequence[str]
    ) -> Mapping[str, Mapping[DeliveryStatus, int]]:
        params = {"message_ids": orjson.dumps(list(message_ids)).decode()}
        found = await self._read(lambda c: c.execute(Q["message_delivery_counts"], params).fetchall())
        return stats_rows.delivery_counts_by_message(message_ids, found)

    async def create_message_for_endpoint(
        self, message: Message, endpoint_id: str, *, now: datetime
    ) -> Message:
        def write(c: sqlite3.Connection) -> None:
            target = {"app_id": message.app_id, "key": endpoint_id}
            if c.execute(Q["get_endpoint"], target).fetchone() is None:
                raise NotFound(f"endpoint {endpoint_id!r} not found")
            c.execute(Q["insert_message"], rows.message_params(message))
            delivery = {
                "id": ids.new_id(ids.DELIVERY),
                "message_id": message.id,
                "endpoint_id": endpoint_id,
                "app_id": message.app_id,
                "due_at": to_ms(now),
                "now": to_ms(now),
            }
            c.execute(Q["insert_delivery"], delivery)

        await self._writer.submit(write)
        return message


# -- writes run on the writer thread ---------------------------------------------------------


def _migrate(c: sqlite3.Connection) -> None:
    c.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT, at INTEGER)"
    )
    applied = {row[0] for row in c.execute("SELECT version FROM schema_migration")}
    for version, name, sql in migrations("sqlite"):
        if version in applied:
            continue
        for statement in _statements(sql):
            c.execute(statement)
        c.execute(
            "INSERT INTO schema_migration (version, name, at) VALUES (?, ?, ?)",
            (version, name, int(time.time() * 1000)),
        )


def _statements(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise StoreError("a migration ends with an incomplete statement")
    return statements


def _expect_one(sql: str, params: Mapping[str, Any], what: str) -> Callable[[sqlite3.Connection], None]:
    def write(c: sqlite3.Connection) -> None:
        if c.execute(sql, params).rowcount == 0:
            raise NotFound(f"{what} not found")

    return write
