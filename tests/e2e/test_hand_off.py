"""Hand-offs through the engine: a message created where the worker runs is sent without a
claim, and a stop leaves nothing leased."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hookwire import Settings, Webhooks
from hookwire.core.types import DeliveryStatus
from hookwire.store.base import Claim
from hookwire.testing import Receiver
from tests.conftest import LOOPBACK


@pytest.fixture
def database_url(each_database_url: str) -> str:
    return each_database_url


async def test_a_message_created_in_process_is_sent_without_a_claim(
    database_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    claimed: list[str] = []
    settings = Settings(allow_networks=LOOPBACK)
    async with Webhooks(database_url, settings=settings) as hooks:
        claim_due = hooks.store.claim_due

        async def claim_and_note(**kwargs: Any) -> list[Claim]:
            claims = await claim_due(**kwargs)
            claimed.extend(c.delivery_id for c in claims)
            return claims

        monkeypatch.setattr(hooks.store, "claim_due", claim_and_note)
        await hooks.add("order.created", receiver.url)
        sent = [await hooks.trigger("order.created", {"n": n}) for n in range(5)]
        await receiver.wait_for(5)
        await hooks.wait_until_idle()
        deliveries = [d for m in sent for d in await hooks.messages.deliveries("default", m.id)]

    assert sorted(r.webhook_id for r in receiver.requests) == sorted(m.id for m in sent)
    assert {d.status for d in deliveries} == {DeliveryStatus.SUCCEEDED}
    assert claimed == []


async def test_stopping_while_deliveries_are_handed_off_leaves_none_leased(
    database_url: str, receiver: Receiver
) -> None:
    settings = Settings(allow_networks=LOOPBACK, endpoint_concurrency=2)
    hooks = await Webhooks(database_url, settings=settings).open()
    await hooks.add("order.created", receiver.url)
    sent = await asyncio.gather(*(hooks.trigger("order.created", {"n": n}) for n in range(200)))
    await hooks.close()  # most are still handed off and waiting for the endpoint's two slots

    # Whatever the stop did not send was handed back, due now, not left leased for a lease.
    async with Webhooks(database_url, settings=settings) as reopened:
        await reopened.wait_until_idle(timeout=20)
    assert {r.webhook_id for r in receiver.requests} == {m.id for m in sent}
