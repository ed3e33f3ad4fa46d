"""Chaos on PostgreSQL with real processes: workers are SIGKILLed at random while they
deliver, and SIGSTOPped past their lease; nothing accepted is lost and no stale worker
overwrites the result of the one that took over."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from hookwire import Webhooks
from hookwire.testing import Receiver, Reply
from tests.e2e.workers import kill, start_worker, stop

MESSAGES = 5000
ENDPOINTS = 10
WORKERS = 4
KILLS = 20
CONCURRENCY = 32


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_random_sigkills_lose_nothing(postgres_url: str, tmp_path: Path) -> None:
    rng = random.Random(20261129)
    receivers = [await Receiver().start() for _ in range(ENDPOINTS)]
    try:
        # Endpoint i takes event types t{i} and t{i+1}: every message goes to two endpoints.
        expected: set[tuple[str, int]] = set()
        async with Webhooks(postgres_url, worker=False) as hooks:
            for i, receiver in enumerate(receivers):
                kinds = [f"t{i}", f"t{(i + 1) % ENDPOINTS}"]
                await hooks.endpoints.create("default", receiver.url, filter_types=kinds)
            log = tmp_path / "workers.log"
            workers = [start_worker(postgres_url, log, concurrency=CONCURRENCY) for _ in range(WORKERS)]
            producing = asyncio.create_task(_produce(hooks, expected))
            kills = 0
            while kills < KILLS:
                await asyncio.sleep(rng.uniform(0.2, 0.5))
                victim = rng.randrange(WORKERS)
                kill(workers[victim])
                workers[victim] = start_worker(postgres_url, log, concurrency=CONCURRENCY)
                kills += 1
            await producing
            await _until_all_succeeded(postgres_url, 2 * MESSAGES)
            codes = [stop(worker) for worker in workers]
        assert codes == [0] * WORKERS, log.read_text()[-3000:]
    finally:
        for receiver in receivers:
            await receiver.stop()

    received = Counter((r.webhook_id, i) for i, rec in enumerate(receivers) for r in rec.requests)
    arrived = {(message_id, i) for message_id, i in received}
    lost = {pair for pair in expected if pair not in arrived}
    duplicates = sum(n - 1 for n in received.values())
    summary = f"{MESSAGES} messages x 2 endpoints, {KILLS} SIGKILLs"
    print(f"\nchaos: {summary}: lost {len(lost)}, duplicates {duplicates}")
    assert lost == set()
    # A killed worker can repeat only the requests it had in flight (at most its concurrency).
    assert duplicates <= KILLS * CONCURRENCY
    # Duplicates are the same request again: same webhook-id, same bytes.
    bodies: dict[tuple[str, int], set[bytes]] = {}
    for i, rec in enumerate(receivers):
        for r in rec.requests:
            bodies.setdefault((r.webhook_id, i), set()).add(r.body)
    assert all(len(variants) == 1 for variants in bodies.values())
    with psycopg.connect(postgres_url) as connection:
        unproven = connection.execute(
            "SELECT count(*) FROM delivery d WHERE d.status = 'succeeded' AND NOT EXISTS"
            " (SELECT 1 FROM attempt a WHERE a.delivery_id = d.id AND a.succeeded"
            " AND a.status_code BETWEEN 200 AND 299)"
        ).fetchone()
    assert unproven == (0,)


async def _produce(hooks: Webhooks, expected: set[tuple[str, int]]) -> None:
    numbers = iter(range(MESSAGES))

    async def lane() -> None:
        for n in numbers:
            kind = n % ENDPOINTS
            message = await hooks.trigger(f"t{kind}", {"n": n})
            # t{k} is taken by endpoint k and by endpoint k-1.
            expected.update({(message.id, kind), (message.id, (kind - 1) % ENDPOINTS)})

    await asyncio.gather(*(lane() for _ in range(16)))


async def _until_all_succeeded(database_url: str, total: int, timeout: float = 180) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as connection:
        async with asyncio.timeout(timeout):
            while True:
                cursor = await connection.execute("SELECT count(*) FROM delivery WHERE status = 'succeeded'")
                row = await cursor.fetchone()
                if row is not None and row[0] >= total:
                    return
                await asyncio.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_paused_worker_cannot_overwrite_the_result_of_its_successor(
    postgres_url: str, tmp_path: Path
) -> None:
    async with Receiver() as receiver, Webhooks(postgres_url, worker=False) as hooks:
        # The first request hangs long enough to pause its worker mid-request, then fails; the
        # successor's request succeeds.
        receiver.respond(Reply(500, b"stale", delay=0.5))
        await hooks.add("a.b", receiver.url)
        message = await hooks.trigger("a.b", {"n": 1})
        log = tmp_path / "workers.log"

        first = start_worker(postgres_url, log, lease_seconds=2, request_timeout=1)
        await receiver.wait_for(1, timeout=30)
        os.kill(first.pid, signal.SIGSTOP)  # paused with the request in flight
        try:
            second = start_worker(postgres_url, log, lease_seconds=2, request_timeout=1)
            await receiver.wait_for(2, timeout=30)  # the lease expired; the successor took over
            await hooks.wait_until_idle(timeout=30)
            assert stop(second) == 0
        finally:
            os.kill(first.pid, signal.SIGCONT)
        await asyncio.sleep(1.5)  # the stale worker wakes, sees its 500 or its timeout, tries to write
        assert stop(first) == 0, log.read_text()
        assert "1 attempt results were fenced off" in log.read_text()

        [delivery] = await hooks.messages.deliveries("default", message.id)
        attempts = (await hooks.attempts.by_message("default", message.id)).items
    assert delivery.status.value == "succeeded"
    assert [(a.status_code, a.succeeded) for a in attempts] == [(200, True)]
    assert delivery.attempts == 1
