"""Delivery end to end: a real engine on SQLite posting to real receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hookwire import AttemptError, DeliveryEvent, DeliveryStatus, Settings, Webhooks
from hookwire.core.clock import utcnow
from hookwire.receiver import verify
from hookwire.testing import Receiver, Reply
from tests.conftest import HooksFactory


@pytest.fixture
def database_url(each_database_url: str) -> str:
    """Every delivery test runs on both backends."""
    return each_database_url


async def test_retries_until_success_with_same_id_and_valid_signatures(
    hooks: Webhooks, receiver: Receiver
) -> None:
    receiver.respond(Reply(500, b"boom 1"), Reply(500, b"boom 2"), Reply(200, b"thanks"))
    endpoint = await hooks.add("order.created", receiver.url)
    receiver.secret = endpoint.secret

    message = await hooks.trigger("order.created", {"order": 42})
    requests = await receiver.wait_for(3)
    await hooks.wait_until_idle()

    assert [r.webhook_id for r in requests] == [message.id] * 3
    assert all(r.verified for r in requests)
    assert all(r.body == message.payload for r in requests)  # identical bytes on every retry
    assert {r.headers["webhook-timestamp"] for r in requests} != set()
    assert requests[0].headers["content-type"] == "application/json"
    assert requests[0].headers["user-agent"].startswith("hookwire/")

    attempts = (await hooks.attempts.by_message("default", message.id)).items
    assert [(a.number, a.status_code, a.succeeded) for a in reversed(attempts)] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert [a.response_body for a in reversed(attempts)] == [b"boom 1", b"boom 2", b"thanks"]
    assert all(a.duration_ms >= 0 for a in attempts)
    [delivery] = await hooks.messages.deliveries("default", message.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3


async def test_loopback_is_blocked_by_default(make_hooks: HooksFactory, receiver: Receiver) -> None:
    hooks = await make_hooks(Settings(retry_schedule=(0, 0.05), retry_jitter=0))
    await hooks.add("order.created", receiver.url)
    message = await hooks.trigger("order.created", {"order": 1})
    await hooks.wait_until_idle()

    assert receiver.requests == []
    [attempt] = (await hooks.attempts.by_message("default", message.id)).items
    assert attempt.error is AttemptError.BLOCKED
    assert attempt.status_code is None
    assert "127.0.0.1" not in (attempt.error_detail or "")
    [delivery] = await hooks.messages.deliveries("default", message.id)
    assert delivery.status is DeliveryStatus.FAILED  # refused destinations are not retried


async def test_allow_networks_lets_loopback_through(make_hooks: HooksFactory, receiver: Receiver) -> None:
    hooks = await make_hooks(Settings(allow_networks=["127.0.0.0/8"]))
    await hooks.add("order.created", receiver.url)
    await hooks.trigger("order.created", {"order": 1})
    await receiver.wait_for(1)


async def test_response_body_is_capped_and_3xx_not_followed(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.respond(
        Reply(302, headers={"Location": "http://127.0.0.1:1/elsewhere"}), Reply(200, b"x" * 100_000)
    )
    await hooks.add("a.b", receiver.url)
    message = await hooks.trigger("a.b", {})
    await receiver.wait_for(2)
    await hooks.wait_until_idle()
    attempts = list(reversed((await hooks.attempts.by_message("default", message.id)).items))
    assert [a.status_code for a in attempts] == [302, 200]
    assert len(receiver.requests) == 2  # the redirect was not followed
    assert len(attempts[1].response_body) == hooks.settings.stored_response_bytes


async def test_fan_out_honours_filters(hooks: Webhooks) -> None:
    async with Receiver() as orders, Receiver() as everything, Receiver() as invoices:
        await hooks.endpoints.create("default", orders.url, filter_types=["order.*"])
        await hooks.endpoints.create("default", everything.url)
        await hooks.endpoints.create("default", invoices.url, filter_types=["invoice.paid"])
        await hooks.trigger("order.created", {"n": 1})
        await hooks.trigger("invoice.paid", {"n": 2})
        await hooks.trigger("user.deleted", {"n": 3})
        await hooks.wait_until_idle()
        assert [r.json()["n"] for r in orders.requests] == [1]
        assert sorted(r.json()["n"] for r in everything.requests) == [1, 2, 3]
        assert [r.json()["n"] for r in invoices.requests] == [2]


async def test_gone_disables_the_endpoint(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.respond(410)
    endpoint = await hooks.add("a.b", receiver.url)
    await hooks.trigger("a.b", {})
    await hooks.wait_until_idle()
    disabled = await hooks.endpoints.get("default", endpoint.id)
    assert disabled.disabled
    assert "410" in (disabled.disabled_reason or "")

    await hooks.trigger("a.b", {})  # a disabled endpoint gets no new deliveries
    await hooks.wait_until_idle()
    assert len(receiver.requests) == 1

    enabled = await hooks.endpoints.enable("default", endpoint.id)
    assert not enabled.disabled
    await hooks.trigger("a.b", {})
    await receiver.wait_for(2)


async def test_retry_after_pushes_the_next_attempt_later(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.respond(Reply(429, headers={"Retry-After": "120"}))
    await hooks.add("a.b", receiver.url)
    before = utcnow()
    message = await hooks.trigger("a.b", {})
    await receiver.wait_for(1)
    for _ in range(100):
        [delivery] = await hooks.messages.deliveries("default", message.id)
        if delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1:
            break
        await _tick()
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)


async def test_resend_and_recover(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.respond(500, 500, 500, 500)  # the test schedule has four attempts
    endpoint = await hooks.add("a.b", receiver.url)
    since = utcnow() - timedelta(seconds=1)
    failed = await hooks.trigger("a.b", {"n": 1})
    await hooks.wait_until_idle()
    [delivery] = await hooks.messages.deliveries("default", failed.id)
    assert delivery.status is DeliveryStatus.FAILED

    assert await hooks.recover(endpoint.id, since) == 1
    await receiver.wait_for(5)
    await hooks.wait_until_idle()
    [delivery] = await hooks.messages.deliveries("default", failed.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED

    await hooks.resend(failed.id, endpoint.id)
    requests = await receiver.wait_for(6)
    assert requests[-1].webhook_id == failed.id
    await hooks.wait_until_idle()
    attempts = (await hooks.attempts.by_endpoint("default", endpoint.id)).items
    assert attempts[0].number == 6
    assert attempts[0].trigger.value == "manual"


async def test_event_id_is_idempotent(hooks: Webhooks, receiver: Receiver) -> None:
    await hooks.add("a.b", receiver.url)
    first = await hooks.messages.create("default", "a.b", {"n": 1}, event_id="evt-1")
    second = await hooks.messages.create("default", "a.b", {"n": 2}, event_id="evt-1")
    assert second.id == first.id
    assert second.data() == {"n": 1}
    await hooks.wait_until_idle()
    assert len(receiver.requests) == 1


async def test_callbacks_hear_success_and_failure(hooks: Webhooks, receiver: Receiver) -> None:
    heard: list[DeliveryEvent] = []
    hooks.on_failure(heard.append)
    retried = asyncio.Event()

    @hooks.on_success
    async def succeeded(event: DeliveryEvent) -> None:
        heard.append(event)
        retried.set()

    receiver.respond(503)
    await hooks.add("a.b", receiver.url)
    message = await hooks.trigger("a.b", {})
    # Callbacks run once a result is committed: waiting until nothing is due could return
    # between the retry's commit and its callback.
    async with asyncio.timeout(30):
        await retried.wait()
    assert [(e.message_id, e.succeeded, e.status_code) for e in heard] == [
        (message.id, False, 503),
        (message.id, True, 200),
    ]
    assert heard[0].next_attempt_at is not None


async def test_custom_headers_are_sent_and_rotation_signs_with_both(
    hooks: Webhooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoints.create(
        "default", receiver.url, headers={"Authorization": "Bearer t0ken"}
    )
    old_secret = endpoint.secret
    new_secret = await hooks.endpoints.rotate_secret("default", endpoint.id)
    message = await hooks.messages.create("default", "a.b", {"n": 1}, headers={"X-Tenant": "acme"})
    [request] = await receiver.wait_for(1)
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.headers["x-tenant"] == "acme"
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert verify(request.body, request.headers, secret) == message.data()


async def test_quick_api(hooks: Webhooks) -> None:
    first = await hooks.add("order.created", "https://example.com/a")
    again = await hooks.add("order.paid", "https://example.com/a")
    await hooks.add("order.created", "https://example.com/b")
    assert again.id == first.id
    assert again.secret == first.secret
    assert await hooks.get_db() == {
        "order.created": ["https://example.com/a", "https://example.com/b"],
        "order.paid": ["https://example.com/a"],
    }
    assert await hooks.get_webhook("order.paid") == ["https://example.com/a"]
    assert await hooks.remove("order.created", "https://example.com/b") == 1
    assert await hooks.remove("order.created") == 1
    assert await hooks.get_db() == {"order.paid": ["https://example.com/a"]}


async def _tick() -> None:
    await asyncio.sleep(0.02)


pytestmark = pytest.mark.timeout(60)
