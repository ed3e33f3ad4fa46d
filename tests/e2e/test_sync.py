"""The blocking facade, as Django or Flask code would use it, and interoperability: what a
real delivery carries verifies with the official standardwebhooks and svix libraries."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import standardwebhooks
import svix.webhooks

from hookwire import DeliveryEvent, NotFound, Settings
from hookwire.sync import Webhooks as SyncWebhooks
from hookwire.testing import Receiver


@pytest.fixture
def running_receiver() -> Iterator[Receiver]:
    """A receiver on its own event loop thread, for tests that are not async themselves."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    receiver = Receiver()
    asyncio.run_coroutine_threadsafe(receiver.start(), loop).result()
    yield receiver
    asyncio.run_coroutine_threadsafe(receiver.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def test_sync_facade_delivers_and_verifies_with_official_libraries(
    database_url: str, settings: Settings, running_receiver: Receiver
) -> None:
    delivered: list[DeliveryEvent] = []
    with SyncWebhooks(database_url, settings=settings) as hooks:
        hooks.on_success(delivered.append)
        endpoint = hooks.add("order.created", running_receiver.url)
        assert hooks.get_webhook("order.created") == [running_receiver.url]
        message = hooks.trigger("order.created", {"order": 7})
        hooks.wait_until_idle()
        page = hooks.attempts.by_message("default", message.id)
        assert [a.status_code for a in page.items] == [200]
        with pytest.raises(NotFound):
            hooks.messages.get("default", "msg_missing")

    [request] = running_receiver.requests
    assert [e.message_id for e in delivered] == [message.id]
    assert standardwebhooks.Webhook(endpoint.secret).verify(request.body.decode(), dict(request.headers)) == {
        "order": 7
    }
    svix.webhooks.Webhook(endpoint.secret).verify(request.body, dict(request.headers))  # raises if invalid
