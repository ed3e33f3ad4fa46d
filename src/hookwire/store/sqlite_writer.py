"""One writer thread per SQLite database, with group commit.

SQLite allows one writer at a time, and with ``synchronous=FULL`` every commit waits for an
fsync. Rather than have each caller take the write lock and pay that fsync alone, callers hand
their write (a function of the connection) to this thread, which runs everything queued in
one transaction and commits once. Under load many messages share one fsync; when idle a write
commits at once.

Costs per write are kept off the hot path too. The jobs of a batch run back to back; only if
one fails is the transaction rolled back and the batch run again, each job in a savepoint, so
that one failure does not undo the others. Callers are answered with one wake-up of their
event loop per batch, not one per write.

A job may also ask for something to happen once its writes are committed
(``after_commit``): run on this thread after the commit, and never for a job whose writes
were rolled back.

Every statement counts, too: Python's sqlite3 module lets go of the interpreter's lock while
SQLite works, and this thread must then wait to get it back from the busy event loop thread.
So a batch is one transaction with as few statements as its jobs need (no savepoints unless
one fails, no settings switched back and forth).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hookwire.core.errors import HookwireError, StoreError

T = TypeVar("T")

log = logging.getLogger("hookwire.store")

MAX_JOBS_PER_COMMIT = 512


#: Runs the items of many jobs at once; one result per item, in order.
Group = Callable[[sqlite3.Connection, list[Any]], list[Any]]


@dataclass(slots=True)
class _Job:
    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    group: Group | None = None
    item: Any = None


class Writer:
    """Runs write jobs on one connection in one thread, grouping them into transactions."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._connect = connect
        # What the jobs of the transaction in progress asked to run once it commits.
        self._after_commit: list[Callable[[], None]] = []
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="hookwire-sqlite-writer", daemon=True)
        self._thread.start()
        self._ready.result()

    async def submit(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` in the next transaction and return what it returns."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(job, future))
        return await future

    async def submit_grouped(self, group: Group, item: Any) -> Any:
        """Run ``group(connection, items)`` once for all the items submitted with the same
        ``group`` that land in one transaction, and return this item's result. If the group
        fails, each item is run again alone, so that a failure is that item's only."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(lambda c: group(c, [item])[0], future, group, item))
        return await future

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on this thread once the transaction of the job calling this has
        committed, or not at all if the job's writes are rolled back. For jobs only."""
        self._after_commit.append(callback)

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

    def _drain(self, batch: list[_Job]) -> bool:
        while len(batch) < MAX_JOBS_PER_COMMIT:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            batch.append(job)
        return False

    def _commit(self, connection: sqlite3.Connection, batch: list[_Job]) -> None:
        after = self._after_commit
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                outcomes = _run_together(connection, batch)
            except Exception:
                # One job failed: start over, each job in a savepoint of its own, so that its
                # failure is its alone.
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                after.clear()
                connection.execute("BEGIN IMMEDIATE")
                outcomes = [_run_in_savepoint(connection, job.run, after) for job in batch]
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            after.clear()
            error = StoreError(f"the database write failed: {exc}")
            error.__cause__ = exc
            outcomes = [(False, error)] * len(batch)
        committed = after[:]
        after.clear()
        for callback in committed:
            try:
                callback()
            except Exception:
                log.exception("an after-commit callback raised")
        _answer(batch, outcomes)


def _run_together(connection: sqlite3.Connection, batch: list[_Job]) -> list[tuple[bool, Any]]:
    """Run a batch's jobs, those of a group all at once where the group's first one stands."""
    members: dict[Group, list[int]] = {}
    for index, job in enumerate(batch):
        if job.group is not None:
            members.setdefault(job.group, []).append(index)
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(batch)
    for index, job in enumerate(batch):
        if job.group is None:
            outcomes[index] = (True, job.run(connection))
        elif members[job.group][0] == index:
            indexes = members[job.group]
            results = job.group(connection, [batch[i].item for i in indexes])
            for i, result in zip(indexes, results, strict=True):
                outcomes[i] = (True, result)
    return outcomes


def _answer(batch: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
    """Hand the outcomes to the callers' event loops, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for job, (ok, value) in zip(batch, outcomes, strict=True):
        by_loop.setdefault(job.future.get_loop(), []).append((job.future, ok, value))
    for loop, settled in by_loop.items():
        # A closed loop raises: nobody waits for the answer there; the write stands.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _run_in_savepoint(
    connection: sqlite3.Connection, job: Callable[[sqlite3.Connection], Any], after: list[Callable[[], None]]
) -> tuple[bool, Any]:
    asked = len(after)  # what the job asks to run after the commit goes if its writes go

    def roll_back() -> None:
        connection.execute("ROLLBACK TO job")
        connection.execute("RELEASE job")
        del after[asked:]

    connection.execute("SAVEPOINT job")
    try:
        value = job(connection)
    except HookwireError as exc:
        roll_back()
        return False, exc
    except sqlite3.Error as exc:
        if not connection.in_transaction:
            raise  # the whole transaction is gone (disk full, I/O error): fail the batch
        roll_back()
        error = StoreError(f"the database write failed: {exc}")
        error.__cause__ = exc
        return False, error
    except Exception as exc:
        roll_back()
        return False, exc
    connection.execute("RELEASE job")
    return True, value


def _settle(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        # The caller may have been cancelled meanwhile; its write stands, nobody waits for it.
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
