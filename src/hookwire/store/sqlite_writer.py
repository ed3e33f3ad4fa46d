"""One writer thread per SQLite database, with group commit.

SQLite allows one writer at a time, and with ``synchronous=FULL`` every commit waits for an
fsync. Rather than have each caller take the write lock and pay that fsync alone, callers hand
their write (a function of the connection) to this thread, which runs everything queued in
one transaction, a savepoint around each job so that one failure does not undo the others,
and commits once. Under load many messages share one fsync; when idle a write commits at once.

The answers of a batch go back to each waiting event loop in one call, not one wake-up of the
loop per job: under load that hand-back was a good part of the loop's work per message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hookwire.core.errors import HookwireError, StoreError

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
Answer = tuple[asyncio.Future[Any], bool, Any]

MAX_JOBS_PER_COMMIT = 512


class Writer:
    """Runs write jobs on one connection in one thread, grouping them into transactions."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._connect = connect
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="hookwire-sqlite-writer", daemon=True)
        self._thread.start()
        self._ready.result()

    async def submit(self, job: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            connection = self._connect()
        except BaseException as exc:  # surfaced to whoever constructed the writer
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                batch = [first]
                stop = self._drain(batch)
                self._commit(connection, batch)
                if stop:
                    return
        finally:
            connection.close()

    def _drain(self, batch: list[Job]) -> bool:
        while len(batch) < MAX_JOBS_PER_COMMIT:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            batch.append(job)
        return False

    def _commit(self, connection: sqlite3.Connection, batch: list[Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for job, _, _ in batch:
                outcomes.append(_run_in_savepoint(connection, job))
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            error = StoreError(f"the database write failed: {exc}")
            error.__cause__ = exc
            _answer(batch, [(False, error)] * len(batch))
            return
        _answer(batch, outcomes)


def _run_in_savepoint(
    connection: sqlite3.Connection, job: Callable[[sqlite3.Connection], Any]
) -> tuple[bool, Any]:
    connection.execute("SAVEPOINT job")
    try:
        value = job(connection)
    except HookwireError as exc:
        connection.execute("ROLLBACK TO job")
        connection.execute("RELEASE job")
        return False, exc
    except sqlite3.Error as exc:
        if not connection.in_transaction:
            raise  # the whole transaction is gone (disk full, I/O error): fail the batch
        connection.execute("ROLLBACK TO job")
        connection.execute("RELEASE job")
        error = StoreError(f"the database write failed: {exc}")
        error.__cause__ = exc
        return False, error
    except Exception as exc:
        connection.execute("ROLLBACK TO job")
        connection.execute("RELEASE job")
        return False, exc
    connection.execute("RELEASE job")
    return True, value


def _answer(batch: list[Job], outcomes: list[tuple[bool, Any]]) -> None:
    """Hand each job's outcome to its caller: one call into each event loop for the batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for (_, future, loop), (ok, value) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((future, ok, value))
    for loop, answers in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for these answers
            loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[Answer]) -> None:
    for future, ok, value in answers:
        # The caller may have been cancelled meanwhile; its write stands, nobody waits for the answer.
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
