"""SIGKILL a real ``hookwire worker`` while it is writing results, again and again: nothing
acknowledged is lost, the store stays consistent (no delivery marked succeeded without its
attempt, no attempt counted twice), and every duplicate is the same request again.

On SQLite the worker is killed repeatedly under a high rate of fast deliveries, when its writer
thread commits batch after batch. On PostgreSQL the kill is made certain to land in the middle
of a batch: the test locks the attempt table, waits until the worker's batch has updated its
deliveries and is blocked writing their attempts, and kills it there.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from hookwire import DeliveryStatus, Webhooks
from hookwire.store.sqlite import sqlite_path
from hookwire.testing import Receiver
from tests.e2e.workers import kill, start_worker, stop
from tests.reliability.ledger import Ledger

RECEIVERS = 3
CONCURRENCY = 32

# A delivery marked succeeded must have its successful attempt, and a delivery's attempt count
# must match its attempt rows: both are written in one transaction, or neither is.
INCONSISTENT = """
SELECT count(*) FROM delivery d
WHERE (d.status = 'succeeded' AND NOT EXISTS
          (SELECT 1 FROM attempt a WHERE a.delivery_id = d.id AND a.succeeded))
   OR d.attempts <> (SELECT count(*) FROM attempt a WHERE a.delivery_id = d.id)
"""


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    started = [await Receiver().start() for _ in range(RECEIVERS)]
    yield started
    for receiver in started:
        await receiver.stop()


async def _accept(database_url: str, receivers: list[Receiver], messages: int) -> Ledger:
    ledger = Ledger()
    async with Webhooks(database_url, worker=False) as hooks:
        for receiver in receivers:
            await hooks.endpoints.create("default", receiver.url)

        async def send(n: int) -> None:
            ledger.accept((await hooks.trigger("a.b", {"n": n})).id, len(receivers))

        for start in range(0, messages, 100):
            await asyncio.gather(*(send(n) for n in range(start, min(start + 100, messages))))
    return ledger


async def _progress(receivers: list[Receiver], more: int, *, timeout: float = 30) -> None:
    """Wait until the receivers have seen ``more`` requests beyond what they have now."""
    target = sum(len(r.requests) for r in receivers) + more
    async with asyncio.timeout(timeout):
        while sum(len(r.requests) for r in receivers) < target:
            await asyncio.sleep(0.005)


async def _until_all_succeeded(database_url: str, total: int, *, timeout: float = 60) -> None:
    async with Webhooks(database_url, worker=False) as hooks, asyncio.timeout(timeout):
        while (await hooks.store.count_deliveries())[DeliveryStatus.SUCCEEDED] < total:
            await asyncio.sleep(0.05)


def _finish(worker: subprocess.Popen[bytes], log: Path) -> None:
    assert stop(worker) == 0, log.read_text()[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_repeated_sigkills_under_load_lose_nothing_on_sqlite(
    database_url: str, tmp_path: Path, receivers: list[Receiver]
) -> None:
    messages, kills = 1500, 8
    rng = random.Random(20261201)
    ledger = await _accept(database_url, receivers, messages)
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, log, concurrency=CONCURRENCY)
    for _ in range(kills):
        # Mid-stream: the worker is delivering hundreds a second and committing as it goes.
        await _progress(receivers, 150)
        await asyncio.sleep(rng.uniform(0, 0.05))
        kill(worker)
        worker = start_worker(database_url, log, concurrency=CONCURRENCY)
    await _until_all_succeeded(database_url, messages * RECEIVERS)
    _finish(worker, log)

    audit = ledger.audit(receivers)
    with sqlite3.connect(sqlite_path(database_url)) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()
        inconsistent = connection.execute(INCONSISTENT).fetchone()
    print(
        f"\nSQLite, {messages} messages x {RECEIVERS} endpoints, {kills} SIGKILLs mid-stream: "
        f"lost {len(audit.lost)}, duplicates {audit.duplicates}"
    )
    assert audit.lost == set()
    assert audit.changed == []
    # Only requests in flight or with results not yet written can repeat (2 x concurrency).
    assert audit.duplicates <= kills * 2 * CONCURRENCY
    assert integrity == ("ok",)
    assert inconsistent == (0,)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_while_a_result_batch_is_written_loses_nothing_on_postgres(
    postgres_url: str, tmp_path: Path, receivers: list[Receiver]
) -> None:
    messages, kills = 1000, 4
    ledger = await _accept(postgres_url, receivers, messages)
    log = tmp_path / "worker.log"
    blocked_batches = 0
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as observer:
        for _ in range(kills):
            worker = start_worker(postgres_url, log, concurrency=CONCURRENCY)
            await _progress(receivers, 50)
            async with await psycopg.AsyncConnection.connect(postgres_url) as blocker:
                # SHARE conflicts with the ROW EXCLUSIVE lock that writing attempts needs: the
                # worker's statement for a batch of results waits, and is killed waiting.
                await blocker.execute("LOCK TABLE attempt IN SHARE MODE")
                blocked_batches += await _until_a_batch_is_blocked(observer)
                kill(worker)
                await blocker.rollback()
    worker = start_worker(postgres_url, log, concurrency=CONCURRENCY)
    await _until_all_succeeded(postgres_url, messages * RECEIVERS)
    _finish(worker, log)

    audit = ledger.audit(receivers)
    inconsistent = await _scalar(postgres_url, INCONSISTENT)
    print(
        f"\nPostgreSQL, {messages} messages x {RECEIVERS} endpoints, {kills} SIGKILLs while a result "
        f"batch was written ({blocked_batches} seen blocked): lost {len(audit.lost)}, "
        f"duplicates {audit.duplicates}"
    )
    assert blocked_batches == kills
    assert audit.lost == set()
    assert audit.changed == []
    assert audit.duplicates <= kills * 2 * CONCURRENCY
    assert inconsistent == 0


async def _until_a_batch_is_blocked(
    observer: psycopg.AsyncConnection[tuple[int]], timeout: float = 15
) -> int:
    """Wait until a worker's statement writing a batch of results waits for its lock."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO attempt%'"
    )
    async with asyncio.timeout(timeout):
        while True:
            row = await (await observer.execute(query)).fetchone()
            if row is not None and row[0] > 0:
                return 1
            await asyncio.sleep(0.01)


async def _scalar(database_url: str, query: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as connection:
        row = await (await connection.execute(query)).fetchone()
    assert row is not None
    value: int = row[0]
    return value
