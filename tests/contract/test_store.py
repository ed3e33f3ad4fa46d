"""What every Store must do, in domain words. Runs against each backend."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from hookwire.core import ids
from hookwire.core.clock import from_ms, to_ms, utcnow
from hookwire.core.errors import Conflict, NotFound
from hookwire.core.types import (
    Application,
    Attempt,
    AttemptError,
    AttemptTrigger,
    DeliveryStatus,
    Endpoint,
    EventType,
    Message,
)
from hookwire.store.base import AttemptResult, Claim, EndpointHealth, MessageFilter, Store

LEASE = timedelta(seconds=30)


def application(uid: str | None = None) -> Application:
    now = utcnow()
    return Application(ids.new_id(ids.APPLICATION), uid, uid or "app", None, {}, now, now)


def endpoint(
    app: Application, *, uid: str | None = None, filter_types: tuple[str, ...] | None = None
) -> Endpoint:
    now = utcnow()
    return Endpoint(
        id=ids.new_id(ids.ENDPOINT),
        app_id=app.id,
        uid=uid,
        url="https://example.com/hook",
        description="",
        filter_types=filter_types,
        headers={"X-Token": "t"},
        disabled=False,
        disabled_reason=None,
        retry_schedule=None,
        metadata={},
        failing_since=None,
        created_at=now,
        updated_at=now,
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )


def message(app: Application, event_type: str = "order.created", event_id: str | None = None) -> Message:
    return Message(ids.new_id(ids.MESSAGE), app.id, event_type, event_id, b'{"n":1}', {}, utcnow())


async def claim_all(store: Store, now: datetime | None = None, **kwargs: object) -> list[Claim]:
    now = now or utcnow()
    options: dict[str, object] = {"limit": 100, "per_endpoint": 100, "room": {}}
    options.update(kwargs)
    return await store.claim_due(now=now, lease_until=now + LEASE, **options)  # type: ignore[arg-type]


def result(
    claim: Claim, status: DeliveryStatus, *, code: int = 200, health: EndpointHealth | None = None
) -> AttemptResult:
    now = utcnow()
    attempt = Attempt(
        id=ids.new_id(ids.ATTEMPT),
        delivery_id=claim.delivery_id,
        message_id=claim.message_id,
        endpoint_id=claim.endpoint_id,
        app_id=claim.app_id,
        number=claim.attempts + 1,
        url=claim.url,
        started_at=now,
        duration_ms=3,
        status_code=code,
        response_body=b"ok",
        error=None,
        error_detail=None,
        succeeded=status is DeliveryStatus.SUCCEEDED,
        trigger=AttemptTrigger.SCHEDULED,
    )
    next_at = now + timedelta(seconds=5) if status is DeliveryStatus.PENDING else None
    return AttemptResult(
        claim.delivery_id, claim.lease_token, claim.endpoint_id, status, next_at, attempt, health
    )


async def test_applications_by_id_and_uid(store: Store) -> None:
    app = await store.create_application(application("acme"))
    assert await store.get_application(app.id) == app
    assert await store.get_application("acme") == app
    with pytest.raises(Conflict):
        await store.create_application(application("acme"))
    with pytest.raises(NotFound):
        await store.get_application("nobody")


async def test_lists_page_by_id(store: Store) -> None:
    created = [await store.create_application(application(f"a{i}")) for i in range(5)]
    first = await store.list_applications(limit=2, iterator=None)
    assert [a.id for a in first.items] == [a.id for a in created[:2]]
    assert not first.done
    rest = await store.list_applications(limit=10, iterator=first.iterator)
    assert [a.id for a in rest.items] == [a.id for a in created[2:]]
    assert rest.done


async def test_endpoints_belong_to_their_application(store: Store) -> None:
    app = await store.create_application(application("a"))
    other = await store.create_application(application("b"))
    ep = await store.create_endpoint(endpoint(app, uid="main"))
    assert await store.get_endpoint(app.id, "main") == ep
    with pytest.raises(NotFound):
        await store.get_endpoint(other.id, ep.id)
    with pytest.raises(Conflict):
        await store.create_endpoint(endpoint(app, uid="main"))
    await store.create_endpoint(endpoint(other, uid="main"))  # uids are per application

    changed = dataclasses.replace(ep, url="https://example.org/new", filter_types=("a.*",))
    await store.update_endpoint(changed)
    assert (await store.get_endpoint(app.id, ep.id)).filter_types == ("a.*",)

    disabled = await store.set_endpoint_disabled(app.id, ep.id, disabled=True, reason="manual", now=utcnow())
    assert disabled.disabled
    assert disabled.disabled_reason == "manual"
    await store.delete_endpoint(app.id, ep.id)
    with pytest.raises(NotFound):
        await store.get_endpoint(app.id, ep.id)


async def test_event_types(store: Store) -> None:
    now = utcnow()
    await store.save_event_type(EventType("a.b", "first", {"type": "object"}, False, now, now))
    await store.save_event_type(EventType("a.b", "second", None, False, now, now))
    await store.save_event_type(EventType("c.d", "", None, True, now, now))
    assert (await store.get_event_type("a.b")).description == "second"
    visible = await store.list_event_types(limit=10, iterator=None, include_archived=False)
    assert [e.name for e in visible.items] == ["a.b"]
    everything = await store.list_event_types(limit=10, iterator=None, include_archived=True)
    assert [e.name for e in everything.items] == ["a.b", "c.d"]


async def test_message_fans_out_to_matching_enabled_endpoints(store: Store) -> None:
    app = await store.create_application(application())
    orders = await store.create_endpoint(endpoint(app, filter_types=("order.*",)))
    everything = await store.create_endpoint(endpoint(app))
    await store.create_endpoint(endpoint(app, filter_types=("invoice.paid",)))
    off = await store.create_endpoint(endpoint(app))
    await store.set_endpoint_disabled(app.id, off.id, disabled=True, reason="x", now=utcnow())

    msg, created = await store.create_message(message(app), now=utcnow())
    assert created
    deliveries = await store.list_deliveries(app.id, msg.id)
    assert {d.endpoint_id for d in deliveries} == {orders.id, everything.id}
    assert all(d.status is DeliveryStatus.PENDING and d.attempts == 0 for d in deliveries)


async def test_event_id_makes_creation_idempotent(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    first, created = await store.create_message(message(app, event_id="e1"), now=utcnow())
    again, created_again = await store.create_message(message(app, event_id="e1"), now=utcnow())
    assert created
    assert not created_again
    assert again.id == first.id
    assert len(await store.list_deliveries(app.id, first.id)) == 1


async def _create_together(store: Store, batch: list[Message]) -> list[tuple[Message, bool] | BaseException]:
    return await asyncio.gather(
        *(store.create_message(m, now=utcnow()) for m in batch), return_exceptions=True
    )


async def test_concurrent_messages_each_fan_out_as_if_alone(store: Store) -> None:
    # Concurrent writes may share one transaction (group commit); each must still come out as
    # if written alone: its own deliveries, its own event id.
    apps = [await store.create_application(application()) for _ in range(3)]
    for app in apps:
        await store.create_endpoint(endpoint(app))
    await store.create_endpoint(endpoint(apps[0], filter_types=("order.paid",)))
    batch = [message(app, event_type=kind) for app in apps for kind in ("order.created", "order.paid")]
    batch += [message(apps[1], event_id="same"), message(apps[1], event_id="same")]

    stored = await _create_together(store, batch)

    assert [outcome[1] for outcome in stored] == [True] * 7 + [False]  # type: ignore[index]
    assert stored[7][0].id == stored[6][0].id  # type: ignore[index]
    counts = [len(await store.list_deliveries(m.app_id, m.id)) for m in batch[:7]]
    assert counts == [1, 2, 1, 1, 1, 1, 1]


async def test_a_failing_message_fails_alone_among_concurrent_ones(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    missing = dataclasses.replace(app, id=ids.new_id(ids.APPLICATION))
    batch = [message(app), message(missing), message(app)]

    first, refused, last = await _create_together(store, batch)

    assert isinstance(refused, NotFound)
    for outcome in (first, last):
        assert not isinstance(outcome, BaseException)
        stored, created = outcome
        assert created
        assert len(await store.list_deliveries(app.id, stored.id)) == 1


async def test_a_message_for_an_application_by_id_or_uid(store: Store) -> None:
    app = await store.create_application(application("acme"))
    await store.create_endpoint(endpoint(app))
    seen: list[Application] = []

    def make(found: Application) -> Message:
        seen.append(found)
        return message(found, event_id=f"e{len(seen)}")

    by_uid, created = await store.create_message_in("acme", make)
    by_id, _ = await store.create_message_in(app.id, make)
    assert created
    assert seen == [app, app]
    assert (by_uid.app_id, by_id.app_id) == (app.id, app.id)
    assert len(await store.list_deliveries(app.id, by_uid.id)) == 1
    again, created_again = await store.create_message_in("acme", lambda found: message(found, event_id="e1"))
    assert (again.id, created_again) == (by_uid.id, False)

    with pytest.raises(NotFound):
        await store.create_message_in("nobody", make)

    def refuse(found: Application) -> Message:
        raise NotFound("not for this caller")

    with pytest.raises(NotFound, match="not for this caller"):
        await store.create_message_in("acme", refuse)
    listed = await store.list_messages(app.id, limit=10, iterator=None, where=MessageFilter())
    assert {m.id for m in listed.items} == {by_uid.id, by_id.id}


async def test_concurrent_messages_in_applications_come_out_as_if_alone(store: Store) -> None:
    # Requests answered by the HTTP API arrive together and may share one transaction: by id or
    # uid, with and without event ids, an application missing or refused among them.
    acme = await store.create_application(application("acme"))
    beta = await store.create_application(application("beta"))
    for app in (acme, beta):
        await store.create_endpoint(endpoint(app))

    def refuse(found: Application) -> Message:
        raise NotFound("not for this caller")

    makes: list[tuple[str, Callable[[Application], Message]]] = [
        ("acme", lambda found: message(found)),
        (beta.id, lambda found: message(found)),
        ("acme", lambda found: message(found, event_id="same")),
        (acme.id, lambda found: message(found, event_id="same")),
        ("beta", lambda found: message(found, event_id="same")),
    ]
    stored = await asyncio.gather(*(store.create_message_in(app, make) for app, make in makes))

    assert [(m.app_id, created) for m, created in stored] == [
        (acme.id, True), (beta.id, True), (acme.id, True), (acme.id, False), (beta.id, True)
    ]  # fmt: skip
    assert stored[3][0].id == stored[2][0].id  # the same event id in one application: one message
    for m, created in stored:
        if created:
            assert len(await store.list_deliveries(m.app_id, m.id)) == 1

    failing: list[tuple[str, Callable[[Application], Message]]] = [
        ("acme", message), ("nobody", message), ("beta", refuse), ("beta", message)
    ]  # fmt: skip
    outcomes = await asyncio.gather(
        *(store.create_message_in(app, make) for app, make in failing), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [tuple, NotFound, NotFound, tuple]


async def test_claims_lease_and_fence(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    msg, _ = await store.create_message(message(app), now=utcnow())

    [claim] = await claim_all(store)
    assert claim.message_id == msg.id
    assert claim.payload == b'{"n":1}'
    assert claim.endpoint_headers == {"X-Token": "t"}
    assert await claim_all(store) == []  # leased

    # The lease expires; another worker takes over with a new token...
    later = utcnow() + LEASE + timedelta(seconds=1)
    [taken_over] = await claim_all(store, later)
    assert taken_over.lease_token > claim.lease_token
    # ...so the first worker's late result is fenced off, and the new owner's result stands.
    assert await store.record_results([result(claim, DeliveryStatus.FAILED)], now=utcnow()) == set()
    written = await store.record_results([result(taken_over, DeliveryStatus.SUCCEEDED)], now=utcnow())
    assert written == {claim.delivery_id}
    [delivery] = await store.list_deliveries(app.id, msg.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    attempts = await store.list_attempts(app.id, endpoint_id=ep.id, limit=10, iterator=None)
    assert [a.status_code for a in attempts.items] == [200]


async def test_a_batch_of_results_writes_only_those_still_leased(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    for _ in range(3):
        await store.create_message(message(app), now=utcnow())
    claims = await claim_all(store)
    # The lease of the first expires and another worker takes it over.
    later = utcnow() + LEASE + timedelta(seconds=1)
    [taken_over] = await claim_all(store, later, limit=1)
    assert taken_over.delivery_id == claims[0].delivery_id

    written = await store.record_results(
        [result(claim, DeliveryStatus.SUCCEEDED) for claim in claims], now=utcnow()
    )

    assert written == {claim.delivery_id for claim in claims[1:]}
    attempts = await store.list_attempts(app.id, endpoint_id=ep.id, limit=10, iterator=None)
    assert {a.delivery_id for a in attempts.items} == written
    assert await store.record_results([result(taken_over, DeliveryStatus.SUCCEEDED)], now=utcnow()) == {
        taken_over.delivery_id
    }


async def test_a_blocked_endpoints_due_deliveries_move_out_of_the_look_ahead(store: Store) -> None:
    app = await store.create_application(application())
    busy = await store.create_endpoint(endpoint(app, filter_types=("busy",)))
    other = await store.create_endpoint(endpoint(app, filter_types=("other",)))
    start = utcnow()
    for n in range(5):  # the busy endpoint's backlog comes first in due order
        await store.create_message(message(app, "busy"), now=start + timedelta(milliseconds=n))
    for n in range(3):
        await store.create_message(message(app, "other"), now=start + timedelta(milliseconds=10 + n))
    now = start + timedelta(seconds=1)
    free_at = now + timedelta(seconds=10)
    # Three at most, so the look-ahead is six deliveries: five busy ones, one other.
    full = {"limit": 3, "room": {busy.id: 0}, "blocked": {busy.id: free_at}}

    first = await claim_all(store, now, **full)
    second = await claim_all(store, now, **full)

    assert [c.endpoint_id for c in first] == [other.id]
    # The busy endpoint's deliveries no longer fill the look-ahead: the rest of the others' come.
    assert [c.endpoint_id for c in second] == [other.id, other.id]
    assert await claim_all(store, now, limit=10) == []  # nothing else due before free_at
    later = await claim_all(store, free_at, limit=10)
    assert len(later) == 5
    assert {c.endpoint_id for c in later} == {busy.id}


async def test_claims_respect_room_per_endpoint(store: Store) -> None:
    app = await store.create_application(application())
    busy = await store.create_endpoint(endpoint(app))
    for _ in range(10):
        await store.create_message(message(app), now=utcnow())
    quiet = await store.create_endpoint(endpoint(app))
    for _ in range(3):
        await store.create_message(message(app), now=utcnow())

    claims = await claim_all(store, per_endpoint=4, room={busy.id: 1})
    by_endpoint = {e: sum(c.endpoint_id == e for c in claims) for e in (busy.id, quiet.id)}
    assert by_endpoint == {busy.id: 1, quiet.id: 3}
    assert await claim_all(store, room={busy.id: 0}) == []


async def test_claims_take_the_longest_due_first_up_to_the_limit(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    start = utcnow()
    # Each message is due a second before the one created before it: due order is not id order.
    created = [
        (await store.create_message(message(app), now=start + timedelta(seconds=n)))[0]
        for n in (4, 3, 2, 1, 0)
    ]
    due_first = [m.id for m in reversed(created)]
    later = start + timedelta(seconds=10)

    first = await claim_all(store, later, limit=2)
    assert {c.message_id for c in first} == set(due_first[:2])
    only_due = await claim_all(store, start + timedelta(seconds=2, milliseconds=500))
    assert [c.message_id for c in only_due] == [due_first[2]]
    rest = await claim_all(store, later)
    assert {c.message_id for c in rest} == set(due_first[3:])


async def test_claims_carry_a_disabled_endpoint_so_the_worker_can_settle_them(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    await store.set_endpoint_disabled(app.id, ep.id, disabled=True, reason="manual", now=utcnow())
    [claim] = await claim_all(store)
    assert claim.endpoint_id == ep.id
    assert claim.endpoint_disabled


async def test_workers_claiming_side_by_side_never_share_a_delivery(store: Store, peer: Store) -> None:
    app = await store.create_application(application())
    for _ in range(2):
        await store.create_endpoint(endpoint(app))
    messages = [(await store.create_message(message(app), now=utcnow()))[0] for _ in range(30)]

    async def work(worker: Store) -> list[Claim]:
        taken: list[Claim] = []
        while batch := await claim_all(worker, limit=4, per_endpoint=3):
            taken += batch
            await worker.record_results([result(c, DeliveryStatus.SUCCEEDED) for c in batch], now=utcnow())
        return taken

    mine, theirs = await asyncio.gather(work(store), work(peer))
    claimed = [c.delivery_id for c in mine + theirs]
    assert len(claimed) == len(set(claimed)) == 2 * len(messages)
    assert {c.lease_token for c in mine + theirs} == {1}  # each delivery was claimed once


async def test_retry_due_later_and_release(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    [claim] = await claim_all(store)
    await store.record_results([result(claim, DeliveryStatus.PENDING, code=500)], now=utcnow())
    assert await claim_all(store) == []  # not due for 5 s
    due = await store.next_due()
    assert due is not None
    assert due > utcnow()
    [again] = await claim_all(store, utcnow() + timedelta(seconds=6))
    assert again.attempts == 1
    await store.release([again], now=utcnow())
    [released] = await claim_all(store)
    assert released.delivery_id == again.delivery_id


async def test_endpoint_health_follows_results(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    await store.create_message(message(app), now=utcnow())
    first, second = await claim_all(store)
    await store.record_results(
        [result(first, DeliveryStatus.PENDING, code=500, health=EndpointHealth(succeeded=False))],
        now=utcnow(),
    )
    assert (await store.get_endpoint(app.id, ep.id)).failing_since is not None
    await store.record_results(
        [result(second, DeliveryStatus.FAILED, code=410, health=EndpointHealth(False, "gone"))], now=utcnow()
    )
    disabled = await store.get_endpoint(app.id, ep.id)
    assert disabled.disabled
    assert disabled.disabled_reason == "gone"


async def test_a_success_clears_the_failing_mark_unless_it_is_fenced_off(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    for _ in range(4):
        await store.create_message(message(app), now=utcnow())
    first, second, third, fourth = await claim_all(store)
    failed = EndpointHealth(succeeded=False)
    succeeded = EndpointHealth(succeeded=True)
    await store.record_results([result(first, DeliveryStatus.PENDING, code=500, health=failed)], now=utcnow())
    assert (await store.get_endpoint(app.id, ep.id)).failing_since is not None

    # A success whose lease was taken over is not written, and clears nothing.
    stale = dataclasses.replace(result(second, DeliveryStatus.SUCCEEDED, health=succeeded), lease_token=0)
    assert await store.record_results([stale], now=utcnow()) == set()
    assert (await store.get_endpoint(app.id, ep.id)).failing_since is not None

    # In one batch, a success and then a failure of the same endpoint: it is failing again.
    await store.record_results(
        [
            result(second, DeliveryStatus.SUCCEEDED, health=succeeded),
            result(third, DeliveryStatus.PENDING, code=500, health=failed),
        ],
        now=utcnow(),
    )
    assert (await store.get_endpoint(app.id, ep.id)).failing_since is not None
    await store.record_results([result(fourth, DeliveryStatus.SUCCEEDED, health=succeeded)], now=utcnow())
    assert (await store.get_endpoint(app.id, ep.id)).failing_since is None


async def test_an_attempt_is_stored_as_it_was_made(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    [claim] = await claim_all(store)
    attempt = result(claim, DeliveryStatus.PENDING).attempt
    assert attempt is not None
    made = dataclasses.replace(
        attempt,
        started_at=from_ms(to_ms(attempt.started_at)),  # stored to the millisecond
        status_code=None,
        response_body=bytes(range(256)) + "é ✓".encode(),
        error=AttemptError.TIMEOUT,
        error_detail='no answer in 15 s: "quoted", back\\slash, line\nbreak, é ✓',
    )
    written = AttemptResult(
        claim.delivery_id, claim.lease_token, claim.endpoint_id, DeliveryStatus.PENDING, None, made, None
    )
    assert await store.record_results([written], now=utcnow()) == {claim.delivery_id}
    [stored] = (await store.list_attempts(app.id, endpoint_id=ep.id, limit=10, iterator=None)).items
    assert stored == made


async def test_requeue_and_recover(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    since = utcnow() - timedelta(seconds=1)
    msg, _ = await store.create_message(message(app), now=utcnow())
    [claim] = await claim_all(store)
    await store.record_results([result(claim, DeliveryStatus.FAILED, code=500)], now=utcnow())

    assert await store.recover(app.id, ep.id, since=since, now=utcnow()) == 1
    assert await store.recover(app.id, ep.id, since=since, now=utcnow()) == 0  # already pending
    [claim] = await claim_all(store)
    assert claim.manual
    assert claim.round_attempts == 0
    assert claim.attempts == 1
    await store.record_results([result(claim, DeliveryStatus.SUCCEEDED)], now=utcnow())

    later = await store.create_endpoint(endpoint(app))  # created after the message: no delivery yet
    delivery = await store.requeue(app.id, msg.id, later.id, now=utcnow())
    assert delivery.status is DeliveryStatus.PENDING
    assert {c.endpoint_id for c in await claim_all(store)} == {later.id}


async def test_messages_list_newest_first_with_filters(store: Store) -> None:
    app = await store.create_application(application())
    made = [await store.create_message(message(app, t), now=utcnow()) for t in ("a.x", "b.y", "a.x")]
    page = await store.list_messages(app.id, limit=10, iterator=None, where=MessageFilter())
    assert [m.id for m in page.items] == [m.id for m, _ in reversed(made)]
    only_a = await store.list_messages(
        app.id, limit=10, iterator=None, where=MessageFilter(event_types=("a.x",))
    )
    assert [m.event_type for m in only_a.items] == ["a.x", "a.x"]
    first = await store.list_messages(app.id, limit=1, iterator=None, where=MessageFilter())
    second = await store.list_messages(app.id, limit=1, iterator=first.iterator, where=MessageFilter())
    assert second.items[0].id == made[1][0].id
    future = MessageFilter(after=utcnow() + timedelta(seconds=5))
    assert (await store.list_messages(app.id, limit=10, iterator=None, where=future)).items == ()


async def test_deleting_an_application_deletes_everything_in_it(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    msg, _ = await store.create_message(message(app), now=utcnow())
    await store.delete_application(app.id)
    with pytest.raises(NotFound):
        await store.get_message(app.id, msg.id)
    assert await store.next_due() is None
