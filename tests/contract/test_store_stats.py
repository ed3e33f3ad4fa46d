"""The dashboard's figures and searches, on every backend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from hookwire.core.clock import utcnow
from hookwire.core.errors import NotFound
from hookwire.core.stats import MessageSearch
from hookwire.core.types import Application, DeliveryStatus
from hookwire.store.base import EndpointHealth, Store
from tests.contract.test_store import application, claim_all, endpoint, message, result

OK, RETRY, FAILED = DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING, DeliveryStatus.FAILED


async def deliver(store: Store, app: Application, *outcomes: DeliveryStatus) -> list[str]:
    """Send one message per outcome to the application's endpoints and record that outcome for
    every delivery; returns the message ids."""
    made = [(await store.create_message(message(app), now=utcnow()))[0].id for _ in outcomes]
    claims = await claim_all(store)
    by_message = dict(zip(made, outcomes, strict=True))
    results = [
        result(c, by_message[c.message_id], code=200 if by_message[c.message_id] is OK else 500)
        for c in claims
    ]
    await store.record_results(results, now=utcnow())
    return made


async def test_timeline_counts_attempts_per_bucket(store: Store) -> None:
    app = await store.create_application(application("a"))
    other = await store.create_application(application("b"))
    for owner in (app, other):
        await store.create_endpoint(endpoint(owner))
    await deliver(store, app, OK, OK, RETRY)
    await deliver(store, other, OK)

    since = utcnow() - timedelta(minutes=30)
    [bucket] = await store.attempt_timeline(app_id=app.id, since=since, bucket=timedelta(hours=1))
    assert (bucket.succeeded, bucket.failed) == (2, 1)
    assert bucket.start <= utcnow() < bucket.start + timedelta(hours=1)
    everywhere = await store.attempt_timeline(app_id=None, since=since, bucket=timedelta(minutes=1))
    assert sum(b.attempts for b in everywhere) == 4
    assert [b.start for b in everywhere] == sorted(b.start for b in everywhere)
    later = utcnow() + timedelta(minutes=1)
    assert await store.attempt_timeline(app_id=None, since=later, bucket=timedelta(minutes=1)) == []


async def test_timeline_leaves_out_attempts_started_before_the_window(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    [claim] = await claim_all(store)
    done = result(claim, OK)
    assert done.attempt is not None
    early = dataclasses.replace(done.attempt, started_at=utcnow() - timedelta(hours=2))
    await store.record_results([dataclasses.replace(done, attempt=early)], now=utcnow())
    since = utcnow() - timedelta(hours=1)
    assert await store.attempt_timeline(app_id=app.id, since=since, bucket=timedelta(minutes=5)) == []


async def test_endpoint_activity(store: Store) -> None:
    app = await store.create_application(application("a"))
    busy = await store.create_endpoint(endpoint(app))
    await deliver(store, app, OK, FAILED, OK)
    idle = await store.create_endpoint(endpoint(app))
    foreign = await store.create_endpoint(endpoint(await store.create_application(application("b"))))

    since = utcnow() - timedelta(hours=1)
    found = await store.endpoint_activity(app.id, [busy.id, idle.id, foreign.id], since=since)
    by_id = {a.endpoint_id: a for a in found}
    assert set(by_id) == {busy.id, idle.id}
    assert (by_id[busy.id].attempts, by_id[busy.id].succeeded) == (3, 2)
    assert by_id[busy.id].success_ratio == pytest.approx(2 / 3)
    assert by_id[busy.id].last_attempt_at is not None
    assert by_id[busy.id].last_succeeded is not None
    assert by_id[busy.id].last_status_code in (200, 500)
    assert (by_id[idle.id].attempts, by_id[idle.id].last_attempt_at) == (0, None)
    assert by_id[idle.id].success_ratio is None
    # Outside the window the counts are zero, but the last attempt is still known.
    [quiet] = await store.endpoint_activity(app.id, [busy.id], since=utcnow() + timedelta(minutes=1))
    assert quiet.attempts == 0
    assert quiet.last_attempt_at is not None


async def test_troubled_endpoints_are_disabled_or_failing(store: Store) -> None:
    app = await store.create_application(application("a"))
    other = await store.create_application(application("b"))
    failing = await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    [claim] = await claim_all(store)
    unhealthy = result(claim, RETRY, code=500, health=EndpointHealth(succeeded=False))
    await store.record_results([unhealthy], now=utcnow())
    await store.create_endpoint(endpoint(app))  # healthy
    off = await store.create_endpoint(endpoint(app))
    await store.set_endpoint_disabled(app.id, off.id, disabled=True, reason="by hand", now=utcnow())
    elsewhere = await store.create_endpoint(endpoint(other))
    await store.set_endpoint_disabled(other.id, elsewhere.id, disabled=True, reason="x", now=utcnow())

    found = await store.troubled_endpoints(app.id, limit=10)
    assert [e.id for e in found] == [off.id, failing.id]  # disabled first
    assert found[0].disabled_reason == "by hand"
    assert {e.id for e in await store.troubled_endpoints(None, limit=10)} == {
        off.id,
        failing.id,
        elsewhere.id,
    }
    assert len(await store.troubled_endpoints(None, limit=1)) == 1


async def test_backlog_per_application(store: Store) -> None:
    app = await store.create_application(application("a"))
    other = await store.create_application(application("b"))
    assert (await store.backlog(None)).pending == 0
    assert (await store.backlog(None)).oldest_pending_at is None
    await store.create_endpoint(endpoint(app))
    await store.create_endpoint(endpoint(app))
    await store.create_message(message(app), now=utcnow())
    await store.create_message(message(app), now=utcnow())

    mine = await store.backlog(app.id)
    assert mine.pending == 4
    assert mine.oldest_pending_at is not None
    assert mine.oldest_pending_at <= utcnow()
    assert (await store.backlog(other.id)).pending == 0
    assert (await store.backlog(None)).pending == 4


async def test_count_recoverable_matches_recover(store: Store) -> None:
    app = await store.create_application(application())
    ep = await store.create_endpoint(endpoint(app))
    since = utcnow() - timedelta(seconds=1)
    await deliver(store, app, FAILED, FAILED, OK)

    assert await store.count_recoverable(app.id, ep.id, since=since) == 2
    assert await store.count_recoverable(app.id, ep.id, since=utcnow() + timedelta(seconds=5)) == 0
    other = await store.create_application(application("other"))
    assert await store.count_recoverable(other.id, ep.id, since=since) == 0
    assert await store.recover(app.id, ep.id, since=since, now=utcnow()) == 2
    assert await store.count_recoverable(app.id, ep.id, since=since) == 0


async def test_search_messages(store: Store) -> None:
    app = await store.create_application(application("a"))
    other = await store.create_application(application("b"))
    await store.create_endpoint(endpoint(app))
    failed, succeeded = await deliver(store, app, FAILED, OK)
    paid, _ = await store.create_message(message(app, "invoice.paid"), now=utcnow())
    foreign, _ = await store.create_message(message(other), now=utcnow())

    async def ids(where: MessageSearch, limit: int = 10) -> list[str]:
        return [m.id for m in (await store.search_messages(where, limit=limit, iterator=None)).items]

    assert await ids(MessageSearch()) == [foreign.id, paid.id, succeeded, failed]
    assert await ids(MessageSearch(app_id=app.id)) == [paid.id, succeeded, failed]
    assert await ids(MessageSearch(event_type="invoice.paid")) == [paid.id]
    assert await ids(MessageSearch(status=FAILED)) == [failed]
    assert await ids(MessageSearch(app_id=app.id, status=DeliveryStatus.PENDING)) == [paid.id]
    assert await ids(MessageSearch(after=utcnow() + timedelta(seconds=5))) == []
    assert await ids(MessageSearch(before=utcnow() - timedelta(minutes=5))) == []

    first = await store.search_messages(MessageSearch(app_id=app.id), limit=2, iterator=None)
    assert not first.done
    rest = await store.search_messages(MessageSearch(app_id=app.id), limit=2, iterator=first.iterator)
    assert [m.id for m in rest.items] == [failed]
    assert rest.done


async def test_message_delivery_counts(store: Store) -> None:
    app = await store.create_application(application())
    await store.create_endpoint(endpoint(app))
    await store.create_endpoint(endpoint(app))
    [sent] = await deliver(store, app, OK)
    waiting, _ = await store.create_message(message(app), now=utcnow())

    counts = await store.message_delivery_counts([sent, waiting.id, "msg_unknown"])
    assert counts[sent][OK] == 2
    assert counts[waiting.id][DeliveryStatus.PENDING] == 2
    assert counts[waiting.id][OK] == 0
    assert sum(counts["msg_unknown"].values()) == 0


async def test_message_for_one_endpoint_ignores_filters(store: Store) -> None:
    app = await store.create_application(application("a"))
    target = await store.create_endpoint(endpoint(app, filter_types=("order.*",)))
    await store.create_endpoint(endpoint(app))  # would receive every event type
    test = message(app, "hookwire.test")
    await store.create_message_for_endpoint(test, target.id, now=utcnow())

    [delivery] = await store.list_deliveries(app.id, test.id)
    assert delivery.endpoint_id == target.id
    assert delivery.status is DeliveryStatus.PENDING
    [claim] = await claim_all(store)
    assert claim.endpoint_id == target.id

    foreign = await store.create_endpoint(endpoint(await store.create_application(application("b"))))
    stray = message(app)
    with pytest.raises(NotFound):
        await store.create_message_for_endpoint(stray, foreign.id, now=utcnow())
    with pytest.raises(NotFound):
        await store.get_message(app.id, stray.id)
