"""Hand-offs: new deliveries written leased to the worker of the process, as many as it has
room for, given to it only once committed, and claimed by anyone once the lease expires."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import timedelta

from hookwire.core.clock import utcnow
from hookwire.core.types import DeliveryStatus
from hookwire.store.base import Claim, HandedOff, Store
from tests.contract.test_store import LEASE, application, claim_all, endpoint, message, result


class Worker:
    """Stands for a worker: the room it reports, and the claims it was given."""

    lease = LEASE

    def __init__(self, total: int, rooms: dict[str, int]) -> None:
        self.total = total
        self.rooms = rooms
        self.taken: list[Claim] = []

    def room(self, endpoint_ids: Collection[str]) -> tuple[int, dict[str, int]]:
        return self.total, {e: self.rooms.get(e, 0) for e in endpoint_ids}

    def take(self, handed: HandedOff) -> None:
        claims = handed.claims()
        assert len(claims) == handed.count
        self.taken.extend(claims)
        self.total -= len(claims)
        for claim in claims:
            self.rooms[claim.endpoint_id] -= 1


async def statuses(store: Store, app_id: str, message_id: str) -> dict[str, DeliveryStatus]:
    return {d.endpoint_id: d.status for d in await store.list_deliveries(app_id, message_id)}


async def test_deliveries_are_written_leased_up_to_the_room_the_worker_has(store: Store) -> None:
    app = await store.create_application(application())
    roomy, full = [await store.create_endpoint(endpoint(app)) for _ in range(2)]
    worker = Worker(total=10, rooms={roomy.id: 1})
    await store.hand_off_to(worker)

    first, _ = await store.create_message(message(app), now=utcnow())
    second, _ = await store.create_message(message(app, event_id="e-2"), now=utcnow())  # the path for ids

    assert await statuses(store, app.id, first.id) == {
        roomy.id: DeliveryStatus.SENDING,
        full.id: DeliveryStatus.PENDING,
    }
    [handed] = worker.taken  # room for one only, so the second message's went pending
    assert (handed.message_id, handed.endpoint_id, handed.lease_token) == (first.id, roomy.id, 1)
    assert (handed.payload, handed.url, handed.secrets) == (first.payload, roomy.url, (roomy.secret,))
    assert await statuses(store, app.id, second.id) == dict.fromkeys(
        (roomy.id, full.id), DeliveryStatus.PENDING
    )
    # What was not handed off is claimed as ever; what was is leased already.
    claimed = await claim_all(store)
    assert {(c.message_id, c.endpoint_id) for c in claimed} == {
        (first.id, full.id),
        (second.id, roomy.id),
        (second.id, full.id),
    }


async def test_the_total_room_bounds_what_one_commit_hands_off(store: Store) -> None:
    app = await store.create_application(application())
    endpoints = [await store.create_endpoint(endpoint(app)) for _ in range(3)]
    worker = Worker(total=2, rooms={e.id: 5 for e in endpoints})
    await store.hand_off_to(worker)

    await store.create_message(message(app), now=utcnow())

    assert len(worker.taken) == 2
    assert len(await claim_all(store)) == 1


async def test_a_hand_off_never_acted_on_is_claimed_when_its_lease_expires(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    worker = Worker(total=10, rooms={ep.id: 1})
    await store.hand_off_to(worker)
    await store.create_message(message(app), now=utcnow())
    [handed] = worker.taken  # and then the worker died without sending it

    assert await claim_all(store) == []  # leased: nobody else takes it meanwhile
    [taken_over] = await claim_all(store, utcnow() + LEASE + timedelta(seconds=1))

    assert (taken_over.delivery_id, taken_over.lease_token) == (handed.delivery_id, 2)
    assert await store.record_results([result(handed, DeliveryStatus.SUCCEEDED)], now=utcnow()) == set()
    written = await store.record_results([result(taken_over, DeliveryStatus.SUCCEEDED)], now=utcnow())
    assert written == {handed.delivery_id}


async def test_only_committed_deliveries_are_handed_off(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    worker = Worker(total=100, rooms={ep.id: 100})
    await store.hand_off_to(worker)
    orphan = application()  # never stored: its message fails, and the group is written again

    outcomes = await asyncio.gather(
        *(store.create_message(message(app), now=utcnow()) for _ in range(3)),
        store.create_message(message(orphan), now=utcnow()),
        *(store.create_message(message(app), now=utcnow()) for _ in range(3)),
        return_exceptions=True,
    )

    created = {o[0].id for o in outcomes if isinstance(o, tuple)}
    assert len(created) == 6
    handed = [c.message_id for c in worker.taken]
    assert len(handed) == len(set(handed))  # each once
    assert set(handed) <= created  # committed ones only
    for message_id in created:
        leased = message_id in handed
        expected = DeliveryStatus.SENDING if leased else DeliveryStatus.PENDING
        assert await statuses(store, app.id, message_id) == {ep.id: expected}
    assert {c.message_id for c in await claim_all(store)} == created - set(handed)


async def test_no_hand_off_once_the_worker_is_gone(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    worker = Worker(total=10, rooms={ep.id: 10})
    await store.hand_off_to(worker)
    await store.hand_off_to(None)

    msg, _ = await store.create_message(message(app), now=utcnow())

    assert worker.taken == []
    assert await statuses(store, app.id, msg.id) == {ep.id: DeliveryStatus.PENDING}
