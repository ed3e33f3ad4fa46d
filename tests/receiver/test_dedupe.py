"""Both de-duplication stores keep the same promises: one claim wins, leases and TTLs expire."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hookwire.receiver import (
    ClaimResult,
    Deduplicator,
    MemoryDeduplicator,
    Receiver,
    SQLiteDeduplicator,
    Webhook,
)
from tests.receiver.signing import SECRET, event, signed

TTL = 3600.0
LEASE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[[], Deduplicator]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite"])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[StoreFactory]:
    """Opens stores of one kind; sqlite ones share a file, as receiver processes would."""
    opened: list[SQLiteDeduplicator] = []
    memory = MemoryDeduplicator(ttl=TTL, lease=LEASE, clock=clock)

    def make() -> Deduplicator:
        if request.param == "memory":
            return memory
        store = SQLiteDeduplicator(tmp_path / "receipts.db", ttl=TTL, lease=LEASE, clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_a_claim_is_exclusive_until_completed_or_released(make_store: StoreFactory) -> None:
    store, other = make_store(), make_store()

    assert await store.claim("msg_1") is ClaimResult.CLAIMED
    assert await other.claim("msg_1") is ClaimResult.IN_PROGRESS
    await store.release("msg_1")
    assert await other.claim("msg_1") is ClaimResult.CLAIMED
    await other.complete("msg_1")
    assert await store.claim("msg_1") is ClaimResult.DONE
    await store.release("msg_1")  # releasing never forgets a handled id
    assert await store.claim("msg_1") is ClaimResult.DONE
    assert await store.claim("msg_2") is ClaimResult.CLAIMED


async def test_of_many_concurrent_claims_one_wins(make_store: StoreFactory) -> None:
    stores = [make_store() for _ in range(4)]
    results = await asyncio.gather(*(stores[i % 4].claim("msg_race") for i in range(40)))
    assert results.count(ClaimResult.CLAIMED) == 1
    assert results.count(ClaimResult.IN_PROGRESS) == 39


async def test_a_claim_lapses_after_its_lease(make_store: StoreFactory, clock: Clock) -> None:
    store = make_store()
    assert await store.claim("msg_hung") is ClaimResult.CLAIMED
    clock.now += LEASE - 1
    assert await store.claim("msg_hung") is ClaimResult.IN_PROGRESS
    clock.now += 2
    assert await store.claim("msg_hung") is ClaimResult.CLAIMED


async def test_a_handled_id_is_forgotten_after_the_ttl(make_store: StoreFactory, clock: Clock) -> None:
    store = make_store()
    await store.claim("msg_old")
    await store.complete("msg_old")
    clock.now += TTL - 1
    assert await store.claim("msg_old") is ClaimResult.DONE
    clock.now += 2
    assert await store.claim("msg_old") is ClaimResult.CLAIMED


async def test_the_memory_store_is_bounded(clock: Clock) -> None:
    store = MemoryDeduplicator(max_entries=3, clock=clock)
    for number in range(5):
        await store.claim(f"msg_{number}")
        await store.complete(f"msg_{number}")

    assert len(store) == 3
    assert await store.claim("msg_4") is ClaimResult.DONE
    assert await store.claim("msg_0") is ClaimResult.CLAIMED  # forgotten to stay within bounds


async def test_the_memory_store_drops_expired_entries(clock: Clock) -> None:
    store = MemoryDeduplicator(ttl=10, lease=10, clock=clock)
    for number in range(3):
        await store.claim(f"msg_{number}")
    clock.now += 11
    await store.claim("msg_new")
    assert len(store) == 1


async def test_sqlite_receipts_survive_a_restart_and_expired_ones_are_purged(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "receipts.db"
    async with SQLiteDeduplicator(path, ttl=TTL, lease=LEASE, clock=clock) as store:
        await store.claim("msg_kept")
        await store.complete("msg_kept")
    async with SQLiteDeduplicator(path, ttl=TTL, lease=LEASE, clock=clock) as store:
        assert await store.claim("msg_kept") is ClaimResult.DONE
        clock.now += TTL + 120  # past the TTL and the purge interval
        await store.claim("msg_other")
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT webhook_id FROM webhook_receipt").fetchall()
    connection.close()
    assert rows == [("msg_other",)]


def test_sqlite_refuses_memory_and_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file"):
        SQLiteDeduplicator(":memory:")
    with pytest.raises(ValueError, match="positive"):
        SQLiteDeduplicator(tmp_path / "r.db", ttl=0)
    with pytest.raises(ValueError, match="positive"):
        MemoryDeduplicator(max_entries=0)


async def test_receivers_sharing_a_sqlite_file_handle_a_webhook_once(tmp_path: Path) -> None:
    calls: list[str] = []
    async with (
        SQLiteDeduplicator(tmp_path / "receipts.db") as first_store,
        SQLiteDeduplicator(tmp_path / "receipts.db") as second_store,
    ):
        receivers = [Receiver(SECRET, deduplicator=store) for store in (first_store, second_store)]
        for number, receiver in enumerate(receivers):

            @receiver.on("*")
            def record(webhook: Webhook, number: int = number) -> None:
                calls.append(f"receiver {number}")

        body, headers = signed(event("invoice.paid"))
        first = await receivers[0].handle(body, headers)
        second = await receivers[1].handle(body, headers)

    assert (first.result, second.result) == ("handled", "duplicate")
    assert calls == ["receiver 0"]
