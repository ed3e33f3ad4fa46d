"""A worker process killed with deliveries in flight loses nothing: after a restart every
accepted message arrives at least once, and duplicates carry the same webhook-id."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hookwire import DeliveryStatus, Webhooks
from hookwire.testing import Receiver, Reply
from tests.e2e.workers import kill, start_worker, stop

MESSAGES = 300


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_sigkill_with_deliveries_in_flight_loses_nothing(database_url: str, tmp_path: Path) -> None:
    async with Receiver(default=Reply(200, delay=0.05)) as receiver:
        async with Webhooks(database_url, worker=False) as hooks:
            await hooks.add("order.created", receiver.url)
            accepted = {(await hooks.trigger("order.created", {"n": n})).id for n in range(MESSAGES)}

        log = tmp_path / "worker.log"
        first = start_worker(database_url, log)
        try:
            await receiver.wait_for(MESSAGES // 4, timeout=30)
        finally:
            kill(first)
        seen_at_kill = len(receiver.requests)
        assert seen_at_kill < MESSAGES, "the worker finished before it could be killed"

        second = start_worker(database_url, log)
        try:
            # Done when every delivery is recorded as succeeded: the ones in flight at the kill
            # come back once their lease expires.
            async with Webhooks(database_url, worker=False) as hooks:
                for _ in range(600):
                    counts = await hooks.store.count_deliveries()
                    if counts[DeliveryStatus.SUCCEEDED] == MESSAGES:
                        break
                    await asyncio.sleep(0.05)
        finally:
            assert stop(second) == 0, log.read_text()

    received = Counter(r.webhook_id for r in receiver.requests)
    lost = accepted - set(received)
    duplicates = sum(count - 1 for count in received.values())
    print(
        f"\ncrash test: {MESSAGES} accepted, {seen_at_kill} seen at the kill, "
        f"lost {len(lost)}, duplicates {duplicates}"
    )
    assert lost == set()
    # Only requests in flight at the kill (at most the worker's concurrency) can be repeated.
    assert duplicates <= 32
    assert counts[DeliveryStatus.SUCCEEDED] == MESSAGES


#: Runs in a process of its own: an application with the embedded worker, triggering until it
#: is killed (or has sent its share), and noting each message id once ``trigger()`` returned.
EMBEDDED_APP = """
import asyncio, sys
from datetime import timedelta
from hookwire import Settings, Webhooks

async def main(database_url: str, accepted: str) -> None:
    settings = Settings(allow_networks=["127.0.0.0/8"], lease=timedelta(seconds=2), request_timeout=1)
    async with Webhooks(database_url, settings=settings) as hooks:
        with open(accepted, "a") as out:
            for n in range(3000):
                message = await hooks.trigger("order.created", {"n": n})
                out.write(message.id + "\\n")
                out.flush()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_sigkill_of_an_application_holding_handed_off_deliveries_loses_nothing(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    accepted_file = tmp_path / "accepted.txt"
    async with Receiver(default=Reply(200, delay=0.05)) as receiver:
        async with Webhooks(database_url, worker=False) as hooks:
            await hooks.add("order.created", receiver.url)
        app = subprocess.Popen([sys.executable, "-c", EMBEDDED_APP, database_url, str(accepted_file)])
        try:
            await receiver.wait_for(100, timeout=30)
        finally:
            kill(app)
        async with Webhooks(database_url, worker=False) as hooks:
            leased_at_kill = (await hooks.store.count_deliveries())[DeliveryStatus.SENDING]
        # Handed off to the dead process's worker and never sent: leased to it, not lost.
        assert leased_at_kill > 0

        log = tmp_path / "worker.log"
        worker = start_worker(database_url, log)
        try:
            async with Webhooks(database_url, worker=False) as hooks:
                for _ in range(600):
                    counts = await hooks.store.count_deliveries()
                    if counts[DeliveryStatus.SUCCEEDED] == sum(counts.values()):
                        break
                    await asyncio.sleep(0.05)
        finally:
            assert stop(worker) == 0, log.read_text()

    accepted = set(accepted_file.read_text().split())
    received = {r.webhook_id for r in receiver.requests}
    print(f"\nhand-off crash test: {len(accepted)} accepted, {leased_at_kill} leased at the kill")
    assert len(accepted) >= 100
    assert accepted - received == set()
