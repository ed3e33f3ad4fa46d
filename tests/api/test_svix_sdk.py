"""The official Svix Python SDK, unchanged, against a real ``hookwire serve`` process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import svix.webhooks
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EndpointSecretRotateIn,
    MessageIn,
    SvixAsync,
    SvixOptions,
)
from svix.exceptions import HttpError

from hookwire.testing import Receiver
from tests.api.server import Server


@pytest.fixture
async def client(server: Server) -> AsyncIterator[SvixAsync]:
    sdk = SvixAsync(server.admin_key, SvixOptions(server_url=server.url))
    yield sdk
    await sdk._httpx_client.aclose()  # the SDK has no public close


async def test_the_svix_sdk_drives_hookwire(client: SvixAsync) -> None:
    async with Receiver() as orders, Receiver() as everything:
        app = await client.application.create(ApplicationIn(name="Acme", uid="acme"))
        again = await client.application.get_or_create(ApplicationIn(name="Acme", uid="acme"))
        assert again.id == app.id
        orders_ep = await client.endpoint.create(
            app.id, EndpointIn(url=orders.url, event_types=["order.created"])
        )
        all_ep = await client.endpoint.create("acme", EndpointIn(url=everything.url, description="all"))

        created = await client.message.create(
            app.id, MessageIn(event_type="order.created", payload={"id": 1})
        )
        other = await client.message.create(app.id, MessageIn(event_type="user.signup", payload={"id": 2}))
        await everything.wait_for(2)
        [order_request] = await orders.wait_for(1)
        await asyncio.sleep(0.3)
        assert [r.json() for r in orders.requests] == [{"id": 1}]  # the filter held back user.signup

        secret = (await client.endpoint.get_secret(app.id, orders_ep.id)).key
        svix.webhooks.Webhook(secret).verify(order_request.body, dict(order_request.headers))

        attempts = await client.message_attempt.list_by_msg(app.id, created.id)
        assert {a.endpoint_id for a in attempts.data} == {orders_ep.id, all_ep.id}
        assert all(a.response_status_code == 200 for a in attempts.data)
        by_endpoint = await client.message_attempt.list_by_endpoint(app.id, all_ep.id)
        assert {a.msg_id for a in by_endpoint.data} == {created.id, other.id}

        await client.endpoint.rotate_secret(app.id, orders_ep.id, EndpointSecretRotateIn())
        new_secret = (await client.endpoint.get_secret(app.id, orders_ep.id)).key
        assert new_secret != secret
        await client.message_attempt.resend(app.id, created.id, orders_ep.id)
        [_, resent] = await orders.wait_for(2)
        assert resent.webhook_id == created.id
        for key in (new_secret, secret):  # both sign during the rotation overlap
            svix.webhooks.Webhook(key).verify(resent.body, dict(resent.headers))

        listed = await client.message.list(app.id)
        assert [m.id for m in listed.data] == [other.id, created.id]
        assert (await client.message.get(app.id, created.id)).payload == {"id": 1}


async def test_sdk_errors_carry_status_and_code(client: SvixAsync) -> None:
    with pytest.raises(HttpError) as raised:
        await client.application.get("app_missing")
    assert raised.value.status_code == 404
    assert raised.value.code == "not_found"
