"""Receipts of incoming webhooks, so that a receiver handles each ``webhook-id`` once.

A receipt is ``claimed`` while a handler runs and ``done`` once it succeeded. A claim lasts a
*lease* (a crashed or hung handler must not block its webhook forever); a done receipt lasts a
*TTL* longer than the sender's whole retry schedule (about 27 hours for hookwire and Svix), so
every retry of a handled webhook is recognised.

``SQLiteDeduplicator`` keeps receipts in a small table of their own, in any SQLite file
(the engine's ``hookwire.db`` will do): several receiver processes sharing the file see each
other's claims, because every claim is a write transaction and SQLite has one writer at a time.
"""

from __future__ import annotations

import asyncio
import enum
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar

from hookwire.core.errors import StoreError
from hookwire.store.sqlite_writer import Writer

T = TypeVar("T")

DEFAULT_RECEIPT_TTL: Final = 3 * 86400.0
"""Seconds a handled ``webhook-id`` is remembered: beyond the ~27 h retry schedules of
hookwire and Svix, with room for a manual resend the next day."""

DEFAULT_CLAIM_LEASE: Final = 300.0
"""Seconds a claim holds before another delivery of the same id may take it over.

Senders time out after 15 s (hookwire, Svix) and retry later, so a live handler keeps its
claim well past that; a handler that died lets the retry after next run."""

# Receipts are a cache of "already handled": losing the last commits on power loss only means
# a handler may run again, which at-least-once delivery allows anyway. So synchronous=NORMAL
# (durable across crashes in WAL mode), rather than the engine's FULL, saves an fsync per claim.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS webhook_receipt (
    webhook_id  TEXT PRIMARY KEY,
    done        INTEGER NOT NULL,      -- 0 while claimed, 1 once handled
    expires_at  INTEGER NOT NULL       -- Unix milliseconds
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_receipt_by_expiry ON webhook_receipt (expires_at);
"""
_SELECT: Final = "SELECT done, expires_at FROM webhook_receipt WHERE webhook_id = ?"
_UPSERT: Final = """
INSERT INTO webhook_receipt (webhook_id, done, expires_at) VALUES (?, ?, ?)
ON CONFLICT (webhook_id) DO UPDATE SET done = excluded.done, expires_at = excluded.expires_at
"""
_RELEASE: Final = "DELETE FROM webhook_receipt WHERE webhook_id = ? AND done = 0"
_PURGE: Final = "DELETE FROM webhook_receipt WHERE expires_at <= ?"

# Expired receipts are deleted at most this often, by whichever claim comes along.
_PURGE_INTERVAL_MS: Final = 60_000


class ClaimResult(enum.StrEnum):
    """What a de-duplication store says when a delivery tries to claim its ``webhook-id``."""

    CLAIMED = "claimed"
    """First to arrive: run the handler, then ``complete`` (success) or ``release`` (failure)."""
    DONE = "done"
    """Handled before: answer 2xx without running the handler again."""
    IN_PROGRESS = "in_progress"
    """Another delivery of the same id holds the claim right now."""


class SQLiteDeduplicator:
    """Receipts in a SQLite file, shared by every process that opens it.

    The file and table are created on first use. Writes go through one thread with group
    commit, like the engine's store, so concurrent claims cost one transaction together.

    Args:
        path: the database file.
        ttl: seconds a handled id is remembered.
        lease: seconds a claim holds while its handler runs.
        busy_timeout_ms: how long to wait for another process's write lock.
        clock: wall-clock seconds; receipts outlive the process, so not a monotonic clock.

    Raises:
        ValueError: ``path`` is ``":memory:"``, or ``ttl`` or ``lease`` is not positive.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        ttl: float = DEFAULT_RECEIPT_TTL,
        lease: float = DEFAULT_CLAIM_LEASE,
        busy_timeout_ms: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = str(path)
        if self._path == ":memory:":
            raise ValueError("receipts need a file; use MemoryDeduplicator for an in-memory store")
        if not (ttl > 0 and lease > 0):
            raise ValueError("ttl and lease must be positive seconds")
        self._ttl_ms = int(ttl * 1000)
        self._lease_ms = int(lease * 1000)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._clock = clock
        self._writer: Writer | None = None
        self._opening = threading.Lock()  # a thread lock: callers may run on different loops
        self._next_purge_ms = 0

    async def claim(self, webhook_id: str) -> ClaimResult:
        """Claim ``webhook_id`` unless it is handled or being handled.

        Raises:
            StoreError: the database failed.
        """
        now_ms = self._now_ms()
        purge = now_ms >= self._next_purge_ms
        if purge:
            self._next_purge_ms = now_ms + _PURGE_INTERVAL_MS

        def job(connection: sqlite3.Connection) -> ClaimResult:
            if purge:
                connection.execute(_PURGE, (now_ms,))
            row = connection.execute(_SELECT, (webhook_id,)).fetchone()
            if row is not None and row[1] > now_ms:
                return ClaimResult.DONE if row[0] else ClaimResult.IN_PROGRESS
            connection.execute(_UPSERT, (webhook_id, 0, now_ms + self._lease_ms))
            return ClaimResult.CLAIMED

        return await self._write(job)

    async def complete(self, webhook_id: str) -> None:
        """Record ``webhook_id`` as handled for the TTL."""
        expires_at = self._now_ms() + self._ttl_ms
        await self._write(lambda c: c.execute(_UPSERT, (webhook_id, 1, expires_at)))

    async def release(self, webhook_id: str) -> None:
        """Drop an unfinished claim so that the next delivery of ``webhook_id`` runs the handler."""
        await self._write(lambda c: c.execute(_RELEASE, (webhook_id,)))

    async def close(self) -> None:
        """Close the database; a later call opens it again."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(writer.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        writer = self._writer
        if writer is None:
            # Opening waits for the writer thread to connect: keep that off the event loop.
            writer = await asyncio.to_thread(self._open)
        return await writer.submit(job)

    def _open(self) -> Writer:
        with self._opening:
            if self._writer is None:
                try:
                    self._writer = Writer(self._connect)
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot open the receipts database {self._path!r}: {exc}") from exc
            return self._writer

    def _connect(self) -> sqlite3.Connection:
        # Switching to WAL and creating the schema can find the file locked by another process
        # or store doing the same at the same moment, without SQLite's busy handler waiting for
        # it: try again until the busy timeout, as every other statement would wait.
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            try:
                connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.executescript(_SCHEMA)
            except sqlite3.OperationalError as exc:
                connection.close()
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
                continue
            except BaseException:
                connection.close()
                raise
            return connection
